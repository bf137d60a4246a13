"""Knowledge-base pages: anyone reads (linked from the new-ticket form and the tracker, also the
public one); admins edit, see the history and restore. Parse → one service call → render."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.permissions import permission_required
from app.errors import Conflict, Invalid
from app.extensions import db
from app.kb import services
from app.kb.defaults import LANGS
from app.kb.forms import PageForm, RestoreForm

bp = Blueprint("kb", __name__, url_prefix="/help")
LANG_NAMES = {"zh": "中文", "en": "English"}


@bp.app_context_processor
def kb_helpers() -> dict:
    return {"KB_LANGS": LANGS, "KB_LANG_NAMES": LANG_NAMES}


@bp.get("/")
def index():
    return render_template("kb/index.html", pages=services.pages(services.page_lang()))


@bp.get("/<kind>")
def page(kind: str):
    return render_template("kb/page.html", page=services.current(kind, services.page_lang()))


@bp.route("/<kind>/<page_lang>/edit", methods=["GET", "POST"])
@permission_required("kb_edit")
def edit(kind: str, page_lang: str):
    lang = page_lang
    current = services.current(kind, lang)
    form = PageForm()
    if not form.is_submitted():
        form.title.data, form.body.data, form.base.data = current.title, current.body, current.number
    elif form.validate_on_submit():
        try:
            row = services.save(kind, lang, form.title.data, form.body.data, current_user, base=form.base.data)
        except (Invalid, Conflict) as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            return render_template("kb/edit.html", form=form, page=current), exc.status
        flash(_("Saved as version %(n)s.", n=row.number), "success")
        return redirect(url_for("kb.history", kind=kind, page_lang=lang))
    status = 422 if form.is_submitted() else 200
    return render_template("kb/edit.html", form=form, page=current), status


@bp.get("/<kind>/<page_lang>/history")
@permission_required("kb_edit")
def history(kind: str, page_lang: str):
    lang = page_lang
    current = services.current(kind, lang)
    versions = services.history(kind, lang, current_user)
    return render_template("kb/history.html", page=current, versions=versions, form=RestoreForm(base=current.number))


@bp.get("/<kind>/<page_lang>/versions/<int:number>")
@permission_required("kb_edit")
def version(kind: str, page_lang: str, number: int):
    lang = page_lang
    old = services.version(kind, lang, number, current_user)
    current = services.current(kind, lang)
    return render_template("kb/version.html", page=old, current=current, form=RestoreForm(base=current.number))


@bp.post("/<kind>/<page_lang>/versions/<int:number>/restore")
@permission_required("kb_edit")
def restore(kind: str, page_lang: str, number: int):
    lang = page_lang
    form = RestoreForm()
    if not form.validate_on_submit():
        flash(_("The page changed meanwhile. Look at the history again."), "error")
        return redirect(url_for("kb.history", kind=kind, page_lang=lang))
    try:
        row = services.restore(kind, lang, number, current_user, base=form.base.data)
    except (Invalid, Conflict) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("kb.history", kind=kind, page_lang=lang))
    flash(_("Version %(old)s restored as version %(n)s.", old=number, n=row.number), "success")
    return redirect(url_for("kb.history", kind=kind, page_lang=lang))
