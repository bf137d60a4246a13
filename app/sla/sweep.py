"""The periodic SLA sweep: mark crossed thresholds once, notify, escalate, expire evidence windows,
and fire merchant_timeout for merchants silent past their deadline (app/merchants/sweep.py).

Exactly once per threshold, even with several sweeps at once: each batch is claimed by one
conditional UPDATE (`... WHERE warned_at IS NULL ... RETURNING`; on PostgreSQL the batch is
picked with FOR UPDATE SKIP LOCKED), and the notifications are written in the same transaction.
Each query is a range scan of a partial index over records not yet marked, so a sweep costs
what crosses a threshold, not what is open. Pages never depend on it (see sla.sla_status).
A record that another sweep holds locked (possibly for another threshold) is skipped and left
to that sweep or the next tick: late by one interval at worst, never marked twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from app.auth.models import User
from app.auth.permissions import roles_with
from app.errors import DomainError
from app.extensions import db
from app.notifications.services import notify_user
from app.sla.models import EVIDENCE_WINDOW, MERCHANT_RESPONSE, SlaRecord
from app.tickets.models import Ticket
from app.types import utcnow

log = logging.getLogger(__name__)
BATCH = 500
T = SlaRecord.__table__


SPECIAL = (EVIDENCE_WINDOW, MERCHANT_RESPONSE)  # swept by their own batches below


def _claim(mark: str, threshold: str, now: datetime, *, metric: str | None) -> list:
    """Set `mark` = now on up to BATCH open records whose `threshold` <= now; return the rows won.

    `metric` None: the desk metrics; else only records of that metric."""
    pending = (
        select(T.c.id)
        .where(
            T.c[threshold] <= now,
            T.c[mark].is_(None),
            T.c.met_at.is_(None),
            T.c.stopped_at.is_(None),
            (T.c.metric == metric) if metric else T.c.metric.not_in(SPECIAL),
        )
        .order_by(T.c[threshold])
        .limit(BATCH)
    )
    if db.engine.dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    stmt = (
        update(T)
        .where(T.c.id.in_(pending.scalar_subquery()), T.c[mark].is_(None))
        .values({mark: now})
        .returning(T.c.id, T.c.ticket_id, T.c.metric, T.c.due_at)
    )
    return list(db.session.execute(stmt).all())


def _managers() -> list[User]:
    alerted = User.role.in_(roles_with("sla_alerts"))
    return list(db.session.scalars(select(User).where(alerted, User.is_active_flag.is_(True))))


def _tickets(ids) -> dict[int, Ticket]:
    return {t.id: t for t in db.session.scalars(select(Ticket).where(Ticket.id.in_(set(ids))))}


def _users(ids) -> dict[int, User]:
    """One query per batch (no per-row session.get: each would autoflush and round-trip)."""
    ids = {i for i in ids if i is not None}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


def _send(user: User, kind: str, ticket: Ticket, cause: str, **params) -> None:
    """One notice (app/notifications: worded and routed there, rendered in the reader's language)."""
    notify_user(user, kind, ticket, cause=cause, params=params)


def _warn_batch(now: datetime) -> int:
    rows = _claim("warned_at", "warn_at", now, metric=None)
    tickets = _tickets(r.ticket_id for r in rows)
    users = _users(t.assignee_id for t in tickets.values())
    managers = _managers() if any(t.assignee_id is None for t in tickets.values()) else []
    with db.session.no_autoflush:
        for r in rows:
            t = tickets[r.ticket_id]
            for user in [users[t.assignee_id]] if t.assignee_id is not None else managers:
                _send(user, "sla_warning", t, f"sla:{r.id}:warned", metric=r.metric, due_at=r.due_at.isoformat())
    db.session.commit()
    return len(rows)


def _breach_batch(now: datetime) -> int:
    rows = _claim("breached_at", "due_at", now, metric=None)
    if rows:
        db.session.execute(
            update(Ticket.__table__)
            .where(Ticket.__table__.c.id.in_({r.ticket_id for r in rows}))
            .values(priority=Ticket.__table__.c.priority + 1)
        )
    tickets, managers = _tickets(r.ticket_id for r in rows), _managers() if rows else []
    users = _users(t.assignee_id for t in tickets.values())
    with db.session.no_autoflush:
        for r in rows:
            t = tickets[r.ticket_id]
            recipients = {u.id: u for u in managers}
            if t.assignee_id is not None:
                recipients.setdefault(t.assignee_id, users[t.assignee_id])
            for user in recipients.values():
                _send(user, "sla_breach", t, f"sla:{r.id}:breached", metric=r.metric, due_at=r.due_at.isoformat())
    db.session.commit()
    return len(rows)


def _remind_batch(now: datetime) -> int:
    rows = _claim("warned_at", "warn_at", now, metric=EVIDENCE_WINDOW)
    tickets = _tickets(r.ticket_id for r in rows)
    users = _users(t.customer_id for t in tickets.values())
    with db.session.no_autoflush:
        for r in rows:
            t = tickets[r.ticket_id]
            _send(
                users[t.customer_id],
                "evidence_reminder",
                t,
                f"sla:{r.id}:reminded",
                due_at=r.due_at.isoformat(),
                left=max(1, int((r.due_at - now).total_seconds() // 3600)),
            )
    db.session.commit()
    return len(rows)


def overdue_record(metric: str, now: datetime, skipped: set[int]):
    """The oldest still-running record of `metric` past its due time, not in `skipped` (a query)."""
    return (
        select(SlaRecord)
        .where(
            SlaRecord.metric == metric,
            SlaRecord.due_at <= now,
            SlaRecord.breached_at.is_(None),
            SlaRecord.met_at.is_(None),
            SlaRecord.stopped_at.is_(None),
            SlaRecord.id.not_in(skipped or {0}),
        )
        .order_by(SlaRecord.due_at)
        .limit(1)
    )


def _expire_one(now: datetime, skipped: set[int]) -> bool | None:
    """Close one ticket whose evidence window ran out. None when nothing (unlocked) is due."""
    from app.workflow.service import apply_event

    q = overdue_record(EVIDENCE_WINDOW, now, skipped)
    if db.engine.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    rec = db.session.scalar(q)
    if rec is None:
        db.session.rollback()
        return None
    ticket = db.session.get(Ticket, rec.ticket_id)
    if ticket is None or ticket.state != "evidence":  # should not happen; settle the record and move on
        rec.stopped_at = rec.breached_at = now
        db.session.commit()
        return False
    customer = db.session.get(User, ticket.customer_id)  # the expire notice: app/notifications/table.py
    with force_locale((customer.locale if customer else None) or "zh_Hans_CN"):
        reason = _("The evidence window ended without the requested material.")
    try:
        apply_event(ticket, "expire", None, reason=reason, now=now)
    except DomainError as exc:  # someone else moved the ticket first: nothing to expire
        log.info("expire %s skipped: %s", ticket.ref, exc.message)
        skipped.add(rec.id)
        return False
    return True


def sweep_sla(now: datetime | None = None) -> dict[str, int]:
    """Mark warnings and breaches once, remind customers, expire evidence windows."""
    now = now or utcnow()
    from app.merchants import sweep as merchant_sweep

    counts = {"warned": 0, "breached": 0, "reminded": 0, "expired": 0, "merchant_warned": 0, "merchant_timeouts": 0}
    for key, batch in (
        ("warned", _warn_batch),
        ("breached", _breach_batch),
        ("reminded", _remind_batch),
        ("merchant_warned", merchant_sweep.warn_batch),
    ):
        while True:
            n = batch(now)
            counts[key] += n
            if n < BATCH:
                break
    skipped: set[int] = set()
    while (done := _expire_one(now, skipped)) is not None:
        counts["expired"] += int(done)
    counts["merchant_timeouts"] = merchant_sweep.fire_timeouts(now)
    if any(counts.values()):
        log.info("sla sweep: %s", counts)
    return counts
