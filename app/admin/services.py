"""Admin verbs: accounts, API tokens for platform clients, the audit log. Each change and its
audit row commit together. Passwords and tokens made here are returned once and never stored."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from app.admin.models import AdminAction
from app.auth.models import ApiToken, User
from app.auth.permissions import ROLES, can, role_can, roles_with
from app.auth.services import new_token, new_user
from app.errors import Forbidden, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.types import utcnow

PAGE_SIZE = 50
TOKEN_DAYS = (30, 90, 365)
ACTIONS = (
    "user_created",
    "user_disabled",
    "user_enabled",
    "role_changed",
    "password_reset",
    "token_created",
    "token_revoked",
    # written by the other admin pages (merchants, incidents, the business calendar)
    "merchant_top_up",
    "merchant_suspend",
    "merchant_unsuspend",
    "merchant_blacklist",
    "merchant_unblacklist",
    "incident_declared",
    "incident_ended",
    "calendar_date_set",
    "calendar_date_removed",
    "kb_page_saved",
    "kb_page_restored",
    "macro_saved",
    "macro_deleted",
    "webhook_host_allowed",
)
T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    pages: int
    total: int


def _page(query: Select, page: int, count_query: Select) -> Page:
    total = db.session.scalar(count_query) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, page), pages)
    items = list(db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return Page(items, page, pages, total)


def _require(actor: User, permission: str) -> None:
    if not can(actor, permission):
        raise Forbidden(str(_l("Your account has no access to this page.")))


def record(
    actor: User | None, action: str, target_type: str, target_id: int | None, target_label: str = "", **detail: Any
) -> AdminAction:
    """Add an audit row for an admin action to the current transaction (the caller commits).

    Other admin pages (merchants, calendar, incidents) call this too, with their own action names."""
    row = AdminAction(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:254],
        detail=detail,
        at=utcnow(),
    )
    db.session.add(row)
    return row


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


# --- users --------------------------------------------------------------------------


def users_page(*, q: str = "", role: str = "", page: int = 1) -> Page[User]:
    where = []
    if q.strip():
        like = f"%{q.strip().lower()}%"
        where.append(or_(func.lower(User.email).like(like), func.lower(User.name).like(like)))
    if role:
        where.append(User.role == role)
    query = select(User).where(*where).order_by(User.email)
    return _page(query, page, select(func.count(User.id)).where(*where))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(str(_l("No such user.")))
    return user


def create_account(
    actor: User, email: str, name: str, role: str, locale: str, merchant_code: str | None = None
) -> tuple[User, str]:
    """A new account with a temporary password (returned once, for the admin to hand over). A
    merchant account is bound to its merchant (`merchant_code`) from the start."""
    _require(actor, "admin_users")
    password = temporary_password()
    user = new_user(
        email, password, role=role, name=(name or "").strip()[:100], locale=locale, merchant_code=merchant_code
    )
    details = {"role": role, **({"merchant": merchant_code} if merchant_code else {})}
    record(actor, "user_created", "user", user.id, user.email, **details)
    db.session.commit()
    return user, password


def _not_self(actor: User, user: User) -> None:
    """Admins cannot lock themselves out (so there is always an admin: the one acting)."""
    if user.id == actor.id:
        raise NotAllowed(str(_l("You cannot disable your own account or change your own role.")))


def set_active(actor: User, user_id: int, active: bool) -> User:
    """Disable (no log-in, sessions and API tokens stop working) or enable an account."""
    _require(actor, "admin_users")
    user = get_user(user_id)
    if user.is_active == active:
        return user
    _not_self(actor, user)
    user.is_active_flag = active
    record(actor, "user_enabled" if active else "user_disabled", "user", user.id, user.email)
    db.session.commit()
    return user


def change_role(actor: User, user_id: int, role: str) -> User:
    _require(actor, "admin_users")
    if role not in ROLES:
        raise Invalid(str(_l("Unknown role.")), fields={"role": [f"one of {', '.join(ROLES)}"]})
    user = get_user(user_id)
    if user.role == role:
        return user
    _not_self(actor, user)
    if role_can(role, "merchant_tickets") or user.merchant_id is not None:
        # a merchant account answers for one merchant from its creation; staff never hold one
        raise NotAllowed(
            str(_l("Merchant accounts are created with their merchant; their role cannot be changed.")),
            fields={"role": ["merchant accounts are not converted"]},
        )
    old, user.role = user.role, role
    record(actor, "role_changed", "user", user.id, user.email, old=old, new=role)
    db.session.commit()
    return user


def reset_password(actor: User, user_id: int) -> tuple[User, str]:
    """A new temporary password (returned once); the old one stops working."""
    _require(actor, "admin_users")
    user = get_user(user_id)
    password = temporary_password()
    user.set_password(password)
    record(actor, "password_reset", "user", user.id, user.email)
    db.session.commit()
    return user, password


# --- API tokens -----------------------------------------------------------------------


def api_clients() -> list[User]:
    """Active accounts that may hold admin-issued tokens (the platform's machine clients)."""
    q = select(User).where(User.role.in_(roles_with("api_client")), User.is_active_flag.is_(True))
    return list(db.session.scalars(q.order_by(User.email)))


def client_tokens() -> list[ApiToken]:
    """Every token of the API-client accounts, newest first (log-in tokens included)."""
    q = (
        select(ApiToken)
        .join(User, ApiToken.user_id == User.id)
        .where(User.role.in_(roles_with("api_client")))
        .options(selectinload(ApiToken.user))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.session.scalars(q))


def create_token(actor: User, user_id: int, label: str, days: int) -> tuple[str, ApiToken]:
    """A bearer token for a platform client, valid `days` days; the token is returned once."""
    _require(actor, "api_tokens")
    user = get_user(user_id)
    if not can(user, "api_client") or not user.is_active:
        raise Invalid(str(_l("Tokens are issued to active platform accounts.")), fields={"user": ["not a client"]})
    if days not in TOKEN_DAYS:
        raise Invalid(str(_l("Choose a validity.")), fields={"days": [", ".join(map(str, TOKEN_DAYS))]})
    label = (label or "").strip()[:100]
    token, row = new_token(user, timedelta(days=days), label=label)
    record(actor, "token_created", "token", row.id, user.email, label=label, days=days)
    db.session.commit()
    return token, row


def revoke_token(actor: User, token_id: int) -> None:
    """The token stops working at once (the row goes; the audit log keeps what it was)."""
    _require(actor, "api_tokens")
    row = db.session.get(ApiToken, token_id)
    if row is None or not can(row.user, "api_client"):
        raise NotFound(str(_l("No such token.")))
    record(actor, "token_revoked", "token", row.id, row.user.email, label=row.label)
    db.session.delete(row)
    db.session.commit()


# --- the audit log -----------------------------------------------------------------------


def audit_page(
    *,
    actor_id: int | None = None,
    action: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    page: int = 1,
) -> Page[AdminAction]:
    """Admin actions newest first; `start` inclusive, `end` exclusive (UTC)."""
    where = []
    if actor_id:
        where.append(AdminAction.actor_id == actor_id)
    if action:
        where.append(AdminAction.action == action)
    if start is not None:
        where.append(AdminAction.at >= start)
    if end is not None:
        where.append(AdminAction.at < end)
    query = (
        select(AdminAction)
        .where(*where)
        .options(selectinload(AdminAction.actor))
        .order_by(AdminAction.at.desc(), AdminAction.id.desc())
    )
    return _page(query, page, select(func.count(AdminAction.id)).where(*where))


def user_history(user_id: int, limit: int = 20) -> list[AdminAction]:
    """The latest admin actions on one account (its page shows them)."""
    q = (
        select(AdminAction)
        .where(AdminAction.target_type == "user", AdminAction.target_id == user_id)
        .options(selectinload(AdminAction.actor))
        .order_by(AdminAction.at.desc(), AdminAction.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(q))


def audit_actors() -> list[User]:
    """Everyone who appears as an actor in the log (for the filter)."""
    ids = select(AdminAction.actor_id).where(AdminAction.actor_id.is_not(None)).distinct()
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.email)))
