"""The merchant deposit (保证金) ledger: top-ups, liabilities, deductions when a refund is paid.

Liability follows the ticket through the workflow, always inside the transition's transaction:
- entering `finance` by merchant_refund, merchant_timeout or an approve marked "merchant liable"
  → a pending MerchantCharge for the approved amount;
- return_to_review (finance, before payment) → the charge is reversed, nothing is taken;
- pay (the payout's success: the payout job's transaction, or finance's manual pay) → the
  charge is charged and one deduction row written (unique per ticket: exactly once).
A deposit that falls below MERCHANT_DEPOSIT_FLOOR_CENTS flags the merchant and notifies finance.
Lock order: the ticket (the transition holds it), then the merchant row.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import User
from app.auth.permissions import can, roles_with
from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.merchants.models import Merchant, MerchantCharge, MerchantLedgerEntry
from app.types import utcnow

LIABLE_EVENTS = ("merchant_refund", "merchant_timeout")
MAX_TOP_UP_CENTS = 10**11


def lock_merchant(merchant_id: int) -> Merchant:
    """SELECT … FOR UPDATE the merchant row (a no-op on SQLite) and reload it."""
    db.session.execute(select(Merchant.id).where(Merchant.id == merchant_id).with_for_update())
    merchant = db.session.get(Merchant, merchant_id, populate_existing=True)
    assert merchant is not None
    return merchant


def _book(merchant: Merchant, kind: str, amount: int, *, actor_id: int | None, note: str, now: datetime, **kw):
    merchant.deposit_cents += amount
    entry = MerchantLedgerEntry(
        merchant_id=merchant.id,
        kind=kind,
        amount_cents=amount,
        balance_after_cents=merchant.deposit_cents,
        actor_id=actor_id,
        note=note[:200],
        created_at=now,
        **kw,
    )
    db.session.add(entry)
    _check_floor(merchant, now)
    return entry


def floor_cents() -> int:
    return int(current_app.config["MERCHANT_DEPOSIT_FLOOR_CENTS"])


def _check_floor(merchant: Merchant, now: datetime) -> None:
    if merchant.deposit_cents >= floor_cents():
        merchant.low_deposit_at = None
        return
    if merchant.low_deposit_at is not None:
        return  # flagged already: finance was told once
    merchant.low_deposit_at = now
    from app.notifications.services import notify_user

    for user in db.session.scalars(
        select(User).where(User.role.in_(roles_with("merchant_deposit_alerts")), User.is_active_flag.is_(True))
    ):
        notify_user(
            user,
            "deposit_low",
            None,
            cause=f"deposit_low:{merchant.id}:{now.isoformat()}",
            params={
                "code": merchant.code,
                "name": merchant.name,
                "deposit_cents": merchant.deposit_cents,
                "floor_cents": floor_cents(),
            },
            now=now,
        )


def top_up(merchant_code: str, amount_cents: int, actor: User, note: str = "") -> MerchantLedgerEntry:
    """Admin/finance: add to a merchant's deposit. Commits."""
    if not can(actor, "merchant_top_up"):
        raise Forbidden(str(_l("Only finance and admins top up deposits.")))
    if not isinstance(amount_cents, int) or not 0 < amount_cents <= MAX_TOP_UP_CENTS:
        raise Invalid(str(_l("The amount must be more than 0.")), fields={"amount_cents": [f"1..{MAX_TOP_UP_CENTS}"]})
    merchant_id = db.session.scalar(select(Merchant.id).where(Merchant.code == merchant_code))
    if merchant_id is None:
        raise NotFound(str(_l("No such merchant.")))
    try:
        merchant = lock_merchant(merchant_id)
        entry = _book(merchant, "deposit", amount_cents, actor_id=actor.id, note=note or "", now=utcnow())
        from app.admin.services import record

        record(
            actor,
            "merchant_top_up",
            "merchant",
            merchant.id,
            merchant.code,
            amount_cents=amount_cents,
            balance_cents=merchant.deposit_cents,
            note=(note or "")[:200],
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return entry


def charge_for(ticket_id: int) -> MerchantCharge | None:
    return db.session.scalar(select(MerchantCharge).where(MerchantCharge.ticket_id == ticket_id))


# --- called inside transitions (see app/merchants/hooks.py) -----------------------------------


def hold_liability(ticket, event: str, amount_cents: int, now: datetime) -> MerchantCharge:
    """The ticket goes to finance as the merchant's liability: a pending charge."""
    charge = charge_for(ticket.id)
    if charge is None:
        charge = MerchantCharge(ticket_id=ticket.id, merchant_id=ticket.order.merchant_id, created_at=now)
        db.session.add(charge)
    charge.amount_cents, charge.cause, charge.status = amount_cents, event, "pending"
    charge.reason, charge.reversed_at, charge.charged_at = None, None, None
    return charge


def reverse_liability(ticket, reason: str | None, now: datetime) -> MerchantCharge | None:
    """Finance returned the ticket before payment: the pending charge is reversed."""
    charge = charge_for(ticket.id)
    if charge is None or charge.status != "pending":
        return None
    charge.status, charge.reason, charge.reversed_at = "reversed", reason, now
    return charge


def deduct_on_pay(ticket, amount_cents: int, now: datetime) -> MerchantLedgerEntry | None:
    """The refund was paid: charge the merchant's deposit once (no pending charge: nothing)."""
    charge = charge_for(ticket.id)
    if charge is None or charge.status != "pending":
        return None
    if db.session.scalar(select(MerchantLedgerEntry.id).where(MerchantLedgerEntry.ticket_id == ticket.id)):
        return None  # charged already (the unique key would refuse a second row anyway)
    merchant = lock_merchant(charge.merchant_id)
    charge.status, charge.charged_at, charge.amount_cents = "charged", now, amount_cents
    return _book(
        merchant,
        "deduction",
        -amount_cents,
        actor_id=None,
        note=f"{ticket.ref} {charge.cause}",
        now=now,
        ticket_id=ticket.id,
    )


def ledger_of(merchant_id: int, limit: int = 100) -> list[MerchantLedgerEntry]:
    return list(
        db.session.scalars(
            select(MerchantLedgerEntry)
            .where(MerchantLedgerEntry.merchant_id == merchant_id)
            .order_by(MerchantLedgerEntry.id.desc())
            .limit(limit)
        )
    )


def charges_of(merchant_id: int, limit: int = 100) -> list[MerchantCharge]:
    return list(
        db.session.scalars(
            select(MerchantCharge)
            .where(MerchantCharge.merchant_id == merchant_id)
            .order_by(MerchantCharge.id.desc())
            .limit(limit)
        )
    )
