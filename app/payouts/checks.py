"""The payout checks the workflow rows name (app/workflow/machine.py), run inside the transition.

- `check_pay` (row `pay`): `pay` closes exactly one Payout. Manual pay (a finance user firing `pay`
  directly, with the reference in payload["reference"] or the reason) records a succeeded,
  `manual` payout in the transition's transaction, and is refused while a gateway payout is
  pending, processing or succeeded (or when the gateway reports the payout's key as paid). A
  system `pay` without a payout id is recorded the same way; with one, it must be the payout job
  closing its own succeeded payout. The ticket can therefore never be paid twice.
- `check_return_to_review` (row `return_to_review`): refused while a payout is under way or done;
  a failed payout is cancelled.

Also the small lookups and locks these checks share with app/payouts/services.py and jobs.py.
Lock order everywhere: the ticket row first, then its payout row. This module imports nothing
from app.workflow.service (the machine imports it).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.errors import Conflict, Invalid, NotAllowed
from app.extensions import db
from app.notifications import causes
from app.payouts.gateways import BalanceGateway, PayoutRequest, get_gateway
from app.payouts.models import Payout, PayoutDecline
from app.tickets.models import Ticket

if TYPE_CHECKING:
    from app.workflow.machine import EventContext

ACTIVE = ("pending", "processing", "succeeded")


def payout_for(ticket_id: int, *, lock: bool = False) -> Payout | None:
    q = select(Payout).where(Payout.ticket_id == ticket_id)
    return db.session.scalar(q.with_for_update() if lock else q)


def lock_ticket(ticket_id: int) -> Ticket | None:
    """Lock the ticket row and (re)load it. Not `get(with_for_update=True)`: that would raise
    StaleDataError for a stale copy already in this session (version check on locking loads)."""
    if db.session.scalar(select(Ticket.id).where(Ticket.id == ticket_id).with_for_update()) is None:
        return None
    return db.session.get(Ticket, ticket_id, populate_existing=True)


def locked_state(ticket_id: int) -> tuple[str, int]:
    """Lock the ticket row (first, always) and return its committed (state, version)."""
    row = db.session.execute(select(Ticket.state, Ticket.version).where(Ticket.id == ticket_id).with_for_update()).one()
    return row.state, row.version


def declined_channels(ticket_id: int) -> set[str]:
    """The channels a gateway declined for this ticket since it last came to finance: closed to it
    until it goes back to review."""
    return set(
        db.session.scalars(
            select(PayoutDecline.channel).where(
                PayoutDecline.ticket_id == ticket_id, PayoutDecline.cleared_at.is_(None)
            )
        )
    )


def payable_channels(ticket: Ticket, declined: set[str] | None = None) -> list[str]:
    """Where this ticket's refund may still go: the order's channel, then the platform balance,
    minus the channels that declined it."""
    declined = declined_channels(ticket.id) if declined is None else declined
    options = dict.fromkeys((ticket.order.payment_channel, "balance"))
    return [c for c in options if c not in declined]


def record_decline(payout: Payout, now) -> None:
    """Remember a declined attempt (in the caller's transaction, which holds the ticket's lock)."""
    known = db.session.scalar(
        select(PayoutDecline).where(
            PayoutDecline.ticket_id == payout.ticket_id,
            PayoutDecline.channel == payout.channel,
            PayoutDecline.cleared_at.is_(None),
        )
    )
    if known is not None:  # cannot happen (a declined channel is refused), kept idempotent anyway
        return
    db.session.add(
        PayoutDecline(
            payout_id=payout.id,
            ticket_id=payout.ticket_id,
            channel=payout.channel,
            code=payout.decline_code or "unknown",
            message=payout.last_error or "",
            idempotency_key=payout.idempotency_key,
            amount_cents=payout.amount_cents,
            at=now,
        )
    )


def gateway_already_paid(payout: Payout) -> bool:
    """After an uncertain failure, ask the gateway whether the old key was paid after all."""
    if payout.failure_kind == "declined":
        return False
    return get_gateway(payout.channel).lookup(payout.idempotency_key) is not None


# --- the checks -------------------------------------------------------------------------------


def _locked(ctx: EventContext) -> Payout | None:
    state, version = locked_state(ctx.ticket.id)
    if state != "finance" or version != ctx.ticket.version:
        raise Conflict(str(_l("Someone else changed this ticket first. Reload and try again.")))
    return payout_for(ctx.ticket.id, lock=True)


def check_pay(ctx: EventContext) -> None:
    """`pay` closes exactly one Payout: the job's succeeded one, or a manual one made here."""
    payout = _locked(ctx)
    if ctx.payload.get("payout_id") is not None:  # the payout job closing its own payout
        if (
            ctx.role != "system"
            or payout is None
            or payout.status != "succeeded"
            or payout.id != ctx.payload["payout_id"]
        ):
            raise Invalid(str(_l("Only the payout job closes a gateway payout.")))
        return
    if payout is not None and (payout.status in ACTIVE or gateway_already_paid(payout)):
        raise Conflict(str(_l("A payout for this ticket is already under way or done.")))
    ticket = ctx.ticket
    channel = ctx.payload.get("channel") or ticket.order.payment_channel
    if channel not in (ticket.order.payment_channel, "balance"):
        raise Invalid(
            str(_l("Refunds go back to the original channel or to the platform balance.")),
            fields={"channel": [ticket.order.payment_channel, "balance"]},
        )
    amount = ticket.approved_amount_cents
    if amount is None:  # every way into finance sets it (approve, fast_track)
        raise NotAllowed(str(_l("Only approved tickets waiting for finance can be paid.")))
    reference = (str(ctx.payload.get("reference") or "") or ctx.reason or "").strip()[:120] or None
    if payout is None:
        payout = Payout(ticket_id=ticket.id, customer_id=ticket.customer_id, created_at=ctx.now)
        db.session.add(payout)
    payout.amount_cents, payout.channel, payout.manual = amount, channel, True
    payout.idempotency_key = "manual-" + secrets.token_hex(16)
    payout.status, payout.gateway_reference, payout.succeeded_at = "succeeded", reference, ctx.now
    payout.requested_by_id, payout.failure_kind, payout.failed_at = getattr(ctx.user, "id", None), None, None
    db.session.flush()
    if channel == "balance":
        BalanceGateway().pay(request_for(payout))
    notify_paid(ticket, payout)
    ctx.payload.update(payout_id=payout.id, reference=reference, channel=channel, manual=True)


def check_return_to_review(ctx: EventContext) -> None:
    payout = _locked(ctx)
    if payout is None:
        return
    if payout.status in ACTIVE or gateway_already_paid(payout):
        raise Conflict(str(_l("A payout for this ticket is under way or done; it cannot go back to review.")))
    payout.status = "cancelled"
    payout.updated_at = ctx.now
    db.session.execute(  # the customer may give another account on a declined channel
        update(PayoutDecline)
        .where(PayoutDecline.ticket_id == ctx.ticket.id, PayoutDecline.cleared_at.is_(None))
        .values(cleared_at=ctx.now)
        .execution_options(synchronize_session=False)
    )


def request_for(payout: Payout) -> PayoutRequest:
    return PayoutRequest(
        payout.id, payout.ticket_id, payout.customer_id, payout.channel, payout.amount_cents, payout.idempotency_key
    )


def notify_paid(ticket: Ticket, payout: Payout) -> None:
    """Tell the customer (added to the caller's transaction; rendered in their language)."""
    causes.payout_sent(ticket, payout)


def notify_failed(ticket: Ticket, payout: Payout) -> None:
    """Tell the customer and finance that a payout failed (added to the caller's transaction)."""
    causes.payout_failed(ticket, payout)
