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
    user = new_user(email, password, role, name, locale)
    db.session.commit()
    return user


def new_user(email: str, password: str, role: str = "customer", name: str = "", locale: str = "zh_Hans_CN") -> User:
    """A checked, not yet committed account (the caller commits, e.g. with its audit row)."""
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
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None or not user.is_active or not user.check_password(password or ""):
        return None
    return user


def issue_token(user: User) -> str:
    token, _row = new_token(user)
    db.session.commit()
    return token


def new_token(user: User, ttl: timedelta = TOKEN_TTL, label: str = "") -> tuple[str, ApiToken]:
    """A fresh bearer token for `user` (only its hash is stored); not committed."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=hash_token(token), expires_at=utcnow() + ttl, label=label)
    db.session.add(row)
    db.session.flush()
    return token, row


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
