"""催办 (urge): when the time promised to the customer has passed, the customer may urge once
per stage per 24 hours. An urge is an audit entry on the ticket's chain (not a transition),
raises the ticket's priority and tells the assignee and the managers (table.py: "urge").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from app.auth.permissions import can
from app.errors import Conflict, Forbidden, NotAllowed
from app.extensions import db
from app.jobs import enqueue
from app.notifications.services import announce
from app.tickets.models import Order, Ticket
from app.types import utcnow
from app.workflow.events import record_entry
from app.workflow.models import TicketEvent

URGE_EVERY = timedelta(hours=24)
# The stages in which the desk owes the customer something by a promised time (ticket.sla_due_at).
URGEABLE = frozenset({"submitted", "review", "finance"})


class UrgeRefused(NotAllowed):
    """409 not_allowed, with the time urging opens (None: not in this stage at all)."""

    def __init__(self, message: str, opens_at: datetime | None):
        super().__init__(message)
        self.opens_at = opens_at

    def to_dict(self) -> dict:
        body = super().to_dict()
        body["error"]["opens_at"] = self.opens_at.isoformat() if self.opens_at else None
        return body


@dataclass
class UrgeStatus:
    possible: bool  # the stage can be urged at all (a promised time runs)
    available: bool  # the button works now
    opens_at: datetime | None  # when it works (None when possible is False)
    last_urged_at: datetime | None  # this stage's last urge


def _last_urge(ticket: Ticket, events: list | None = None) -> datetime | None:
    if events is not None:  # the page's timeline, already loaded: no query
        for ev in reversed(events):
            if ev.event == "urge" and (ev.payload or {}).get("stage") == ticket.state:
                return ev.created_at if ev.created_at >= ticket.state_changed_at else None
        return None
    rows = db.session.execute(
        select(TicketEvent.created_at, TicketEvent.payload)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.event == "urge")
        .order_by(TicketEvent.seq.desc())
        .limit(5)
    ).all()
    for at, payload in rows:
        if (payload or {}).get("stage") == ticket.state and at >= ticket.state_changed_at:
            return at
    return None


def urge_status(ticket: Ticket, now: datetime | None = None, events: list | None = None) -> UrgeStatus:
    """Whether the customer may urge now; `events` (the ticket's audit trail, if loaded) saves a query."""
    now = now or utcnow()
    if ticket.state not in URGEABLE or ticket.sla_due_at is None:
        return UrgeStatus(False, False, None, None)
    last = _last_urge(ticket, events)
    opens = ticket.sla_due_at if last is None else max(ticket.sla_due_at, last + URGE_EVERY)
    return UrgeStatus(True, now >= opens, opens, last)


def urge(ticket: Ticket, user, now: datetime | None = None) -> TicketEvent:
    """The ticket's customer urges the desk. Commits; raises UrgeRefused when not (yet) allowed."""
    now = now or utcnow()
    if not can(user, "own_tickets") or user.id != ticket.customer_id:
        raise Forbidden(str(_l("Only the ticket's customer can urge.")))
    db.session.refresh(ticket, with_for_update=True)  # one urge at a time per ticket
    status = urge_status(ticket, now)
    due_at = ticket.sla_due_at
    if not status.possible or due_at is None:  # (possible means a promised time, sla_due_at, runs)
        db.session.rollback()
        raise UrgeRefused(str(_l("Nothing to urge at this stage: no promised time is running.")), None)
    if not status.available:
        db.session.rollback()
        message = (
            _l("You urged this stage already. You can urge again from %(time)s.", time=_local(status.opens_at))
            if status.last_urged_at
            else _l("The promised time has not passed yet. You can urge from %(time)s.", time=_local(status.opens_at))
        )
        raise UrgeRefused(str(message), status.opens_at)
    try:
        ticket.priority += 1
        entry = record_entry(
            ticket,
            "urge",
            actor_id=user.id,
            actor_role=user.role,
            payload={"stage": ticket.state, "due_at": due_at.isoformat(), "assignee_id": ticket.assignee_id},
            at=now,
        )
        announce(
            "urge",
            ticket,
            cause=f"ev:{ticket.id}:{entry.seq}",
            params={"stage": ticket.state, "due_at": due_at.isoformat()},
            actor_id=user.id,
            now=now,
        )
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(str(_l("Someone else changed this ticket first. Reload and try again.")))
    enqueue("app.notifications.jobs.deliver_ticket_notices", ticket.id)
    return entry


def _local(dt: datetime | None) -> str:
    from app.i18n import local_time

    return local_time(dt)


def urge_counts(since: datetime | date) -> dict[str, list[tuple[str, int]]]:
    """Urges since `since` (a day: from its start on the display clock) per stage, per agent
    (the assignee when urged) and per merchant, most first."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    from app.auth.models import User
    from app.tickets.models import Merchant

    if not isinstance(since, datetime):
        since = datetime.combine(since, time(0), tzinfo=ZoneInfo(current_app.config["TZ_DISPLAY"]))

    base = select(TicketEvent).where(TicketEvent.event == "urge", TicketEvent.created_at >= since).subquery()
    stage = base.c.payload["stage"].as_string()
    by_stage = db.session.execute(select(stage, func.count()).group_by(stage).order_by(func.count().desc())).all()
    agent_id = base.c.payload["assignee_id"].as_integer()
    by_agent = db.session.execute(
        select(func.coalesce(User.name, User.email), func.count())
        .select_from(base)
        .outerjoin(User, User.id == agent_id)
        .group_by(User.id, User.name, User.email)
        .order_by(func.count().desc())
    ).all()
    by_merchant = db.session.execute(
        select(Merchant.code, func.count())
        .select_from(base)
        .join(Ticket, Ticket.id == base.c.ticket_id)
        .join(Order, Order.id == Ticket.order_id)
        .join(Merchant, Merchant.id == Order.merchant_id)
        .group_by(Merchant.code)
        .order_by(func.count().desc())
    ).all()
    return {
        "stage": [(str(s), int(n)) for s, n in by_stage],
        "agent": [(a or "", int(n)) for a, n in by_agent],
        "merchant": [(str(m), int(n)) for m, n in by_merchant],
    }
