"""The merchant step of the workflow: guards, input checks and effects of the merchant events,
and where a new ticket goes on submit.

Rows live in app/workflow/machine.py (ask_merchant, merchant_refund, merchant_reissue,
merchant_dispute, merchant_timeout, plus checks on approve, return_to_review and pay); the
guards and checks they name are here:
- guards `merchant_open` (the merchant is neither suspended nor blacklisted), `own_merchant` (the
  acting merchant user answers for the ticket's merchant), `merchant_in_time` / `merchant_overdue`
  (before / at-or-after `merchant_due_at`);
- checks (inside the transition's transaction) for amounts, the new delivery, the dispute's
  material, and the deposit ledger (app/merchants/ledger.py).
This module must not import app.workflow.service at import time (the machine imports it).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import User
from app.auth.permissions import roles_with
from app.errors import DomainError, Invalid
from app.extensions import db
from app.i18n import money
from app.merchants import ledger
from app.merchants.models import Merchant
from app.tickets.models import Order, Ticket
from app.workflow.policies import refundable_balance

if TYPE_CHECKING:
    from app.workflow.machine import EventContext

log = logging.getLogger(__name__)

ANSWERS = ("merchant_refund", "merchant_reissue", "merchant_dispute")
MERCHANT_EVENTS = ("ask_merchant", *ANSWERS, "merchant_timeout")
MAX_NOTE = 5000


def merchant_kinds() -> frozenset[str]:
    """Kinds the merchant answers first (config MERCHANT_KINDS, comma-separated)."""
    return frozenset(k.strip() for k in current_app.config.get("MERCHANT_KINDS", "").split(",") if k.strip())


def _merchant_of(ticket: Ticket) -> Merchant:
    order = ticket.order if ticket.order is not None else db.session.get(Order, ticket.order_id)
    return order.merchant


# --- guards (ticket, user, now) -----------------------------------------------------------------


def merchant_open(ticket: Ticket, user, now: datetime) -> bool:
    """The order's merchant is neither suspended nor blacklisted (then the platform handles it)."""
    m = _merchant_of(ticket)
    return not (m.suspended or m.blacklisted)


def own_merchant(ticket: Ticket, user, now: datetime) -> bool:
    """The acting merchant user answers for the ticket's merchant."""
    merchant_id = getattr(user, "merchant_id", None)
    return merchant_id is not None and merchant_id == _merchant_of(ticket).id


def merchant_in_time(ticket: Ticket, user, now: datetime) -> bool:
    return ticket.merchant_due_at is not None and now < ticket.merchant_due_at


def merchant_overdue(ticket: Ticket, user, now: datetime) -> bool:
    return ticket.merchant_due_at is not None and now >= ticket.merchant_due_at


# --- checks (inside the transition; named by the rows of app/workflow/machine.py) ---------------


def _balance(ctx: EventContext) -> int:
    # Lock the order so two refunds on different tickets of one order cannot overdraw it.
    order = db.session.get(Order, ctx.ticket.order_id, with_for_update=True, populate_existing=True)
    if order is None:  # a ticket's order is never deleted (foreign key); nothing to refund if it were
        return 0
    return refundable_balance(order, exclude_ticket_id=ctx.ticket.id)


def _merchant_evidence_ids(ctx: EventContext) -> list[int]:
    """Evidence the merchant's side uploaded since the ticket entered `merchant`."""
    from app.evidence.models import Evidence

    return list(
        db.session.scalars(
            select(Evidence.id).where(
                Evidence.ticket_id == ctx.ticket.id,
                Evidence.uploader_role.in_(roles_with("merchant_tickets")),
                Evidence.created_at >= ctx.ticket.state_changed_at,
            )
        )
    )


def _note(ctx: EventContext) -> str | None:
    note = " ".join(str(ctx.payload.get("note") or "").split())[:MAX_NOTE]
    if note:
        ctx.payload["note"] = note
    else:
        ctx.payload.pop("note", None)
    return note or None


def record_merchant(ctx: EventContext) -> None:
    """ask_merchant: which merchant was asked (its deadline is set by the SLA clock)."""
    ctx.payload["merchant_code"] = _merchant_of(ctx.ticket).code


