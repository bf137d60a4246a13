"""Accounts and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import ApiToken, User, hash_token
from app.auth.permissions import ROLES, role_can
from app.errors import Conflict, Invalid, Unauthorized
from app.extensions import db
from app.types import utcnow

TOKEN_TTL = timedelta(days=30)
MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_SCORE = 3  # zxcvbn: 0 (guessable in minutes) .. 4 (very unguessable)
_dummy_hash: str | None = None


def _dummy_password_hash() -> str:
    """A hash made like real ones: checking a password against it costs what a real check costs."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_urlsafe(16))
    return _dummy_hash


def check_password_policy(password: str, *, email: str = "", name: str = "") -> None:
    """At least MIN_PASSWORD_LENGTH characters and hard to guess (zxcvbn, which knows common
    passwords, keyboard walks, dates and the user's own e-mail and name); else Invalid."""
    from zxcvbn import zxcvbn

    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = str(_l("The password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH))
        raise Invalid(msg, fields={"password": [msg]})
    inputs = [v for v in (email, (email or "").split("@")[0], name) if v]
    if zxcvbn(password[:100], user_inputs=inputs)["score"] < MIN_PASSWORD_SCORE:
        msg = str(_l("This password is too easy to guess. Use a longer phrase or mix unrelated words."))
        raise Invalid(msg, fields={"password": [msg]})


def create_user(
    email: str,
    password: str,
    role: str = "customer",
    name: str = "",
    locale: str = "zh_Hans_CN",
    merchant_code: str | None = None,
) -> User:
    user = new_user(email, password, role, name, locale, merchant_code)
    db.session.commit()
    return user


def new_user(
    email: str,
    password: str,
    role: str = "customer",
    name: str = "",
    locale: str = "zh_Hans_CN",
    merchant_code: str | None = None,
) -> User:
    """A checked, not yet committed account (the caller commits, e.g. with its audit row). Role
    `merchant` is bound to one merchant (`merchant_code`, created if new)."""
    email = (email or "").strip().lower()
    if role not in ROLES:
        raise Invalid(str(_l("Unknown role.")), fields={"role": [f"one of {', '.join(ROLES)}"]})
    bound = role_can(role, "merchant_tickets")  # a merchant account answers for one merchant
    if bound != bool((merchant_code or "").strip()):
        raise Invalid(
            str(_l("A merchant account needs its merchant's code, and only a merchant account takes one.")),
            fields={"merchant": ["required for role merchant only"]},
        )
    if "@" not in email:
        raise Invalid(str(_l("A valid e-mail address is required.")), fields={"email": ["invalid"]})
    check_password_policy(password, email=email, name=name)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(str(_l("This e-mail is registered already.")), fields={"email": ["taken"]})
    user = User(email=email, role=role, name=name or "", locale=locale)
    if bound:
        from app.merchants.services import merchant_by_code

        user.merchant_id = merchant_by_code((merchant_code or "").strip(), create=True).id
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None. The same work is done whether the
    e-mail exists or not (a dummy hash is checked), so timing does not tell which accounts exist."""
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    ok = check_password_hash(user.password_hash if user else _dummy_password_hash(), password or "")
    if user is None or not ok or not user.is_active:
        return None
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password (policy checked) and end every session of the account (logout everywhere)."""
    if not check_password_hash(user.password_hash, current or ""):
        msg = str(_l("The current password is wrong."))
        raise Invalid(msg, fields={"current": [msg]})
    check_password_policy(new, email=user.email, name=user.name)
    user.set_password(new)
    user.session_version += 1
    db.session.commit()


def end_sessions(user: User) -> None:
    """Revoke every session cookie of `user` (they carry the old session version)."""
    user.session_version += 1
    db.session.commit()


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
    row = db.session.scalar(  # the token and its user in one statement
        select(ApiToken).where(ApiToken.token_hash == hash_token(token or "")).options(joinedload(ApiToken.user))
    )
    if row is None or (row.expires_at and row.expires_at < utcnow()) or not row.user.is_active:
        raise Unauthorized(str(_l("Invalid or expired token.")))
    return row.user


def register_customer(email: str, password: str, name: str = "", locale: str = "zh_Hans_CN") -> User | None:
    """Self-service sign-up: always a customer account. None when the e-mail is taken: the caller
    answers exactly as for a new account, so sign-up does not confirm which addresses exist."""
    email = (email or "").strip().lower()
    check_password_policy(password, email=email, name=name)
    if db.session.scalar(select(User.id).where(User.email == email)):
        generate_password_hash(password)  # the work a new account costs
        return None
    try:
        return create_user(email, password, role="customer", name=(name or "").strip()[:100], locale=locale)
    except Conflict:  # registered concurrently
        db.session.rollback()
        return None


def set_locale(user: User, locale: str) -> None:
    """Remember the language a user picked (the session keeps it too)."""
    if user.locale != locale:
        user.locale = locale
        db.session.commit()
