"""The logged-in user's notices (list, open one, mark all read), channel settings, unsubscribe."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.permissions import permission_required
from app.extensions import csrf, db
from app.notifications import services
from app.notifications.messages import kind_name, render
from app.notifications.models import ContactPoint
from app.notifications.table import KINDS, OUTSIDE_CHANNELS, customer_kinds

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@permission_required("notifications")
def index():
    notes = [(n, ref, render(n.kind, n.params)) for n, ref in services.list_for(current_user)]
    return render_template("notifications/index.html", notes=notes)


@bp.get("/<int:note_id>")
@permission_required("notifications")
def open_notice(note_id: int):
    note = services.open_notice(current_user, note_id)
    if note is None:
        abort(404)
    ref = (note.params or {}).get("ref")
    return redirect(url_for("tickets.detail", ref=ref) if ref else url_for("notifications.index"))


@bp.post("/read")
@permission_required("notifications")
def mark_read():
    services.mark_all_read(current_user)
    return redirect(url_for("notifications.index"))


def _settings_kinds() -> list[str]:
    return customer_kinds() if current_user.role == "customer" else [k for k in KINDS if k not in customer_kinds()]


@bp.route("/settings", methods=["GET", "POST"])
@permission_required("notifications")
def settings():
    kinds = _settings_kinds()
    if request.method == "POST":
        pairs = (v.partition(":") for v in request.form.getlist("on"))  # "kind:channel"
        wanted = {(kind, channel) for kind, sep, channel in pairs if sep}
        phone = request.form.get("phone", "").strip()[:32]
        services.save_preferences(current_user, wanted, kinds, phone, request.form.get("push") == "1")
        flash(_("Your notification settings were saved."), "success")
        return redirect(url_for("notifications.settings"))
    contact = db.session.get(ContactPoint, current_user.id)
    return render_template(
        "notifications/settings.html",
        kinds=[(k, kind_name(k), KINDS[k]) for k in kinds],
        channels=OUTSIDE_CHANNELS,
        off=services.optouts(current_user),
        contact=contact,
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail clients' one-click POST carries no CSRF token
def unsubscribe(token: str):
    """From an e-mail's link: GET asks, POST (the button, or a mail client's one-click) unsubscribes."""
    found = services.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    user, kind = found
    done = request.method == "POST"
    if done:
        services.unsubscribe(user, kind)
    return render_template("notifications/unsubscribe.html", token=token, kind=kind_name(kind), done=done)


@bp.post("/urge/<ref>")
@permission_required("notifications")
def urge_ticket(ref: str):
    """The tracker's "催一下" button."""
    from app.errors import DomainError
    from app.notifications.urge import urge
    from app.tickets.services import get_ticket

    ticket = get_ticket(ref, current_user)
    try:
        urge(ticket, current_user)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(_("We told the team that you are waiting. The ticket now has a higher priority."), "success")
    return redirect(url_for("tickets.detail", ref=ticket.ref) + "#now-h")