def refund_within_balance(ctx: EventContext) -> None:
    """merchant_refund: 0 < amount (default: the requested amount) ≤ refundable balance; the merchant pays."""
    balance = _balance(ctx)
    amount = ctx.amount_cents if ctx.amount_cents is not None else min(ctx.ticket.requested_amount_cents, balance)
    if not 0 < amount <= balance:
        raise Invalid(
            str(_l("The amount must be more than 0 and at most the refundable balance (%(b)s).", b=money(balance))),
            fields={"amount_cents": [f"1..{balance}"]},
        )
    ctx.amount_cents = amount
    ctx.payload.update(amount_cents=amount, merchant_liable=True)
    ledger.hold_liability(ctx.ticket, ctx.event, amount, ctx.now)


def timeout_grants_claim(ctx: EventContext) -> None:
    """merchant_timeout: the requested amount (at most what is left on the order), charged to the merchant."""
    balance = _balance(ctx)
    amount = min(ctx.ticket.requested_amount_cents, balance)
    if amount <= 0:
        raise Invalid(
            str(_l("Nothing is left to refund on this order.")), fields={"amount_cents": [f"1..{max(balance, 0)}"]}
        )
    ctx.amount_cents = amount
    due = ctx.ticket.merchant_due_at
    ctx.payload.update(amount_cents=amount, merchant_liable=True, due_at=due.isoformat() if due else None)
    ledger.hold_liability(ctx.ticket, ctx.event, amount, ctx.now)


def require_delivery(ctx: EventContext) -> None:
    """merchant_reissue: the new delivery (e.g. a replacement card key) is on record: a note or evidence."""
    evidence = _merchant_evidence_ids(ctx)
    if not evidence and not _note(ctx):
        raise Invalid(
            str(_l("Describe the new delivery or upload it as evidence.")),
            fields={"note": [str(_l("Required."))]},
        )
    ctx.payload["evidence_ids"] = evidence


def require_dispute_material(ctx: EventContext) -> None:
    """merchant_dispute: at least one evidence file or a note (the reason is required by the row)."""
    evidence = _merchant_evidence_ids(ctx)
    if not evidence and not _note(ctx):
        raise Invalid(
            str(_l("A dispute needs at least one evidence file or a note.")),
            fields={"note": [str(_l("Required."))]},
        )
    ctx.payload["evidence_ids"] = evidence


def hold_if_merchant_liable(ctx: EventContext) -> None:
    """approve with payload merchant_liable=True: the merchant pays this refund when it is paid."""
    if ctx.payload.get("merchant_liable"):
        ctx.payload["merchant_liable"] = True
        ledger.hold_liability(ctx.ticket, ctx.event, ctx.amount_cents or 0, ctx.now)
    else:
        ctx.payload.pop("merchant_liable", None)


def reverse_pending_charge(ctx: EventContext) -> None:
    """return_to_review (before payment): a pending merchant charge is reversed."""
    if ledger.reverse_liability(ctx.ticket, ctx.reason, ctx.now) is not None:
        ctx.payload["merchant_charge"] = "reversed"


def deduct_merchant_charge(ctx: EventContext) -> None:
    """pay (after check_pay, in the payout success's transaction): charge the merchant once."""
    amount = ctx.ticket.approved_amount_cents or 0
    if ledger.deduct_on_pay(ctx.ticket, amount, ctx.now) is not None:
        ctx.payload["merchant_deduction_cents"] = amount


# --- on submit ----------------------------------------------------------------------------------


def has_active_user(merchant_id: int) -> bool:
    return (
        db.session.scalar(
            select(User.id)
            .where(
                User.merchant_id == merchant_id,
                User.role.in_(roles_with("merchant_tickets")),
                User.is_active_flag.is_(True),
            )
            .limit(1)
        )
        is not None
    )


def route_on_submit(ticket: Ticket) -> str | None:
    """After the fast-track rules (none fired): a merchant-liable kind goes to its merchant.

    A merchant nobody can log in as cannot answer, so it is not asked. A suspended or
    blacklisted merchant's complaints go straight to review (the platform handles and pays).
    """
    if ticket.state != "submitted" or not current_app.config.get("MERCHANT_STEP_ENABLED", True):
        return None
    if ticket.kind not in merchant_kinds():
        return None
    from app.workflow.service import apply_event

    merchant = _merchant_of(ticket)
    try:
        if merchant.suspended or merchant.blacklisted:
            apply_event(
                ticket,
                "start_review",
                None,
                reason=_("The merchant is suspended: the platform handles this complaint directly."),
                payload={"merchant_suspended": merchant.code},
            )
            return "start_review"
        if not has_active_user(merchant.id):
            return None
        apply_event(ticket, "ask_merchant", None)
    except DomainError as exc:
        log.warning("merchant routing of %s not applied: %s", ticket.ref, exc.message)
        return None
    return "ask_merchant"
