"""Merchant verbs: look-ups scoped to the viewer, the merchant's answers, suspend/blacklist.

Plain values and the acting user in; domain errors out. Money in cents.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.auth.models import User
from app.auth.permissions import can
from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.merchants.access import may_view_merchant
from app.merchants.models import Merchant, MerchantAction
from app.tickets.models import Order, Ticket
from app.types import utcnow
from app.workflow.machine import OPEN_STATES


def merchant_by_code(code: str, *, create: bool = False) -> Merchant:
    merchant = db.session.scalar(select(Merchant).where(Merchant.code == code))
    if merchant is None:
        if not create or not code or len(code) > 40:
            raise NotFound(str(_l("No such merchant.")))
        merchant = Merchant(code=code, name=code)
        db.session.add(merchant)
        db.session.flush()
    return merchant


def merchant_by_id(merchant_id: int | None) -> Merchant:
    merchant = db.session.get(Merchant, merchant_id) if merchant_id is not None else None
    if merchant is None:
        raise NotFound(str(_l("No such merchant.")))
    return merchant


def all_merchants() -> list[Merchant]:
    return list(db.session.scalars(select(Merchant).order_by(Merchant.code)))


def visible_merchant(code: str, user: User) -> Merchant:
    """The merchant `code` if `user` (staff, or that merchant's own user) may see it; else not found."""
    merchant = db.session.scalar(select(Merchant).where(Merchant.code == code))
    if merchant is None or not may_view_merchant(user, merchant):
        raise NotFound(str(_l("No such merchant.")))
    return merchant


def open_complaints(merchant_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count(Ticket.id))
            .join(Order, Order.id == Ticket.order_id)
            .where(Order.merchant_id == merchant_id, Ticket.state.in_(OPEN_STATES))
        )
        or 0
    )


def merchant_tickets(user: User, *, open_only: bool = True, limit: int = 200) -> list[Ticket]:
    """A merchant user's complaints: those waiting for its answer first, nearest deadline first."""
    if not can(user, "merchant_tickets") or user.merchant_id is None:
        raise Forbidden(str(_l("Merchant accounts only.")))
    q = select(Ticket).join(Order, Order.id == Ticket.order_id).where(Order.merchant_id == user.merchant_id)
    if open_only:
        q = q.where(Ticket.state.in_(OPEN_STATES))
    waiting_first = (Ticket.state != "merchant").asc()
    return list(
        db.session.scalars(
            q.order_by(waiting_first, Ticket.merchant_due_at.asc().nulls_last(), Ticket.created_at.desc()).limit(limit)
        )
    )


def answer(
    ticket: Ticket,
    user: User,
    event: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    amount_cents: int | None = None,
    version: int | None = None,
) -> Ticket:
    """One of the merchant's three answers (files are uploaded as evidence before)."""
    from app.merchants.workflow import ANSWERS
    from app.workflow.service import apply_event

    if event not in ANSWERS:
        raise Invalid(str(_l("Unknown action.")), fields={"event": list(ANSWERS)})
    payload = {"note": note} if (note or "").strip() else {}
    return apply_event(ticket, event, user, reason=reason, amount_cents=amount_cents, version=version, payload=payload)


def _standing(merchant_code: str, actor: User, action: str, reason: str) -> Merchant:
    if not can(actor, "merchant_standing"):
        raise Forbidden(str(_l("Only managers and admins suspend or blacklist merchants.")))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(str(_l("A reason is required.")), fields={"reason": [str(_l("Required."))]})
    merchant = merchant_by_code(merchant_code)
    now = utcnow()
    if action == "suspend":
        merchant.suspended_at, merchant.suspended_reason = now, reason
    elif action == "unsuspend":
        merchant.suspended_at, merchant.suspended_reason = None, None
    elif action == "blacklist":
        merchant.blacklisted_at, merchant.blacklisted_reason = now, reason
    elif action == "unblacklist":
        merchant.blacklisted_at, merchant.blacklisted_reason = None, None
    else:
        raise Invalid(str(_l("Unknown action.")))
    db.session.add(MerchantAction(merchant_id=merchant.id, action=action, reason=reason[:2000], actor_id=actor.id))
    from app.admin.services import record

    record(actor, "merchant_" + action, "merchant", merchant.id, merchant.code, reason=reason[:500])
    db.session.commit()
    from app.merchants.webhooks import merchant_event

    merchant_event(merchant, "merchant." + action)
    return merchant


def set_standing(code: str, actor: User, action: str, reason: str) -> Merchant:
    """suspend | unsuspend | blacklist | unblacklist, with a reason (managers; audited)."""
    return _standing(code, actor, action, reason)


def suspend(code: str, actor: User, reason: str) -> Merchant:
    return _standing(code, actor, "suspend", reason)


def unsuspend(code: str, actor: User, reason: str) -> Merchant:
    return _standing(code, actor, "unsuspend", reason)


def blacklist(code: str, actor: User, reason: str) -> Merchant:
    return _standing(code, actor, "blacklist", reason)


def unblacklist(code: str, actor: User, reason: str) -> Merchant:
    return _standing(code, actor, "unblacklist", reason)


def accounts_of(merchant_id: int) -> list[User]:
    """The merchant's own log-in accounts (bound to it at creation)."""
    return list(db.session.scalars(select(User).where(User.merchant_id == merchant_id).order_by(User.email)))


def actions_of(merchant_id: int) -> list[MerchantAction]:
    return list(
        db.session.scalars(
            select(MerchantAction).where(MerchantAction.merchant_id == merchant_id).order_by(MerchantAction.id.desc())
        )
    )


def published_blacklist() -> list[Merchant]:
    return list(
        db.session.scalars(select(Merchant).where(Merchant.blacklisted_at.is_not(None)).order_by(Merchant.code))
    )
