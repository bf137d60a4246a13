"""Payout verbs: Pay (get-or-create the ticket's one Payout, then enqueue the job), Retry,
Return to review, and the workflow checks that keep `pay` exactly-once.

Manual pay (a finance user firing `pay` directly, e.g. through the API or the ticket page,
with the reference in payload["reference"] or the reason) is routed through the same Payout row
by `check_pay`: it records a succeeded, `manual` payout in the transition's transaction, and is
refused while a gateway payout is pending, processing or succeeded (or when the gateway reports
the payout's key as paid). A system `pay` without a payout id is recorded the same way; with one,
it must be the payout job closing its own succeeded payout. The ticket can therefore never be
paid twice, whichever path is taken.

Lock order everywhere: the ticket row first, then its payout row.
"""

from __future__ import annotations

import logging
import secrets

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import User
from app.auth.permissions import can
from app.errors import Conflict, DomainError, Forbidden, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.jobs import enqueue
from app.notifications.services import notify
from app.payouts.gateways import BalanceGateway, PayoutRequest, get_gateway
from app.payouts.models import Payout
from app.payouts.sqlutil import insert_ignoring_conflict
from app.tickets.models import Ticket
from app.types import utcnow
from app.workflow.service import EventContext, allowed_events, apply_event

log = logging.getLogger(__name__)

ACTIVE = ("pending", "processing", "succeeded")


def new_key() -> str:
    return "rd-" + secrets.token_hex(16)


def payout_for(ticket_id: int, *, lock: bool = False) -> Payout | None:
    q = select(Payout).where(Payout.ticket_id == ticket_id)
    return db.session.scalar(q.with_for_update() if lock else q)


def lock_ticket(ticket_id: int) -> Ticket | None:
    """Lock the ticket row and (re)load it. Not `get(with_for_update=True)`: that would raise
    StaleDataError for a stale copy already in this session (version check on locking loads)."""
    if db.session.scalar(select(Ticket.id).where(Ticket.id == ticket_id).with_for_update()) is None:
        return None
    return db.session.get(Ticket, ticket_id, populate_existing=True)


def _lock_ticket(ticket_id: int) -> tuple[str, int]:
    """Lock the ticket row (first, always) and return its committed (state, version)."""
    row = db.session.execute(select(Ticket.state, Ticket.version).where(Ticket.id == ticket_id).with_for_update()).one()
    return row.state, row.version


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


def _gateway_already_paid(payout: Payout) -> bool:
    """After an uncertain failure, ask the gateway whether the old key was paid after all."""
    if payout.failure_kind == "declined":
        return False
    return get_gateway(payout.channel).lookup(payout.idempotency_key) is not None


def request_payout(ticket_id: int, actor: User | None, channel: str | None = None) -> Payout:
    """Finance pressed Pay (actor None: auto-pay). Idempotent: every call converges on one row."""
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
    restarted = False
    if not created and payout.status in ("failed", "cancelled"):
        _restart(payout, ticket, channel, actor)
        restarted = True
    db.session.commit()
    if created or restarted:
        _enqueue_execute(payout.id)
    return payout


def _restart(payout: Payout, ticket: Ticket, channel: str, actor: User | None) -> None:
    """Queue a failed (or cancelled) payout again.

    After a decline nothing was paid: a fresh idempotency key, the current amount and channel.
    After an uncertain failure the old key is kept unless the gateway confirms it never paid it,
    so a late success is found (and the ticket closed) instead of paying a second time.
    """
    if payout.failure_kind == "declined" or not _gateway_already_paid(payout):
        payout.idempotency_key = new_key()
        payout.amount_cents = ticket.approved_amount_cents
        payout.channel = channel
    payout.status = "pending"
    payout.failed_at = None
    payout.failure_kind = None
    payout.requested_by_id = getattr(actor, "id", None)
    payout.updated_at = utcnow()


def retry_payout(payout_id: int, actor: User) -> Payout:
    """Finance's Retry on a failed payout."""
    _require_finance(actor)
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound(str(_l("No such payout.")))
    if payout.status != "failed":
        raise NotAllowed(str(_l("Only failed payouts can be retried.")))
    return request_payout(payout.ticket_id, actor, channel=payout.channel)


def return_to_review(ticket_id: int, actor: User, reason: str) -> Ticket:
    """Finance found a problem: back to the agents (refused while a payout is under way)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(str(_l("No such ticket.")))
    return apply_event(ticket, "return_to_review", actor, reason=reason)


# --- workflow checks (registered in hooks.init_app) ------------------------------------------


def _locked(ctx: EventContext) -> Payout | None:
    state, version = _lock_ticket(ctx.ticket.id)
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
    if payout is not None and (payout.status in ACTIVE or _gateway_already_paid(payout)):
        raise Conflict(str(_l("A payout for this ticket is already under way or done.")))
    ticket = ctx.ticket
    channel = ctx.payload.get("channel") or ticket.order.payment_channel
    if channel not in (ticket.order.payment_channel, "balance"):
        raise Invalid(
            str(_l("Refunds go back to the original channel or to the platform balance.")),
            fields={"channel": [ticket.order.payment_channel, "balance"]},
        )
    reference = (str(ctx.payload.get("reference") or "") or ctx.reason or "").strip()[:120] or None
    if payout is None:
        payout = Payout(ticket_id=ticket.id, customer_id=ticket.customer_id, created_at=ctx.now)
        db.session.add(payout)
    payout.amount_cents, payout.channel, payout.manual = ticket.approved_amount_cents, channel, True
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
    if payout.status in ACTIVE or _gateway_already_paid(payout):
        raise Conflict(str(_l("A payout for this ticket is under way or done; it cannot go back to review.")))
    payout.status = "cancelled"
    payout.updated_at = ctx.now


def request_for(payout: Payout) -> PayoutRequest:
    return PayoutRequest(
        payout.id, payout.ticket_id, payout.customer_id, payout.channel, payout.amount_cents, payout.idempotency_key
    )


def notify_paid(ticket: Ticket, payout: Payout) -> None:
    """Tell the customer, in their language (added to the caller's transaction)."""
    from app.i18n import money
    from app.tickets.labels import CHANNEL_LABELS

    customer = db.session.get(User, ticket.customer_id)
    with force_locale(customer.locale or "zh_Hans_CN"):
        title = _("Your refund for %(ref)s has been paid", ref=ticket.ref)
        body = _(
            "%(amount)s was sent to %(channel)s.",
            amount=money(payout.amount_cents),
            channel=str(CHANNEL_LABELS.get(payout.channel, payout.channel)),
        )
    notify(customer.id, "paid", title, body, ticket_id=ticket.id)


def auto_pay(ticket_id: int, event: str, to_state: str) -> None:
    """after_commit: with AUTO_PAY, fast-tracked tickets and balance refunds pay themselves."""
    if to_state != "finance" or not current_app.config.get("AUTO_PAY"):
        return
    ticket = db.session.get(Ticket, ticket_id)
    fast_tracked = event == "fast_track" and ticket is not None and ticket.fast_track_rule
    if ticket is None or not (fast_tracked or ticket.order.payment_channel == "balance"):
        return
    try:
        request_payout(ticket_id, None)
    except DomainError as exc:
        db.session.rollback()
        log.warning("auto-pay of ticket %s refused: %s", ticket_id, exc.message)
    except Exception:  # the transition has committed; finance can still press Pay
        db.session.rollback()
        log.exception("auto-pay of ticket %s failed", ticket_id)
