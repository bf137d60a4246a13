"""Apply workflow events: check, transition, audit, commit, then run after-commit work.

The only code path that changes `ticket.state`. Other packages plug in through
`register_check` (extra input checks for an event, inside the transaction) and
`after_commit` (work to do once the transition is durable, e.g. enqueue jobs).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.auth.permissions import role_can
from app.errors import Conflict, Forbidden, Invalid, NotAllowed
from app.extensions import db
from app.sla import clock as sla
from app.tickets.models import Order, Ticket
from app.types import utcnow
from app.workflow.events import record_event
from app.workflow.machine import BY_TRIGGER, TRANSITIONS, Transition, fire


@dataclass
class EventContext:
    ticket: Ticket
    event: str
    user: object | None  # app.auth.models.User, or None for the system
    role: str
    now: datetime
    reason: str | None = None
    amount_cents: int | None = None
    items: list | None = None
    payload: dict = field(default_factory=dict)  # recorded on the TicketEvent


Check = Callable[[EventContext], None]
_checks: dict[str, list[Check]] = defaultdict(list)
_after_commit: list[Callable[[int, str, str], None]] = []


def register_check(event: str, fn: Check) -> None:
    if fn not in _checks[event]:
        _checks[event].append(fn)


def after_commit(fn: Callable[[int, str, str], None]) -> None:
    """fn(ticket_id, event, to_state), called after the transition committed."""
    if fn not in _after_commit:
        _after_commit.append(fn)


def role_of(user) -> str:
    return user.role if user is not None else "system"


def _condition_ok(name: str, ticket: Ticket, user, now: datetime) -> bool:
    if name == "owner":
        return user is not None and user.id == ticket.customer_id
    if name == "appeal_open":
        window = timedelta(days=current_app.config["APPEAL_WINDOW_DAYS"])
        return ticket.appealed_at is None and ticket.rejected_at is not None and now <= ticket.rejected_at + window
    raise KeyError(name)


def _may(t: Transition, ticket: Ticket, user, now: datetime) -> bool:
    return (
        role_of(user) in t.roles
        and ticket.state in t.source
        and all(_condition_ok(c, ticket, user, now) for c in t.conditions)
    )


def allowed_events(ticket: Ticket, user, now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    return [t.trigger for t in TRANSITIONS if t.trigger != "submit" and _may(t, ticket, user, now)]


def refundable_balance(order: Order, exclude_ticket_id: int | None = None) -> int:
    """What can still be refunded on an order: paid amount minus other tickets' approved money."""
    q = select(db.func.coalesce(db.func.sum(Ticket.approved_amount_cents), 0)).where(
        Ticket.order_id == order.id, Ticket.state.in_(("finance", "paid"))
    )
    if exclude_ticket_id is not None:
        q = q.where(Ticket.id != exclude_ticket_id)
    return order.amount_cents - db.session.scalar(q)


def _check_input(t: Transition, ctx: EventContext) -> None:
    if t.reason_required and not (ctx.reason or "").strip():
        raise Invalid(str(_l("A reason is required.")), fields={"reason": [str(_l("Required."))]})
    if t.trigger == "approve":
        _check_approval(ctx)
    for fn in _checks[t.trigger]:
        fn(ctx)


def _check_approval(ctx: EventContext) -> None:
    ticket = ctx.ticket
    amount = ctx.amount_cents if ctx.amount_cents is not None else ticket.requested_amount_cents
    # Lock the order so two approvals on different tickets of one order cannot overdraw it.
    order = db.session.get(Order, ticket.order_id, with_for_update=True, populate_existing=True)
    balance = refundable_balance(order, exclude_ticket_id=ticket.id)
    if amount <= 0 or amount > balance:
        raise Invalid(
            str(_l("The amount must be more than 0 and at most the refundable balance (%(b)s cents).", b=balance)),
            fields={"amount_cents": [f"1..{balance}"]},
        )
    limit = current_app.config["APPROVAL_LIMIT_CENTS"]
    if role_can(ctx.role, "capped_approvals") and amount > limit:
        raise Forbidden(str(_l("Amounts above the approval limit need a manager's approval.")))
    ctx.amount_cents = amount
    ctx.payload["amount_cents"] = amount


def _apply_effects(ctx: EventContext) -> None:
    ticket, ev = ctx.ticket, ctx.event
    if ev in ("approve", "fast_track") and ctx.amount_cents is not None:
        ticket.approved_amount_cents = ctx.amount_cents
    elif ev == "return_to_review":
        ticket.approved_amount_cents = None
    elif ev == "reject":
        ticket.rejected_at = ctx.now
        ticket.closed_reason = ctx.reason
    elif ev == "appeal":
        ticket.appealed_at = ctx.now
    elif ev in ("resolve", "withdraw", "expire"):
        ticket.closed_reason = ctx.reason
    if ctx.items is not None:
        ctx.payload["items"] = ctx.items


def apply_event(
    ticket: Ticket,
    event: str,
    user,
    *,
    reason: str | None = None,
    amount_cents: int | None = None,
    items: list | None = None,
    version: int | None = None,
    payload: dict | None = None,
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
        raise Conflict(str(_l("Someone else changed this ticket first. Reload and try again.")))
    role = role_of(user)
    if role not in t.roles:
        raise Forbidden(str(_l("Your role may not do this.")), allowed_events=allowed_events(ticket, user, now))
    if not _may(t, ticket, user, now):
        raise NotAllowed(
            str(_l("This action is not allowed in the ticket's current state.")),
            allowed_events=allowed_events(ticket, user, now),
        )
    ctx = EventContext(
        ticket,
        event,
        user,
        role,
        now,
        reason=(reason or "").strip() or None,
        amount_cents=amount_cents,
        items=items,
        payload=dict(payload or {}),
    )
    try:
        _check_input(t, ctx)
        from_state = ticket.state
        fire(ticket, event)
        ticket.state_changed_at = now
        _apply_effects(ctx)
        sla.on_transition(ticket, event, from_state, now)
        db.session.flush()  # assigns ticket.id for the first event
        record_event(
            ticket,
            event,
            None if from_state == "new" else from_state,
            ticket.state,
            actor_id=getattr(user, "id", None),
            actor_role=role,
            reason=ctx.reason,
            payload=ctx.payload,
            at=now,
        )
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        raise Conflict(str(_l("Someone else changed this ticket first. Reload and try again.")))
    except Exception:
        db.session.rollback()
        raise
    for fn in list(_after_commit):
        fn(ticket.id, event, ticket.state)
    return ticket
