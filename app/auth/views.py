"""Log in, sign up and log out (HTML)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.forms import LoginForm, RegisterForm
from app.auth.models import User
from app.auth.permissions import can
from app.auth.services import authenticate, register_customer
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
def load_user(user_id: str) -> User | None:
    """A disabled account's session stops working at its next request."""
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None


def home_for(user: User) -> str:
    """Where a user lands after logging in: finance the desk they pay from, other staff the queue,
    everyone else the start page (customers see their orders there)."""
    for permission, endpoint in LANDING:
        if can(user, permission):
            return url_for(endpoint)
    return url_for("tickets.home")


def _safe_next(default: str) -> str:
    return safe_next(request.args.get("next"), default) or default


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20/minute", methods=["POST"])
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
        user = register_customer(form.email.data, form.password.data, form.name.data, locale=str(get_locale()))
    except DomainError as exc:
        db.session.rollback()
        form.email.errors = [*form.email.errors, exc.message]
        return render_template("auth/register.html", form=form), exc.status
    login_user(user)
    flash(_("Welcome! Your account is ready."), "success")
    return redirect(home_for(user))


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("auth.login_page"))
