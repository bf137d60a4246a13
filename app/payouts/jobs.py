"""Payout jobs: execute one payout exactly once; reconcile the stuck ones.

execute_payout(payout_id):
  1. claim: one conditional UPDATE (pending, or processing for longer than
     PAYOUT_STUCK_MINUTES, → processing); whoever updates no row does nothing;
  2. call the gateway with the payout's idempotency key (outside any database transaction
     of ours, except for the instant balance gateway whose ledger row joins step 3);
  3. one transaction: payout succeeded + the ticket's `pay` event + the customer's
     notification (or: failed with the reason, when the gateway declined).
A transient gateway error puts the payout back to pending and raises, so rq retries it with
backoff; after PAYOUT_MAX_ATTEMPTS it is failed ("exhausted") for finance to look at.
A crash between 2 and 3 leaves the payout pending (in-process error) or processing (killed
worker); the rq retry or `reconcile_payouts` runs it again with the same key, and the
gateway answers with the first result instead of paying again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from app.extensions import db, rowcount
from app.jobs import enqueue
from app.payouts.checks import lock_ticket, notify_failed, notify_paid, record_decline, request_for
from app.payouts.gateways import GatewayResult, GatewayUnavailable, PayoutRequest, get_gateway
from app.payouts.models import Payout
from app.types import utcnow
from app.workflow.service import apply_event

log = logging.getLogger(__name__)


def _stuck_before():
    return utcnow() - timedelta(minutes=current_app.config["PAYOUT_STUCK_MINUTES"])


def claim_payout(payout_id: int) -> PayoutRequest | None:
    """pending (or stuck processing) → processing, for exactly one caller; committed."""
    now = utcnow()
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        return None
    ticket = lock_ticket(payout.ticket_id)
    if ticket is None:  # gone since the payout was read (a deleted ticket takes its payout with it)
        db.session.rollback()
        return None
    if ticket.state != "finance":
        # The ticket moved on (returned to review after a failure): nothing to pay any more.
        db.session.execute(
            update(Payout)
            .where(Payout.id == payout_id, Payout.status == "pending")
            .values(status="cancelled", updated_at=now)
        )
        db.session.commit()
        return None
    claimed = rowcount(
        db.session.execute(
            update(Payout)
            .where(
                Payout.id == payout_id,
                or_(
                    Payout.status == "pending", and_(Payout.status == "processing", Payout.claimed_at < _stuck_before())
                ),
            )
            .values(status="processing", attempts=Payout.attempts + 1, claimed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if claimed != 1:
        db.session.rollback()
        return None
    payout = db.session.get(Payout, payout_id, populate_existing=True)
    if payout is None:  # cannot happen: we just updated it, under the ticket's lock
        db.session.rollback()
        return None
    req = request_for(payout)
    db.session.commit()
    return req


def execute_payout(payout_id: int) -> str:
    """The payout job (rq, with retries). Idempotent; returns what happened."""
    req = claim_payout(payout_id)
    if req is None:
        return "skipped"
    gateway = get_gateway(req.channel)
    if not gateway.instant:
        try:
            result = gateway.pay(req)
        except GatewayUnavailable as exc:
            return _transient_failure(req, str(exc))
    try:
        if gateway.instant:
            result = gateway.pay(req)  # its ledger row commits with the payout and the ticket
        return record_result(req, result)
    except Exception as exc:
        db.session.rollback()
        _release(req, f"{type(exc).__name__}: {exc}")
        raise


def record_result(req: PayoutRequest, result: GatewayResult) -> str:
    """One transaction: succeeded + `pay` (+ notification), or failed with the reason."""
    now = utcnow()
    ticket = lock_ticket(req.ticket_id)
    payout = db.session.get(Payout, req.payout_id, with_for_update=True, populate_existing=True)
    if ticket is None or payout is None:  # deleted since the claim: nothing left to record it on
        db.session.rollback()
        log.warning("payout %s: ticket or payout gone before its result was recorded", req.payout_id)
        return "skipped"
    if payout.status != "processing" or payout.idempotency_key != req.idempotency_key:
        db.session.rollback()  # someone else (a reconcile run) recorded it already
        return "skipped"
    payout.updated_at = now
    if not result.succeeded:
        payout.status, payout.failure_kind, payout.failed_at = "failed", "declined", now
        payout.last_error = (result.error or "declined")[:2000]
        payout.decline_code = (result.code or "unknown")[:40]
        record_decline(payout, now)
        notify_failed(ticket, payout)
        db.session.commit()
        return "failed"
    payout.status, payout.gateway_reference, payout.succeeded_at = "succeeded", result.reference, now
    payout.last_error = None
    notify_paid(ticket, payout)
    apply_event(
        ticket,
        "pay",
        None,
        now=now,
        payload={
            "payout_id": payout.id,
            "reference": result.reference,
            "channel": payout.channel,
            "amount_cents": payout.amount_cents,
        },
    )
    return "succeeded"


def _release(req: PayoutRequest, error: str) -> None:
    """processing → pending (ours only), keeping the error for finance; committed."""
    db.session.execute(
        update(Payout)
        .where(Payout.id == req.payout_id, Payout.status == "processing", Payout.idempotency_key == req.idempotency_key)
        .values(status="pending", last_error=error[:2000], updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _transient_failure(req: PayoutRequest, error: str) -> str:
    payout = db.session.get(Payout, req.payout_id, populate_existing=True)
    if payout is None:  # deleted (with its ticket) since the claim
        db.session.rollback()
        return "skipped"
    if payout.attempts < current_app.config["PAYOUT_MAX_ATTEMPTS"]:
        _release(req, error)
        raise GatewayUnavailable(error)  # rq retries with backoff
    found = get_gateway(req.channel).lookup(req.idempotency_key)
    if found is not None:
        return record_result(req, found)
    db.session.execute(
        update(Payout)
        .where(Payout.id == req.payout_id, Payout.status == "processing", Payout.idempotency_key == req.idempotency_key)
        .values(
            status="failed",
            failure_kind="exhausted",
            failed_at=utcnow(),
            updated_at=utcnow(),
            last_error=f"gave up after {payout.attempts} attempts: {error}"[:2000],
        )
        .execution_options(synchronize_session=False)
    )
    ticket = lock_ticket(req.ticket_id)
    failed = db.session.get(Payout, req.payout_id, populate_existing=True)
    if ticket is not None and failed is not None:
        notify_failed(ticket, failed)
    db.session.commit()
    return "failed"


def reconcile_payouts() -> int:
    """Periodic: re-run payouts stuck in processing (dead worker) or left pending (lost job)."""
    cutoff = _stuck_before()
    ids = list(
        db.session.scalars(
            select(Payout.id)
            .where(
                or_(
                    and_(Payout.status == "processing", Payout.claimed_at < cutoff),
                    and_(Payout.status == "pending", Payout.updated_at < cutoff),
                )
            )
            .order_by(Payout.id)
            .limit(500)
        )
    )
    db.session.commit()
    for payout_id in ids:
        enqueue(execute_payout, payout_id, retry=current_app.config["PAYOUT_RETRIES"])
    if ids:
        log.info("reconcile_payouts re-ran %d payouts", len(ids))
    return len(ids)
