"""Notification jobs: announce a transition, deliver notices, remind before evidence deadlines.

Deliveries are claimed with one conditional UPDATE (sent_at IS NULL → now) committed before
sending, so two workers never send the same one; a failed send releases it for a retry ten
minutes later. Every job takes ids, reloads its rows and is safe to run twice.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from app.auth.models import User
from app.extensions import db
from app.notifications.channels import ChannelUnavailable, Outgoing, get_adapter
from app.notifications.messages import render
from app.notifications.models import ContactPoint, Delivery, Notification
from app.notifications.table import EMAIL, KINDS, SMS
from app.types import utcnow

log = logging.getLogger(__name__)
BATCH = 200
D = Delivery.__table__
N = Notification.__table__
RETRY_AFTER = timedelta(minutes=10)
REMINDERS = ((24, "evidence_due_24h"), (2, "evidence_due_2h"))


def external_url(endpoint: str, **values) -> str:
    """An absolute link for mail and SMS (PUBLIC_BASE_URL + the route), outside any request."""
    adapter = current_app.url_map.bind("localhost", url_scheme="http")
    path = adapter.build(endpoint, values, force_external=False)
    return (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/") + path


def _claim(now: datetime, ticket_id: int | None = None) -> list[int]:
    pending = select(D.c.id).where(D.c.sent_at.is_(None), D.c.due_at <= now).order_by(D.c.due_at).limit(BATCH)
    if ticket_id is not None:
        pending = pending.where(D.c.notification_id.in_(select(N.c.id).where(N.c.ticket_id == ticket_id)))
    if db.engine.dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    rows = db.session.execute(
        update(D)
        .where(D.c.id.in_(pending.scalar_subquery()), D.c.sent_at.is_(None))
        .values(sent_at=now, attempts=D.c.attempts + 1)
        .returning(D.c.id)
    ).scalars()
    ids = list(rows)
    db.session.commit()
    return ids


def compose(delivery: Delivery, note: Notification, user: User) -> Outgoing | None:
    """The message for one delivery, in the recipient's language (None: no address any more)."""
    from app.notifications.services import unsubscribe_token

    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = render(note.kind, note.params)
        ref = (note.params or {}).get("ref")
        link = external_url("tickets.detail", ref=ref) if ref else external_url("notifications.index")
        if delivery.channel == EMAIL:
            unsubscribe = None
            if not KINDS[note.kind].mandatory:
                unsubscribe = external_url("notifications.unsubscribe", token=unsubscribe_token(user.id, note.kind))
            ctx = {"text": text, "link": link, "unsubscribe": unsubscribe, "user": user, "kind": note.kind}
            headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
            return Outgoing(
                EMAIL,
                user.email,
                text.title,
                _plain_text(text.title, text.body, link, unsubscribe),
                link,
                html=render_template("notifications/email.html", **ctx),
                headers=headers if unsubscribe else {},
            )
        short = f"{text.title} {link}"
        if delivery.channel == SMS:
            contact = db.session.get(ContactPoint, user.id)
            if not (contact and contact.phone):
                return None
            return Outgoing(SMS, contact.phone, text.title, short, link)
        return Outgoing(delivery.channel, f"user:{user.id}", text.title, text.body, link)


def _plain_text(title: str, body: str, link: str, unsubscribe: str | None) -> str:
    lines = [title, "", body, "", f"{_('Open your request:')} {link}"]
    if unsubscribe:
        lines += ["", "--", f"{_('Do not want these e-mails? Unsubscribe:')} {unsubscribe}"]
    return "\n".join(lines) + "\n"


def _send_claimed(ids: list[int], now: datetime) -> int:
    rows = db.session.execute(
        select(Delivery, Notification, User)
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(User, User.id == Notification.user_id)
        .where(Delivery.id.in_(ids))
    ).all()
    sent = 0
    for delivery, note, user in rows:
        try:
            msg = compose(delivery, note, user)
            reference = get_adapter(delivery.channel).send(msg) if msg else None  # an adapter may give none
            delivery.reference = reference[:120] if reference else None
            delivery.last_error = None if msg else "no address"
            sent += msg is not None
        except (OSError, smtplib.SMTPException, ChannelUnavailable) as exc:
            log.warning("%s to user %s failed (%s); retrying later", delivery.channel, user.id, exc)
            delivery.sent_at, delivery.due_at = None, now + RETRY_AFTER
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
    return sent


def send_due_emails(now: datetime | None = None) -> int:
    """Periodic: send every due, unsent delivery (e-mail, SMS, push) once. Returns how many went out."""
    now = now or utcnow()
    sent = 0
    while ids := _claim(now):
        sent += _send_claimed(ids, now)
        if len(ids) < BATCH:
            break
    return sent


def deliver_ticket_notices(ticket_id: int) -> int:
    """After a commit that added notices on a ticket: send the ones due now."""
    now = utcnow()
    return _send_claimed(_claim(now, ticket_id), now)


def notify_transition(ticket_id: int, seq: int) -> int:
    """The notices of the ticket's audit event `seq` (a transition), then deliver them. Idempotent."""
    from app.notifications.causes import announce_event
    from app.tickets.models import Ticket
    from app.workflow.models import TicketEvent

    ticket = db.session.get(Ticket, ticket_id)
    ev = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.seq == seq))
    if ticket is None or ev is None:
        return 0
    notes = announce_event(ticket, ev)
    db.session.commit()
    if notes:
        deliver_ticket_notices(ticket_id)
    return len(notes)


def remind_evidence_deadlines(now: datetime | None = None) -> int:
    """Periodic: remind customers 24 h and 2 h before their evidence deadline, once each."""
    from app.notifications.causes import evidence_reminder
    from app.tickets.models import Ticket

    now = now or utcnow()
    made = 0
    for hours, trigger in REMINDERS:
        q = select(Ticket).where(
            Ticket.state == "evidence",
            Ticket.evidence_due_at > now,
            Ticket.evidence_due_at <= now + timedelta(hours=hours),
        )
        for ticket in db.session.scalars(q):
            due = ticket.evidence_due_at
            if due is None:  # excluded by the query
                continue
            if hours == 24 and due <= now + timedelta(hours=2):
                continue  # the 2-hour reminder covers it
            made += len(evidence_reminder(ticket, trigger, hours, now))
    db.session.commit()
    if made:
        send_due_emails(now)
    return made
