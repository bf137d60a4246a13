"""Payout verbs: Pay (get-or-create the ticket's one Payout, then enqueue the job), Bulk pay
(Pay for each selected ticket, one transaction each), Retry (on the same or, after a decline,
another channel), Return to review. The workflow checks that keep `pay` exactly-once are in checks.py (named by
the `pay` and `return_to_review` rows of app/workflow/machine.py); auto-pay is a receiver of
`ticket_transitioned` (receivers.py).

Lock order everywhere: the ticket row first, then its payout row.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import User
from app.auth.permissions import can
from app.errors import Conflict, Forbidden, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.jobs import enqueue
from app.payouts.checks import declined_channels, gateway_already_paid, lock_ticket, payable_channels
from app.payouts.models import Payout
from app.payouts.sqlutil import insert_ignoring_conflict
from app.tickets.models import Ticket
from app.types import utcnow
from app.workflow.service import allowed_events, apply_event

log = logging.getLogger(__name__)


def new_key() -> str:
    return "rd-" + secrets.token_hex(16)


def _require_finance(actor: User | None) -> None:
    if actor is not None and not can(actor, "pay"):
        raise Forbidden(str(_l("Only finance pays refunds.")))


def _enqueue_execute(payout_id: int) -> None:
    """Queue the job (after the commit). If the queue is down, the payout stays pending and
    `reconcile_payouts` queues it later: the Pay itself is durable."""
    from app.payouts.jobs import execute_payout

    try:
        enqueue(execute_payout, payout_id, retry=current_app.config["PAYOUT_RETRIES"])
    except Exception:
        log.exception("could not queue payout %s; reconcile_payouts will", payout_id)


def request_payout(ticket_id: int, actor: User | None, channel: str | None = None) -> Payout:
    """Finance pressed Pay (actor None: auto-pay). Idempotent: every call converges on one row."""
    return _request(ticket_id, actor, channel, restart_failed=True)[0]


def _request(ticket_id: int, actor: User | None, channel: str | None, *, restart_failed: bool) -> tuple[Payout, bool]:
    """The ticket's one payout, and whether this call started an attempt (created or restarted).

    `restart_failed=False` (bulk pay) leaves a failed payout alone: finance retries it on purpose."""
    _require_finance(actor)
    ticket = lock_ticket(ticket_id)  # lock order: the ticket first, then its payout
    if ticket is None:
        raise NotFound(str(_l("No such ticket.")))
    if ticket.state != "finance" or not ticket.approved_amount_cents:
        db.session.rollback()
        raise NotAllowed(
            str(_l("Only approved tickets waiting for finance can be paid.")),
            allowed_events=allowed_events(ticket, actor),
        )
    order = ticket.order
    channel = channel or order.payment_channel
    if channel not in (order.payment_channel, "balance"):
        db.session.rollback()
        raise Invalid(
            str(_l("Refunds go back to the original channel or to the platform balance.")),
            fields={"channel": [order.payment_channel, "balance"]},
        )
    declined = declined_channels(ticket.id)
    if channel in declined:  # a decline is the gateway's permanent answer for that account
        payable = payable_channels(ticket, declined)
        db.session.rollback()
        raise Invalid(
            str(_l("This refund was declined on that channel; choose another one.")),
            fields={"channel": payable},
        )
    now = utcnow()
    created = (
        insert_ignoring_conflict(
            db.session,
            Payout.__table__,
            {
                "ticket_id": ticket.id,
                "customer_id": ticket.customer_id,
                "amount_cents": ticket.approved_amount_cents,
                "channel": channel,
                "status": "pending",
                "idempotency_key": new_key(),
                "manual": False,
                "attempts": 0,
                "requested_by_id": getattr(actor, "id", None),
                "created_at": now,
                "updated_at": now,
            },
            ["ticket_id"],
        )
        == 1
    )
    payout = db.session.scalar(
        select(Payout).where(Payout.ticket_id == ticket.id).with_for_update().execution_options(populate_existing=True)
    )
    if payout is None:  # inserted or found above, and locked: cannot vanish inside this transaction
        raise Conflict(str(_l("Someone else changed this ticket first. Reload and try again.")))
    restarted = False
    if not created and (payout.status == "cancelled" or (payout.status == "failed" and restart_failed)):
        _restart(payout, ticket, channel, actor)
        restarted = True
    db.session.commit()
    if created or restarted:
        _enqueue_execute(payout.id)
    return payout, created or restarted


def _restart(payout: Payout, ticket: Ticket, channel: str, actor: User | None) -> None:
    """Queue a failed (or cancelled) payout again.

    After a decline nothing was paid: a fresh idempotency key, the current amount and channel.
    After an uncertain failure the old key is kept unless the gateway confirms it never paid it,
    so a late success is found (and the ticket closed) instead of paying a second time.
    """
    if payout.failure_kind == "declined" or not gateway_already_paid(payout):
        payout.idempotency_key = new_key()
        payout.amount_cents = ticket.approved_amount_cents or payout.amount_cents
        payout.channel = channel
    payout.status = "pending"
    payout.failed_at = None
    payout.failure_kind = None
    payout.decline_code = None
    payout.requested_by_id = getattr(actor, "id", None)
    payout.updated_at = utcnow()


def retry_payout(payout_id: int, actor: User, channel: str | None = None) -> Payout:
    """Finance's Retry on a failed payout: on its channel after an uncertain failure, on another
    one (e.g. the platform balance) after a decline. Still the ticket's one payout row: a double
    submit finds it pending (or paid) and starts nothing."""
    _require_finance(actor)
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound(str(_l("No such payout.")))
    if payout.status != "failed":
        raise NotAllowed(str(_l("Only failed payouts can be retried.")))
    return request_payout(payout.ticket_id, actor, channel=channel or payout.channel)


MAX_BULK = 100
BULK_ORIGINAL = "original"  # bulk pay's channel choice: each order's own channel, or "balance"


@dataclass
class BulkOutcome:
    ref: str
    started: bool  # this call queued (or, inline, ran) the ticket's payout
    status: str | None  # the payout's status afterwards (None: refused)
    message: str = ""  # why nothing was started


def bulk_pay(refs: list[str], actor: User, channel: str = BULK_ORIGINAL) -> list[BulkOutcome]:
    """Pay each selected ticket: its own transaction and its own exactly-once payout (the same
    `request_payout` path, so a double submit starts nothing twice). A ticket that cannot be paid
    (not waiting for finance, a failed payout to retry by hand, a declined channel) is reported,
    and the others go on."""
    _require_finance(actor)
    if channel not in (BULK_ORIGINAL, "balance"):
        raise Invalid(str(_l("Choose where to pay.")), fields={"channel": [BULK_ORIGINAL, "balance"]})
    refs = list(dict.fromkeys(r for r in refs if r))
    if not refs:
        raise Invalid(str(_l("Select at least one ticket.")), fields={"refs": ["at least one"]})
    if len(refs) > MAX_BULK:
        raise Invalid(str(_l("Select at most %(n)s tickets at once.", n=MAX_BULK)), fields={"refs": [f"<= {MAX_BULK}"]})
    found = db.session.execute(select(Ticket.ref, Ticket.id).where(Ticket.ref.in_(refs)))
    ids: dict[str, int] = {ref: ticket_id for ref, ticket_id in found}  # noqa: C416 (rows, not pairs, for mypy)
    db.session.commit()  # no snapshot held across the per-ticket transactions
    outcomes: list[BulkOutcome] = []
    for ref in refs:
        if ref not in ids:
            outcomes.append(BulkOutcome(ref, False, None, str(_l("No such ticket."))))
            continue
        try:
            to = None if channel == BULK_ORIGINAL else channel
            payout, started = _request(ids[ref], actor, to, restart_failed=False)
        except (NotAllowed, Invalid, Conflict, NotFound) as exc:
            db.session.rollback()
            outcomes.append(BulkOutcome(ref, False, None, exc.message))
            continue
        db.session.refresh(payout)
        message = "" if started else _already(payout.status)
        outcomes.append(BulkOutcome(ref, started, payout.status, message))
    return outcomes


def _already(status: str) -> str:
    if status == "failed":
        return str(_l("Its payout failed: retry it on its own."))
    return str(_l("A payout for this ticket is already under way or done."))


def return_to_review(ticket_id: int, actor: User, reason: str) -> Ticket:
    """Finance found a problem: back to the agents (refused while a payout is under way)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(str(_l("No such ticket.")))
    return apply_event(ticket, "return_to_review", actor, reason=reason)
