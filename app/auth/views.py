"""Log in, sign up and log out (HTML)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.forms import ChangePasswordForm, LoginForm, RegisterForm
from app.auth.models import User
from app.auth.permissions import can
from app.auth.services import authenticate, change_password, end_sessions, register_customer
from app.errors import DomainError
from app.extensions import db, limiter, login
from app.urls import safe_next

bp = Blueprint("auth", __name__)
login.login_view = "auth.login_page"
login.login_message = _l("Please log in to see this page.")
login.localize_callback = str  # the lazy message is translated when flashed
login.login_message_category = "info"


LANDING = (("pay", "payouts.queue"), ("queue", "tickets.queue"))  # first permission the user has wins


@login.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session cookie ("<id>:<session version>"); None once the version moved on
    (logout, password change) or the account is disabled."""
    user_id, _, version = (session_id or "").partition(":")
    if not (user_id.isdigit() and version.isdigit()) or len(user_id) > 18:
        return None
    user = db.session.get(User, int(user_id))
    ok = user is not None and user.is_active and str(user.session_version) == version
    return user if ok else None


def home_for(user: User) -> str:
    """Where a user lands after logging in: finance the desk they pay from, other staff the queue,
    everyone else the start page (customers see their orders there)."""
    for permission, endpoint in LANDING:
        if can(user, permission):
            return url_for(endpoint)
    return url_for("tickets.home")


def _safe_next(default: str) -> str:
    return safe_next(request.args.get("next"), default) or default


def account_key() -> str:
    """Rate-limit key of the account a log-in attempt names (form or JSON e-mail), not of the client."""
    email = request.form.get("email") if request.form else None
    if email is None and request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return "account:" + str(email or "").strip().lower()[:254]


def failed_login(response) -> bool:
    """Only failed attempts count against an account (its owner is not locked out by logging in)."""
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
@limiter.limit("5/minute;20/hour", key_func=account_key, methods=["POST"], deduct_when=failed_login)
def login_page():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_for(current_user))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422 if form.is_submitted() else 200
    user = authenticate(form.email.data, form.password.data)
    if user is None:
        flash(_("Wrong e-mail or password."), "error")
        return render_template("auth/login.html", form=form), 401
    login_user(user)
    return redirect(_safe_next(home_for(user)))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def register():
    form = RegisterForm()
    if not form.validate_on_submit():
        return render_template("auth/register.html", form=form), 422 if form.is_submitted() else 200
    try:
        register_customer(form.email.data, form.password.data, form.name.data, locale=str(get_locale()))
    except DomainError as exc:
        db.session.rollback()
        target = form.password if exc.fields and "password" in exc.fields else form.email
        target.errors = [*target.errors, exc.message]
        return render_template("auth/register.html", form=form), exc.status
    # The same answer whether the address was new or already registered (no account confirmation).
    flash(_("Thank you. If this address was new, its account is ready: log in with it."), "success")
    return redirect(url_for("auth.login_page"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password_page():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/password.html", form=form), 422 if form.is_submitted() else 200
    try:
        change_password(current_user, form.current.data, form.password.data)
    except DomainError as exc:
        db.session.rollback()
        target = form.current if exc.fields and "current" in exc.fields else form.password
        target.errors = [*target.errors, exc.message]
        return render_template("auth/password.html", form=form), exc.status
    logout_user()  # every session of the account ended with the password change
    flash(_("Password changed. Log in again with the new password."), "success")
    return redirect(url_for("auth.login_page"), code=303)


@bp.post("/logout")
@login_required
def logout():
    end_sessions(current_user)  # server-side: a copy of this session cookie no longer works
    logout_user()
    return redirect(url_for("auth.login_page"))
