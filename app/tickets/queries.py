"""Read-only queries for the HTML pages. Each page asks a fixed, small number of queries (no N+1)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.auth.permissions import roles_with
from app.extensions import db
from app.tickets import counters
from app.tickets.models import Message, Order, Ticket
from app.types import utcnow
from app.workflow.machine import OPEN_STATES
from app.workflow.models import TicketEvent

# Money already committed to a refund: the same rule as workflow.service.refundable_balance.
COMMITTED_STATES = ("finance", "paid")
HISTORY_DAYS = 90


@dataclass
class OrderRow:
    order: Order
    refundable_cents: int
    open_tickets: list[Ticket] = field(default_factory=list)


def _committed_by_order(order_ids: list[int]) -> dict[int, int]:
    if not order_ids:
        return {}
    committed = func.coalesce(
        func.sum(case((Ticket.state.in_(COMMITTED_STATES), Ticket.approved_amount_cents), else_=0)), 0
    )
    rows = db.session.execute(
        select(Ticket.order_id, committed).where(Ticket.order_id.in_(order_ids)).group_by(Ticket.order_id)
    )
    return {order_id: int(total or 0) for order_id, total in rows}


def customer_orders(customer_id: int, limit: int = 200) -> list[OrderRow]:
    """A customer's orders, newest first, each with its refundable balance and open tickets (3 queries)."""
    orders = list(
        db.session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.paid_at.desc(), Order.id.desc())
            .limit(limit)
        )
    )
    ids = [o.id for o in orders]
    committed = _committed_by_order(ids)
    open_by_order: dict[int, list[Ticket]] = defaultdict(list)
    if ids:
        for t in db.session.scalars(
            select(Ticket).where(Ticket.order_id.in_(ids), Ticket.state.in_(OPEN_STATES)).order_by(Ticket.created_at)
        ):
            open_by_order[t.order_id].append(t)
    return [OrderRow(o, o.amount_cents - committed.get(o.id, 0), open_by_order.get(o.id, [])) for o in orders]


def customer_order(customer_id: int, order_no: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.order_no == order_no, Order.customer_id == customer_id))


def customer_tickets(customer_id: int, limit: int = 200) -> list[Ticket]:
    """A customer's tickets, newest first, with their orders loaded."""
    return list(
        db.session.scalars(
            select(Ticket)
            .where(Ticket.customer_id == customer_id)
            .options(joinedload(Ticket.order, innerjoin=True))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(limit)
        )
    )


@dataclass
class History:
    tickets: list[Ticket]  # the newest HISTORY_SHOWN of the period
    refunded_cents: int
    refund_count: int
    days: int = HISTORY_DAYS
    count: int = 0  # every ticket of the period (not only those listed)


HISTORY_SHOWN = 10


def customer_history(customer_id: int, now: datetime | None = None, days: int = HISTORY_DAYS) -> History:
    """The customer's tickets of the last `days` days: the newest HISTORY_SHOWN with their orders and,
    through window functions in the same statement, the totals over all of them — one query, never
    every row of a busy customer."""
    since = (now or utcnow()) - timedelta(days=days)
    paid = Ticket.state == "paid"
    rows = db.session.execute(
        select(
            Ticket,
            func.count(Ticket.id).over(),
            func.sum(case((paid, Ticket.approved_amount_cents), else_=0)).over(),
            func.count(case((paid, Ticket.id))).over(),
        )
        .where(Ticket.customer_id == customer_id, Ticket.created_at >= since)
        .options(joinedload(Ticket.order, innerjoin=True))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(HISTORY_SHOWN)
    ).all()
    if not rows:
        return History([], 0, 0, days, 0)
    _t, count, refunded, refunds = rows[0]
    return History([r[0] for r in rows], int(refunded or 0), int(refunds or 0), days, int(count or 0))


def count_by_state(
    *, kind: str | None = None, assignee_id: int | None = None, unassigned: bool = False
) -> dict[str, int]:
    """Tickets per state under the queue's kind/assignee filters, from the maintained counters
    (app/tickets/counters.py: exact, updated in each writer's transaction; never scans tickets)."""
    return counters.count_by_state(kind=kind, assignee_id=assignee_id, unassigned=unassigned)


def tracker_fingerprint(token: str) -> tuple | None:
    """(ticket id, version, newest message id, newest evidence id) of a tracker token, or None:
    one statement, each part an index lookup (tracker_cache.py keys the public page on it)."""
    from app.evidence.models import Evidence

    if not token:
        return None
    newest_message = select(func.max(Message.id)).where(Message.ticket_id == Ticket.id).scalar_subquery()
    newest_file = select(func.max(Evidence.id)).where(Evidence.ticket_id == Ticket.id).scalar_subquery()
    row = db.session.execute(
        select(Ticket.id, Ticket.version, newest_message, newest_file).where(Ticket.tracker_token == token)
    ).first()
    return tuple(row) if row else None


def page_fingerprint_columns() -> tuple:
    """What a ticket's staff page shows of the ticket itself beyond its row, as columns correlated
    with `tickets` (each an index lookup): its newest message, evidence file, evidence processing
    result (thumbnail, OCR) and audit entry. With the row's version (bumped by every UPDATE) they
    make the fingerprint page_cache.py keys the cached staff page on (`services.page_fingerprint`)."""
    from app.evidence.models import Evidence

    return (
        select(func.max(Message.id)).where(Message.ticket_id == Ticket.id).scalar_subquery(),
        select(func.max(Evidence.id)).where(Evidence.ticket_id == Ticket.id).scalar_subquery(),
        select(func.max(Evidence.processed_at)).where(Evidence.ticket_id == Ticket.id).scalar_subquery(),
        select(func.max(TicketEvent.seq)).where(TicketEvent.ticket_id == Ticket.id).scalar_subquery(),
    )


def timeline(ticket_id: int) -> list[TicketEvent]:
    """The ticket's events in order, with their actors (2 queries)."""
    return list(
        db.session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .options(joinedload(TicketEvent.actor))
            .order_by(TicketEvent.seq)
        )
    )


def messages(ticket_id: int, *, include_internal: bool) -> list[Message]:
    """Messages oldest first with their authors; internal notes only when asked (staff pages)."""
    q = select(Message).where(Message.ticket_id == ticket_id).options(joinedload(Message.author))
    if not include_internal:
        q = q.where(Message.internal.is_(False))
    return list(db.session.scalars(q.order_by(Message.id)))


def users_by_id(ids) -> dict[int, User]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def assignable_staff() -> list[User]:
    """Agents and managers a ticket can be assigned to."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_(roles_with("assignable")), User.is_active_flag.is_(True))
            .order_by(User.email)
        )
    )
