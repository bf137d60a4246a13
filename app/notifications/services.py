"""notify(): an in-app notification, with its e-mail sent by a job after the caller commits."""
from __future__ import annotations

from app.extensions import db
from app.notifications.models import Notification
from app.types import utcnow


def notify(user_id: int, kind: str, title: str, body: str = "", *, ticket_id: int | None = None,
           urgent: bool = False) -> Notification:
    """Add a notification to the session (the caller's transaction commits it).

    The e-mail goes out through the `send_due_emails` sweep (app/notifications/jobs.py):
    urgent ones at once, others held to the next business morning.
    """
    note = Notification(user_id=user_id, kind=kind, title=title[:200], body=body, ticket_id=ticket_id,
                        urgent=urgent, email_due_at=utcnow())
    db.session.add(note)
    return note
