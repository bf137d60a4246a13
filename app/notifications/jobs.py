"""send_due_emails: mail the notifications whose e-mail is due, each once.

A batch is claimed with one conditional UPDATE (emailed_at IS NULL → now) and committed
before sending, so two runs never mail the same row; a failed send releases the row again
for a retry ten minutes later. Without SMTP_HOST the mail is only logged.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select, update

from app.auth.models import User
from app.extensions import db
from app.notifications.models import Notification
from app.types import utcnow

log = logging.getLogger(__name__)
BATCH = 200
N = Notification.__table__


def _claim(now: datetime) -> list[int]:
    pending = (
        select(N.c.id).where(N.c.emailed_at.is_(None), N.c.email_due_at <= now).order_by(N.c.email_due_at).limit(BATCH)
    )
    if db.engine.dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    rows = (
        db.session.execute(
            update(N)
            .where(N.c.id.in_(pending.scalar_subquery()), N.c.emailed_at.is_(None))
            .values(emailed_at=now)
            .returning(N.c.id)
        )
        .scalars()
        .all()
    )
    db.session.commit()
    return list(rows)


def send_mail(to: str, subject: str, body: str) -> None:
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = cfg["MAIL_FROM"], to, subject
    msg.set_content(body or subject)
    if not cfg.get("SMTP_HOST"):
        log.info("mail (SMTP_HOST unset, not sent) to=%s subject=%s", to, subject)
        return
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=20) as smtp:
        if cfg.get("SMTP_STARTTLS"):
            smtp.starttls()
        if cfg.get("SMTP_USER"):
            smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
        smtp.send_message(msg)


def send_due_emails(now: datetime | None = None) -> int:
    """Send every due, unsent notification e-mail once. Returns how many were sent."""
    now = now or utcnow()
    sent = 0
    while ids := _claim(now):
        rows = db.session.execute(
            select(Notification, User.email).join(User, User.id == Notification.user_id).where(Notification.id.in_(ids))
        ).all()
        failed = []
        for note, email in rows:
            try:
                send_mail(email, note.title, note.body)
                sent += 1
            except (OSError, smtplib.SMTPException):
                log.exception("mail to %s failed; retrying later", email)
                failed.append(note.id)
        if failed:
            db.session.execute(
                update(N).where(N.c.id.in_(failed)).values(emailed_at=None, email_due_at=now + timedelta(minutes=10))
            )
            db.session.commit()
        if len(ids) < BATCH:
            break
    return sent
