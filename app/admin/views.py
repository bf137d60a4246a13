"""Admin pages: users, API tokens, the audit log. Parse → one service call → render."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.admin import services
from app.admin.forms import (
    AuditFilterForm,
    ConfirmForm,
    RoleForm,
    TokenForm,
    UserFilterForm,
    UserForm,
    action_label,
)
from app.auth.permissions import NAV, ROLES, can, permission_required, role_can
from app.errors import DomainError, Invalid
from app.extensions import db
from app.tickets.progress import role_label

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The admin pages' tabs: the header's entries for these permissions, each shown only to who may open it.
TAB_PERMISSIONS = ("admin_users", "api_tokens", "audit_log", "calendar_admin", "incidents", "merchants_page")
TABS = tuple(entry for entry in NAV if entry[2] in TAB_PERMISSIONS)


@bp.app_context_processor
def admin_helpers() -> dict:
    return {"admin_tabs": lambda: [(str(label), ep) for label, ep, perm in TABS if can(current_user, perm)]}


def _secret_page(title: str, who: str, secret: str, back: str, status: int = 200):
    """A password or token, shown once and never cached."""
    resp = make_response(render_template("admin/secret.html", title=title, who=who, secret=secret, back=back), status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _checked(form) -> None:
    if not form.validate_on_submit():
        messages = [str(m) for errors in form.errors.values() for m in errors]
        raise Invalid("; ".join(messages) or str(_l("Some fields are invalid.")))


# --- users ----------------------------------------------------------------------------


@bp.get("/")
@permission_required("admin_users")
def index():
    return redirect(url_for("admin.users"))


@bp.route("/users", methods=["GET", "POST"])
@permission_required("admin_users")
def users():
    form = UserForm()
    status = 200
    if form.validate_on_submit():
        try:
            user, password = services.create_account(
                current_user,
                form.email.data,
                form.name.data,
                form.role.data,
                form.locale.data,
                merchant_code=form.merchant.data or None,
            )
        except DomainError as exc:
            db.session.rollback()
            form.email.errors = [*form.email.errors, exc.message]
            status = exc.status
        else:
            back = url_for("admin.user", user_id=user.id)
            return _secret_page(_("Account created"), user.email, password, back, 201)
    elif form.is_submitted():
        status = 422
    elif request.args.get("merchant"):  # "create an account" from a merchant's page: prefilled
        form.merchant.data = request.args["merchant"][:40]
        form.role.data = next(r for r in ROLES if role_can(r, "merchant_tickets"))
    filters = UserFilterForm(request.args)
    if not filters.validate():  # e.g. a NUL byte in the search box: a clear 422, never a 500
        raise Invalid(str(_l("Some filters are invalid.")), fields=filters.errors)
    page = services.users_page(q=filters.q.data or "", role=filters.role.data or "", page=filters.page.data or 1)
    return render_template("admin/users.html", form=form, filters=filters, page=page), status


@bp.get("/users/<int:user_id>")
@permission_required("admin_users")
def user(user_id: int):
    target = services.get_user(user_id)
    return render_template(
        "admin/user.html",
        target=target,
        role_form=RoleForm(formdata=None, role=target.role),
        confirm=ConfirmForm(),
        history=services.user_history(target.id),
        action_label=action_label,
    )


@bp.post("/users/<int:user_id>/role")
@permission_required("admin_users")
def change_role(user_id: int):
    form = RoleForm()
    _checked(form)
    target = services.change_role(current_user, user_id, form.role.data)
    flash(_("%(email)s is now: %(role)s.", email=target.email, role=role_label(target.role)), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/disable")
@permission_required("admin_users")
def disable(user_id: int):
    _checked(ConfirmForm())
    target = services.set_active(current_user, user_id, False)
    flash(_("%(email)s is disabled: no log-in, sessions and API tokens stop working.", email=target.email), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/enable")
@permission_required("admin_users")
def enable(user_id: int):
    _checked(ConfirmForm())
    target = services.set_active(current_user, user_id, True)
    flash(_("%(email)s can log in again.", email=target.email), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/password")
@permission_required("admin_users")
def reset_password(user_id: int):
    _checked(ConfirmForm())
    target, password = services.reset_password(current_user, user_id)
    return _secret_page(_("Password reset"), target.email, password, url_for("admin.user", user_id=user_id))


# --- API tokens -----------------------------------------------------------------------


@bp.route("/tokens", methods=["GET", "POST"])
@permission_required("api_tokens")
def tokens():
    form = TokenForm()
    clients = services.api_clients()
    form.user.choices = [SelectChoice(u.id, u.email) for u in clients]
    status = 200
    if form.validate_on_submit():
        try:
            token, row = services.create_token(current_user, form.user.data, form.label.data, form.days.data)
        except DomainError as exc:
            db.session.rollback()
            form.user.errors = [*form.user.errors, exc.message]
            status = exc.status
        else:
            return _secret_page(_("API token created"), row.user.email, token, url_for("admin.tokens"), 201)
    elif form.is_submitted():
        status = 422
    return render_template(
        "admin/tokens.html", form=form, clients=clients, tokens=services.client_tokens(), confirm=ConfirmForm()
    ), status


@bp.post("/tokens/<int:token_id>/revoke")
@permission_required("api_tokens")
def revoke_token(token_id: int):
    _checked(ConfirmForm())
    services.revoke_token(current_user, token_id)
    flash(_("The token is revoked; calls with it are refused from now on."), "success")
    return redirect(url_for("admin.tokens"))


# --- the audit log --------------------------------------------------------------------


@bp.get("/audit")
@permission_required("audit_log")
def audit_log():
    form = AuditFilterForm(request.args)
    form.actor.choices = [SelectChoice(0, _("Everyone"))] + [
        SelectChoice(u.id, u.email) for u in services.audit_actors()
    ]
    if not form.validate():
        raise Invalid(str(_l("Some filters are invalid.")), fields=form.errors)
    start, end = form.utc_range()
    page = services.audit_page(
        actor_id=form.actor.data or None, action=form.action.data or "", start=start, end=end, page=form.page.data or 1
    )
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("admin/audit.html", form=form, page=page, args=args, action_label=action_label)
