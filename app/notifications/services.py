"""The notification service: turn a cause into notices for the right people (table.py).

`announce(trigger, ticket, cause=..., params=...)` adds one Notification per recipient and one
Delivery per outside channel the recipient takes to the caller's session; the caller's commit
makes them durable together with what caused them. Delivery runs as a job after the commit
(`jobs.deliver_ticket_notices`, or the periodic `send_due_emails` for mail held to business
hours and retries). A cause reaches each recipient once: (cause, user) is unique.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.extensions import db, rowcount
from app.notifications.models import ChannelOptOut, ContactPoint, Delivery, Notification
from app.notifications.table import (
    APPEAL_OUTCOME_EVENTS,
    EMAIL,
    IN_APP,
    KINDS,
    OUTSIDE_CHANNELS,
    PUSH,
    ROUTES,
    SMS,
)
from app.types import utcnow

_TICK = timedelta(microseconds=1)


def next_business_moment(now: datetime) -> datetime:
    """`now` during working hours, else the next opening time of the desk's calendar."""
    from app.sla.clock import get_calendar

    return get_calendar().add_business_time(now, _TICK) - _TICK


def _active(role: str) -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == role, User.is_active_flag.is_(True))))


def _user(user_id: int | None) -> list[User]:
    """[the user `user_id`], or [] when there is none (no id, or no such row)."""
    user = db.session.get(User, user_id) if user_id else None
    return [user] if user is not None else []


def _audience(name: str, ticket) -> list[User]:
    if name == "customer":
        return _user(ticket.customer_id)
    if name == "assignee":
        return _user(ticket.assignee_id)
    if name == "finance":
        return _active("finance")
    if name == "managers":
        return _active("manager")
    if name == "merchant":
        from app.merchants.sweep import merchant_users

        return merchant_users(ticket.order.merchant_id)
    raise KeyError(name)


def recipients(trigger: str, ticket, *, actor_id: int | None = None) -> list[tuple[User, str]]:
    """(user, kind) for everyone `trigger` on `ticket` reaches, each user once, never the actor."""
    out: dict[int, tuple[User, str]] = {}
    for audience, kind in ROUTES.get(trigger, ()):
        if audience == "customer" and trigger in APPEAL_OUTCOME_EVENTS and ticket.appealed_at is not None:
            kind = "appeal_outcome"
        for user in _audience(audience, ticket):
            if user.id != actor_id and user.id not in out:
                out[user.id] = (user, kind)
    return list(out.values())


