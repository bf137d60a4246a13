"""Accounts and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import ApiToken, User, hash_token
from app.auth.permissions import ROLES
from app.errors import Conflict, Invalid, Unauthorized
from app.extensions import db
from app.types import utcnow

TOKEN_TTL = timedelta(days=30)


def create_user(email: str, password: str, role: str = "customer", name: str = "", locale: str = "zh_Hans_CN") -> User:
    email = (email or "").strip().lower()
    if role not in ROLES:
        raise Invalid(str(_l("Unknown role.")), fields={"role": [f"one of {', '.join(ROLES)}"]})
    if "@" not in email:
        raise Invalid(str(_l("A valid e-mail address is required.")), fields={"email": ["invalid"]})
    if len(password or "") < 8:
        raise Invalid(str(_l("The password needs at least 8 characters.")), fields={"password": ["too short"]})
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(str(_l("This e-mail is registered already.")), fields={"email": ["taken"]})
    user = User(email=email, role=role, name=name or "", locale=locale)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None or not user.is_active or not user.check_password(password or ""):
        return None
    return user


def issue_token(user: User) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), expires_at=utcnow() + TOKEN_TTL))
    db.session.commit()
    return token


def user_for_token(token: str) -> User:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token or "")))
    if row is None or (row.expires_at and row.expires_at < utcnow()) or not row.user.is_active:
        raise Unauthorized(str(_l("Invalid or expired token.")))
    return row.user


def register_customer(email: str, password: str, name: str = "", locale: str = "zh_Hans_CN") -> User:
    """Self-service sign-up: always a customer account."""
    return create_user(email, password, role="customer", name=(name or "").strip()[:100], locale=locale)


def set_locale(user: User, locale: str) -> None:
    """Remember the language a user picked (the session keeps it too)."""
    if user.locale != locale:
        user.locale = locale
        db.session.commit()
