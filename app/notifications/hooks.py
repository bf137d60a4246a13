"""Notifications' connections to the app (wired in create_app): the `ticket_transitioned`
receiver and the template helpers (the header's unread count, 催办 status, urge counts)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.jobs import enqueue
from app.notifications.table import ROUTES


def notify_on_transition(sender, *, ticket_id: int, event: str, **_details) -> None:
    """After a transition committed: queue its notices as a job (a slow SMTP never holds a request).

    A crash before the job ran loses no mail that matters: the job takes the audit entry's
    number and is idempotent, and a rerun (`notify_transition`) writes each notice once."""
    if event not in ROUTES:
        return
    from app.workflow.models import TicketEvent

    seq = db.session.scalar(
        select(TicketEvent.seq)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.event == event)
        .order_by(TicketEvent.seq.desc())
        .limit(1)
    )
    if seq is not None:
        enqueue("app.notifications.jobs.notify_transition", ticket_id, seq, retry=3)


def unread_badge() -> int:
    from flask_login import current_user

    from app.auth.permissions import can
    from app.notifications.services import unread_count

    return unread_count(current_user) if can(current_user, "notifications") else 0


def register_template_helpers(app: Flask) -> None:
    from app.notifications.urge import urge_counts, urge_status

    app.jinja_env.globals.update(unread_notifications=unread_badge, urge_status=urge_status, urge_counts=urge_counts)
