"""The merchant's deadline in the SLA sweep (called from app/sla/sweep.py).

- warning (SLA_WARN_RATIO of the 48 business hours): the merchant's users are told, once
  (the same conditional-UPDATE claim as every other threshold);
- breach: the system fires `merchant_timeout` (merchant → finance, the claim granted and charged
  to the merchant). The transition itself settles the record (breached_at), so a record is
  acted on once; a merchant answering at the same moment either wins (then the timeout finds the
  ticket moved and skips it) or gets a conflict. Locks: the ticket row, then its record.
  Nothing depends on the sweep for correctness: merchant answers are refused once
  `merchant_due_at` has passed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from app.auth.models import User
from app.auth.permissions import roles_with
from app.errors import DomainError
from app.extensions import db
from app.notifications.services import notify_user
from app.sla.models import MERCHANT_RESPONSE, SlaRecord
from app.tickets.models import Order, Ticket

log = logging.getLogger(__name__)


def merchant_users(merchant_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(
                User.merchant_id == merchant_id,
                User.role.in_(roles_with("merchant_tickets")),
                User.is_active_flag.is_(True),
            )
        )
    )


def warn_batch(now: datetime) -> int:
    from app.sla.sweep import _claim

    rows = _claim("warned_at", "warn_at", now, metric=MERCHANT_RESPONSE)
    if not rows:
        db.session.commit()
        return 0
    tickets = {t.id: t for t in db.session.scalars(select(Ticket).where(Ticket.id.in_({r.ticket_id for r in rows})))}
    merchant_of = dict(
        db.session.execute(
            select(Ticket.id, Order.merchant_id).join(Order, Order.id == Ticket.order_id).where(Ticket.id.in_(tickets))
        ).all()
    )
    with db.session.no_autoflush:
        for r in rows:
            t = tickets[r.ticket_id]
            for user in merchant_users(merchant_of[t.id]):
                notify_user(
                    user,
                    "merchant_deadline",
                    t,
                    cause=f"merchant_deadline:{r.id}",
                    params={"due_at": r.due_at.isoformat()},
                    now=now,
                )
    db.session.commit()
    return len(rows)


def _timeout_one(now: datetime, skipped: set[int]) -> bool | None:
    from app.sla.sweep import overdue_record
    from app.workflow.service import apply_event

    rec = db.session.scalar(overdue_record(MERCHANT_RESPONSE, now, skipped))
    if rec is None:
        db.session.rollback()
        return None
    # Lock order as in every transition: the ticket row first, then its SLA record (the merchant
    # answering locks them in that order too). A ticket locked by its merchant right now is left
    # to the next tick; if the answer commits, the record is met and never comes back.
    lock = select(Ticket.id).where(Ticket.id == rec.ticket_id).with_for_update(skip_locked=True)
    if db.session.scalar(lock) is None:
        db.session.rollback()
        skipped.add(rec.id)
        return False
    rec_id = rec.id
    fresh = db.session.get(SlaRecord, rec_id, populate_existing=True)
    if fresh is None or fresh.met_at is not None or fresh.stopped_at is not None:  # answered meanwhile
        db.session.rollback()
        skipped.add(rec_id)
        return False
    rec = fresh
    ticket = db.session.get(Ticket, rec.ticket_id, populate_existing=True)
    if ticket is None or ticket.state != "merchant":  # should not happen; settle the record
        rec.stopped_at = rec.breached_at = now
        db.session.commit()
        return False
    # The customer and the merchant are told by the transition (app/notifications/table.py ROUTES).
    try:
        apply_event(ticket, "merchant_timeout", None, now=now)
    except DomainError as exc:  # the merchant answered first, or nothing is left to refund
        db.session.rollback()
        log.info("merchant_timeout %s skipped: %s", ticket.ref, exc.message)
        skipped.add(rec.id)
        return False
    return True


def fire_timeouts(now: datetime) -> int:
    skipped: set[int] = set()
    fired = 0
    while (done := _timeout_one(now, skipped)) is not None:
        fired += int(done)
    return fired
