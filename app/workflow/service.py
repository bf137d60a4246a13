"""Apply workflow events: guard, check, transition, effects, audit, commit, then signal.

The only code path that changes `ticket.state`. What each event checks and changes is said by
its row in app/workflow/machine.py; after the commit `ticket_transitioned` is sent
(app/workflow/signals.py) and its receivers run, each in isolation.

Errors: a stale `version`, or a concurrent writer detected at flush (StaleDataError, or two
writers appending the same audit sequence number to one ticket's chain), is a `Conflict` ("someone
else changed this ticket first"); a second open request of one kind on one order (the partial
unique index `uq_tickets_one_open_request`: two submits racing, or an appeal/reopen while another
request of that kind is open) is the same `NotAllowed` with the open ticket's ref that
`create_ticket` gives; any other integrity violation is an `IntegrityViolation`,
logged with the ticket ref — a data rule refused the change, reloading will not help.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.errors import Conflict, Forbidden, IntegrityViolation, Invalid, NotAllowed
from app.extensions import db
from app.tickets.models import ONE_OPEN_INDEX, Ticket
from app.types import utcnow
from app.workflow.events import record_event
from app.workflow.machine import BY_TRIGGER, EVERY_TRANSITION, OPEN_STATES, TRANSITIONS, EventContext, Transition
from app.workflow.signals import send_transitioned

if TYPE_CHECKING:
    from app.auth.models import User

log = logging.getLogger(__name__)

# The audit chain's per-ticket sequence is the chain's version: a duplicate is a concurrent writer.
EVENT_SEQ_CONSTRAINT = ("uq_ticket_events_ticket_seq", "ticket_events.ticket_id, ticket_events.seq")

# At most one open request per order and kind (app/tickets/models.py); SQLite names the columns.
ONE_OPEN_CONSTRAINT = (ONE_OPEN_INDEX, "tickets.order_id, tickets.kind")


def conflict() -> Conflict:
    return Conflict(str(_l("Someone else changed this ticket first. Reload and try again.")))


def open_request_exists(open_ref: str | None) -> NotAllowed:
    """The refusal of a second open request of one kind on one order, with the open one to follow."""
    return NotAllowed(
        str(_l("You already have an open request of this kind for this order: %(ref)s.", ref=open_ref)),
        fields={"open_ticket": [open_ref]},
    )


def _open_ref(order_id: int | None, kind: str, ticket_id: int | None) -> str | None:
    q = select(Ticket.ref).where(Ticket.order_id == order_id, Ticket.kind == kind, Ticket.state.in_(OPEN_STATES))
    if ticket_id is not None:
        q = q.where(Ticket.id != ticket_id)
    return db.session.scalar(q.limit(1))


def role_of(user: User | None) -> str:
    return user.role if user is not None else "system"


def _may(t: Transition, ticket: Ticket, user: User | None, now: datetime) -> bool:
    return role_of(user) in t.roles and ticket.state in t.source and all(g(ticket, user, now) for g in t.guards)


def allowed_events(ticket: Ticket, user: User | None, now: datetime | None = None) -> list[str]:
    """The events `user` may fire on `ticket` now (in the machine's order): `_may` of every row,
    with the rows for the role and state picked once (only their guards look at the ticket)."""
    now = now or utcnow()
    return [t.trigger for t in _candidates(role_of(user), ticket.state) if all(g(ticket, user, now) for g in t.guards)]


@functools.cache
def _candidates(role: str, state: str | None) -> tuple[Transition, ...]:
    """The machine's rows (but submit) that `role` may fire from `state`: fixed, as TRANSITIONS is."""
    return tuple(t for t in TRANSITIONS if t.trigger != "submit" and role in t.roles and state in t.source)


def _check_input(t: Transition, ctx: EventContext) -> None:
    for check in t.checks:
        check(ctx)


def _is_version_conflict(exc: IntegrityError) -> bool:
    text = str(exc.orig)
    return any(name in text for name in EVENT_SEQ_CONSTRAINT)


def apply_event(
    ticket: Ticket,
    event: str,
    user: User | None,
    *,
    reason: str | None = None,
    amount_cents: int | None = None,
    items: list[Any] | None = None,
    version: int | None = None,
    payload: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Fire `event` on `ticket` as `user` (None = system) in one transaction."""
    now = now or utcnow()
    t = BY_TRIGGER.get(event)
    if t is None:
        raise Invalid(
            str(_l("Unknown event.")), fields={"event": [event]}, allowed_events=allowed_events(ticket, user, now)
        )
    if version is not None and version != ticket.version:
        raise conflict()
    role = role_of(user)
    actor_id = getattr(user, "id", None)
    if role not in t.roles:
        raise Forbidden(str(_l("Your role may not do this.")), allowed_events=allowed_events(ticket, user, now))
    if not _may(t, ticket, user, now):
        raise NotAllowed(
            str(_l("This action is not allowed in the ticket's current state.")),
            allowed_events=allowed_events(ticket, user, now),
        )
    from_state, ref, kind, ticket_id = ticket.state, ticket.ref, ticket.kind, ticket.id
    order_id = ticket.order.id if ticket.order is not None else ticket.order_id
    ctx = EventContext(
        ticket,
        event,
        user,
        role,
        now,
        from_state,
        reason=(reason or "").strip() or None,
        amount_cents=amount_cents,
        items=items,
        payload=dict(payload or {}),
    )
    try:
        _check_input(t, ctx)
        ticket.state = t.dest  # the one write of a ticket's state
        if not t.keeps_stage:
            ticket.state_changed_at = now
        for effect in t.effects:
            effect(ctx)
        for always in EVERY_TRANSITION:
            always(ctx, t)
        if ctx.items is not None:
            ctx.payload["items"] = ctx.items
        db.session.flush()  # assigns ticket.id for the first event
        record_event(
            ticket,
            event,
            None if from_state == "new" else from_state,
            ticket.state,
            actor_id=actor_id,
            actor_role=role,
            reason=ctx.reason,
            payload=ctx.payload,
            at=now,
            first=from_state == "new",
        )
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise conflict()
    except IntegrityError as exc:
        db.session.rollback()
        if _is_version_conflict(exc):
            raise conflict()
        if any(name in str(exc.orig) for name in ONE_OPEN_CONSTRAINT):
            raise open_request_exists(_open_ref(order_id, kind, ticket_id))
        log.error("integrity violation on %s of ticket %s: %s", event, ref, exc.orig)
        raise IntegrityViolation(
            str(_l("This change breaks a data rule, so nothing was saved. Please tell the support team."))
        )
    except Exception:
        db.session.rollback()
        raise
    send_transitioned(
        ticket_id=ticket.id,
        ticket_ref=ref,
        event=event,
        from_state=None if from_state == "new" else from_state,
        to_state=ticket.state,
        actor_id=actor_id,
        actor_role=role,
    )
    return ticket
