"""Notifications: notify() adds an in-app row; its e-mail goes out with the send_due_emails job.

Urgent notifications are e-mailed at the next sweep; the others are held to the desk's next
business morning when created outside working hours (never a mail at midnight).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from app.extensions import db
from app.notifications.models import Notification
from app.types import utcnow

_TICK = timedelta(microseconds=1)


def next_business_moment(now: datetime) -> datetime:
    """`now` during working hours, else the next opening time of the desk's calendar."""
    from app.sla.clock import get_calendar

    return get_calendar().add_business_time(now, _TICK) - _TICK


def notify(
    user_id: int, kind: str, title: str, body: str = "", *, ticket_id: int | None = None, urgent: bool = False
) -> Notification:
    """Add a notification to the session (the caller's transaction commits it)."""
    now = utcnow()
    note = Notification(
        user_id=user_id,
        kind=kind,
        title=title[:200],
        body=body,
        ticket_id=ticket_id,
        urgent=urgent,
        created_at=now,
        email_due_at=now if urgent else next_business_moment(now),
    )
    db.session.add(note)
    return note


def list_for(user, limit: int = 50) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(user) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_all_read(user) -> int:
    """Mark the user's unread notifications read. Commits."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return result.rowcount