def announce(
    trigger: str,
    ticket,
    *,
    cause: str,
    params: dict | None = None,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """Add the notices `trigger` on `ticket` causes (to the caller's transaction; no commit)."""
    return [
        note
        for user, kind in recipients(trigger, ticket, actor_id=actor_id)
        if (note := notify_user(user, kind, ticket, cause=cause, params=params, now=now)) is not None
    ]


def notify_user(
    user: User, kind: str, ticket, *, cause: str, params: dict | None = None, now: datetime | None = None
) -> Notification | None:
    """One notice of `kind` for `user` (None when this cause already reached them)."""
    now = now or utcnow()
    spec = KINDS[kind]
    exists = select(Notification.id).where(Notification.cause == cause, Notification.user_id == user.id)
    if db.session.scalar(exists) is not None:
        return None
    params = {"ref": ticket.ref if ticket is not None else "", **(params or {})}
    note = Notification(
        user_id=user.id,
        ticket_id=getattr(ticket, "id", None),
        cause=cause[:120],
        kind=kind,
        params=params,
        urgent=spec.urgent,
        created_at=now,
    )
    due = now if spec.urgent else next_business_moment(now)
    for channel in channels_for(user, kind):
        if channel != IN_APP:
            note.deliveries.append(Delivery(channel=channel, due_at=due))
    try:
        with db.session.begin_nested():  # a concurrent worker may have written it first
            db.session.add(note)
    except IntegrityError:
        return None
    return note


def channels_for(user: User, kind: str) -> list[str]:
    """The channels a notice of `kind` reaches `user` on: the kind's, minus opt-outs and missing contacts."""
    spec = KINDS[kind]
    wanted = [c for c in spec.channels if c == IN_APP or spec.mandatory or not opted_out(user, kind, c)]
    contact = db.session.get(ContactPoint, user.id)
    if SMS in wanted and not (contact and contact.phone):
        wanted.remove(SMS)
    if PUSH in wanted and not (contact and contact.push_enabled):
        wanted.remove(PUSH)
    if EMAIL in wanted and not user.email:
        wanted.remove(EMAIL)
    return wanted


def opted_out(user: User, kind: str, channel: str) -> bool:
    q = select(ChannelOptOut.id).where(
        ChannelOptOut.user_id == user.id, ChannelOptOut.kind == kind, ChannelOptOut.channel == channel
    )
    return db.session.scalar(q) is not None


# --- the reader's side ----------------------------------------------------------------------


def list_for(user, limit: int = 50) -> list[tuple[Notification, str | None]]:
    """The user's newest notices with their ticket's ref (for the link)."""
    from app.tickets.models import Ticket

    rows = db.session.execute(
        select(Notification, Ticket.ref)
        .outerjoin(Ticket, Ticket.id == Notification.ticket_id)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()
    return [(n, ref) for n, ref in rows]


def unread_count(user) -> int:
    q = select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    return db.session.scalar(q) or 0


def mark_all_read(user) -> int:
    """Mark the user's unread notifications read. Commits."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return rowcount(result)


def open_notice(user, note_id: int) -> Notification | None:
    """The user's notice `note_id`, marked read (commits); None if it is not theirs."""
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != user.id:
        return None
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.commit()
    return note


# --- preferences and unsubscribe ---------------------------------------------------------------


def optouts(user) -> set[tuple[str, str]]:
    rows = db.session.execute(select(ChannelOptOut.kind, ChannelOptOut.channel).where(ChannelOptOut.user_id == user.id))
    return {(k, c) for k, c in rows}


def save_preferences(user, wanted: Iterable[tuple[str, str]], kinds: Iterable[str], phone: str | None, push: bool):
    """Keep exactly the (kind, channel) pairs in `wanted` on, for the optional `kinds`. Commits."""
    wanted = set(wanted)
    current = optouts(user)
    for kind in kinds:
        if KINDS[kind].mandatory:
            continue
        for channel in OUTSIDE_CHANNELS:
            if channel not in KINDS[kind].channels:
                continue
            off = (kind, channel) not in wanted
            if off and (kind, channel) not in current:
                db.session.add(ChannelOptOut(user_id=user.id, kind=kind, channel=channel))
            elif not off and (kind, channel) in current:
                db.session.execute(
                    ChannelOptOut.__table__.delete().where(
                        ChannelOptOut.user_id == user.id, ChannelOptOut.kind == kind, ChannelOptOut.channel == channel
                    )
                )
    contact = db.session.get(ContactPoint, user.id) or ContactPoint(user_id=user.id)
    contact.phone, contact.push_enabled = (phone or "").strip() or None, push
    db.session.add(contact)
    db.session.commit()


def _serializer():
    from flask import current_app

    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="notifications.unsubscribe")


def unsubscribe_token(user_id: int, kind: str) -> str:
    return _serializer().dumps([user_id, kind])


def read_unsubscribe_token(token: str) -> tuple[User, str] | None:
    try:
        user_id, kind = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or kind not in KINDS or KINDS[kind].mandatory:
        return None
    return user, kind


def unsubscribe(user: User, kind: str) -> None:
    """No more e-mail of `kind` for `user` (idempotent). Commits."""
    if not opted_out(user, kind, EMAIL):
        db.session.add(ChannelOptOut(user_id=user.id, kind=kind, channel=EMAIL))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
