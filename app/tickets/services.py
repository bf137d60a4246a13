"""Ticket and order verbs. Plain values and the acting user in; domain errors out."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from app.auth.models import User
from app.auth.permissions import can
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db, keep_loaded
from app.notifications import causes
from app.tickets.models import KINDS, PAYMENT_CHANNELS, PRODUCT_TYPES, Merchant, Message, Order, Ticket
from app.tickets.search import TextSearch, filter_by_text
from app.types import utcnow
from app.workflow.events import record_entry
from app.workflow.machine import OPEN_STATES
from app.workflow.policies import refunded_cents
from app.workflow.service import apply_event, open_request_exists

REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_ref(now: datetime) -> str:
    return "RD" + now.strftime("%y%m%d") + "-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(6))


def _customer_for(email: str) -> User:
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role="customer")
        user.set_password(secrets.token_urlsafe(24))  # unusable until the customer sets one
        db.session.add(user)
    elif not can(user, "own_tickets"):
        raise Invalid(str(_l("That e-mail belongs to a staff account.")), fields={"customer_email": ["not a customer"]})
    return user


def _merchant_for(code: str) -> Merchant:
    merchant = db.session.scalar(select(Merchant).where(Merchant.code == code))
    if merchant is None:
        merchant = Merchant(code=code, name=code)
        db.session.add(merchant)
    return merchant


def create_order(data: dict, actor: User) -> Order:
    """Create an order as the platform reports it. `data` is already validated."""
    if not can(actor, "create_order"):
        raise Forbidden(str(_l("Only the platform creates orders.")))
    if db.session.scalar(select(Order.id).where(Order.order_no == data["order_no"])):
        raise Conflict(str(_l("An order with this number exists already.")), fields={"order_no": ["duplicate"]})
    membership = data.pop("membership", None) or {}
    order = Order(
        customer=_customer_for(data.pop("customer_email")),
        merchant=_merchant_for(data.pop("merchant_code")),
        membership_activated_at=membership.get("activated_at"),
        membership_term_days=membership.get("term_days"),
        membership_benefits_used_cents=membership.get("benefits_used_cents"),
        **data,
    )
    db.session.add(order)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(str(_l("An order with this number exists already.")), fields={"order_no": ["duplicate"]})
    return order


def visible_order(order_no: str, user: User) -> Order:
    order = db.session.scalar(select(Order).where(Order.order_no == order_no).options(joinedload(Order.merchant)))
    if order is None or (not can(user, "see_any_ticket") and order.customer_id != user.id):
        raise NotFound(str(_l("No such order.")))
    return order


def create_ticket(
    order_no: str,
    kind: str,
    description: str,
    actor: User,
    requested_amount_cents: int | None = None,
    *,
    now: datetime | None = None,
) -> Ticket:
    """File a complaint/refund ticket on an order (customer: own orders; platform: any).
    `now`: the filing time (default the clock; seed-demo files in the past)."""
    if not can(actor, "file_ticket"):
        raise Forbidden(str(_l("Only customers and the platform file tickets.")))
    order = visible_order(order_no, actor)
    if kind not in KINDS:
        raise Invalid(str(_l("Unknown ticket kind.")), fields={"kind": [f"one of {', '.join(KINDS)}"]})
    open_ticket = select(Ticket.ref).where(
        Ticket.order_id == order.id, Ticket.kind == kind, Ticket.state.in_(OPEN_STATES)
    )
    open_ref, refunded = db.session.execute(  # one statement for both
        select(open_ticket.limit(1).scalar_subquery(), refunded_cents(order.id).scalar_subquery())
    ).one()
    if open_ref is not None:  # one open request per order and kind: follow that one
        raise open_request_exists(open_ref)  # two racing submits: the unique index, same refusal
    balance = order.amount_cents - refunded
    amount = balance if requested_amount_cents is None else requested_amount_cents
    if amount < 0 or amount > balance:
        raise Invalid(
            str(_l("The amount cannot exceed the refundable balance of %(b)s.", b=money(balance))),
            fields={"requested_amount_cents": [f"0..{balance}"]},
        )
    now = now or utcnow()
    ticket = Ticket(
        ref=new_ref(now),
        tracker_token=secrets.token_urlsafe(24),
        kind=kind,
        assignee_id=None,  # set, not left to the INSERT: the commit keeps it loaded (state counts read its history)
        customer_id=order.customer_id,
        order=order,
        merchant_id=order.merchant_id,
        requested_amount_cents=amount,
        description=(description or "").strip(),
        created_at=now,
    )
    db.session.add(ticket)
    with keep_loaded():  # the ticket, its order and the filer: this transaction's own rows
        apply_event(ticket, "submit", actor, now=now)  # fast-track rules run after it (receiver)
    return ticket


def money(cents: int) -> str:
    return f"¥{cents // 100:,}.{cents % 100:02d}"


# What every ticket page and answer shows next to the ticket: loaded in the same query.
_PAGE_LOADS = (joinedload(Ticket.order, innerjoin=True).joinedload(Order.merchant, innerjoin=True),)


def get_ticket(ref: str, user: User) -> Ticket:
    """The ticket `ref` if `user` may see it; someone else's ticket is simply not found."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.ref == ref).options(*_PAGE_LOADS))
    if ticket is None or not can_see(user, ticket):
        raise NotFound(str(_l("No such ticket.")))
    return ticket


def page_fingerprint(ref: str, user: User) -> tuple:
    """For a viewer who sees every ticket (`can_see`'s first rule, checked here): the ticket's page
    fingerprint — id, version and `queries.page_fingerprint_columns` — in one statement of index
    lookups, without loading the ticket (app/page_cache.py keys the staff page on it)."""
    from app.tickets.queries import page_fingerprint_columns

    if not can(user, "see_any_ticket"):
        raise Forbidden(str(_l("Only staff pages are cached.")))
    row = db.session.execute(
        select(Ticket.id, Ticket.version, *page_fingerprint_columns()).where(Ticket.ref == ref)
    ).first()
    if row is None:
        raise NotFound(str(_l("No such ticket.")))
    return tuple(row)


def can_see(user: User, ticket: Ticket) -> bool:
    """Staff and the platform see every ticket; customers their own; merchants their merchant's."""
    if can(user, "see_any_ticket"):
        return True
    if can(user, "merchant_tickets"):
        from app.merchants.access import merchant_sees

        return merchant_sees(user, ticket)
    return can(user, "own_tickets") and ticket.customer_id == user.id


def ticket_by_tracker(token: str) -> Ticket:
    q = select(Ticket).where(Ticket.tracker_token == token).options(*_PAGE_LOADS)
    ticket = db.session.scalar(q) if token else None
    if ticket is None:
        raise NotFound(str(_l("No such ticket.")))
    return ticket


MAX_ID = 2**31 - 1  # ids are INTEGER columns: a larger number is no row, and PostgreSQL rejects it


def cursor_after(ticket: Ticket) -> str:
    """The keyset cursor of the page that starts after `ticket` in the queue order."""
    due = ticket.sla_due_at.isoformat() if ticket.sla_due_at else None
    return _encode_cursor([due, ticket.created_at.isoformat(), ticket.id])


def _encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> list:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        raise Invalid(str(_l("Bad cursor.")), fields={"cursor": ["invalid"]})


def list_tickets(
    user: User,
    *,
    state: str | None = None,
    kind: str | None = None,
    assignee: str | None = None,
    sla: str | None = None,
    search: str | None = None,
    merchant: str | None = None,
    flag: str | None = None,
    product_type: str | None = None,
    channel: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    with_people: bool = False,
) -> tuple[list[Ticket], str | None]:
    """A page of the staff queue by urgency: breached first (most overdue first), then the nearest
    deadline, then tickets without a running clock oldest first. Keyset-paginated on
    (sla_due_at NULLS LAST, created_at, id) — the index ix_tickets_sla_queue. One query per part:
    order and merchant (and with `with_people` the customer and assignee) joined in.
    A merchant user gets the same list scoped to its own merchant's orders."""
    limit = min(limit or current_app.config["PAGE_SIZE"], 200)
    loads = [joinedload(Ticket.order, innerjoin=True).joinedload(Order.merchant, innerjoin=True)]
    if with_people:  # … and the queue's markers (app/tickets/activity.py), in the same query
        loads += [joinedload(Ticket.customer, innerjoin=True), joinedload(Ticket.assignee), joinedload(Ticket.activity)]
    q = filtered_tickets(
        user,
        select(Ticket),
        state=state,
        kind=kind,
        assignee=assignee,
        sla=sla,
        merchant=merchant,
        flag=flag,
        product_type=product_type,
        channel=channel,
    )
    text = TextSearch(search) if search else None  # the same rows as filter_by_text, faster (search.py)
    rows: list[Ticket] = []
    for part in _after_cursor(q, _decode_cursor(cursor)) if cursor else [q]:
        need = limit + 1 - len(rows)
        if need <= 0:
            break
        if text is not None:
            part = text.narrow(part, queue_order, need)
        rows += db.session.scalars(part.options(*loads).order_by(*queue_order(Ticket)).limit(need))
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = cursor_after(rows[-1])
    return rows, nxt


def queue_order(t) -> tuple:
    """The queue's order over `t` (Ticket or a subquery's columns): the index ix_tickets_sla_queue."""
    return (t.sla_due_at.asc().nulls_last(), t.created_at, t.id)


def filtered_tickets(
    user: User,
    q: Select,
    *,
    state: str | None = None,
    kind: str | None = None,
    assignee: str | None = None,
    sla: str | None = None,
    search: str | None = None,
    merchant: str | None = None,
    flag: str | None = None,
    product_type: str | None = None,
    channel: str | None = None,
) -> Select:
    """`q` (over Ticket) narrowed to the queue's filters as `user` may see them (staff: every
    ticket; a merchant user: its own merchant's). Every filter is served by an index: state, kind,
    assignee and SLA deadlines by the tickets' own, the merchant (and a merchant user's scope) by
    ix_tickets_merchant_queue on tickets.merchant_id (the order's merchant, copied), the
    markers by the partial indexes of app/tickets/activity.py, escalations by ix_tickets_escalated_at.
    The order's product type and payment channel (the analytics drill-down) are an EXISTS on the
    ticket's order (its primary key), checked along the queue's own index range."""
    merchant_scope = can(user, "merchant_tickets") and user.merchant_id is not None
    if not (can(user, "queue") or merchant_scope):
        raise Forbidden(str(_l("Staff only.")))
    if merchant_scope:
        q = q.where(Ticket.merchant_id == user.merchant_id)
    if state:
        q = q.where(Ticket.state == state)
    if kind:
        q = q.where(Ticket.kind == kind)
    if assignee == "me":
        q = q.where(Ticket.assignee_id == user.id)
    elif assignee == "none":
        q = q.where(Ticket.assignee_id.is_(None))
    elif assignee:
        if not (
            len(assignee) <= 10 and assignee.isascii() and assignee.isdigit() and int(assignee) <= MAX_ID
        ):  # not "²" nor 10**30
            raise Invalid(str(_l("Bad assignee filter.")), fields={"assignee": ["me, none or a user id"]})
        q = q.where(Ticket.assignee_id == int(assignee))
    if sla:
        now = utcnow()
        if sla == "breached":
            q = q.where(Ticket.sla_due_at <= now)
        elif sla == "warning":
            q = q.where(Ticket.sla_warn_at <= now, Ticket.sla_due_at > now)
        else:
            raise Invalid(str(_l("Bad SLA filter.")), fields={"sla": ["warning or breached"]})
    if search:
        q = filter_by_text(q, search)
    if merchant:  # equality with one id (an InitPlan), so the range is ix_tickets_merchant_queue's in order
        q = q.where(Ticket.merchant_id == select(Merchant.id).where(Merchant.code == merchant).scalar_subquery())
    if product_type:
        if product_type not in PRODUCT_TYPES:
            raise Invalid(str(_l("Bad product type filter.")), fields={"product_type": [", ".join(PRODUCT_TYPES)]})
        q = q.where(Ticket.order.has(Order.product_type == product_type))
    if channel:
        if channel not in PAYMENT_CHANNELS:
            raise Invalid(str(_l("Bad payment channel filter.")), fields={"channel": [", ".join(PAYMENT_CHANNELS)]})
        q = q.where(Ticket.order.has(Order.payment_channel == channel))
    if flag == "escalated":  # the managers' view (partial index ix_tickets_escalated_at)
        q = q.where(Ticket.escalated_at.is_not(None))
    elif flag:
        from app.tickets.activity import MARKERS, TicketActivity, marker_filter

        if flag in MARKERS:
            q = q.where(Ticket.id.in_(select(TicketActivity.ticket_id).where(marker_filter(flag))))
        else:
            raise Invalid(str(_l("Bad marker filter.")), fields={"flag": [", ".join(MARKERS)]})
    return q


def next_in_view(user: User, ticket: Ticket, filters: dict | None) -> Ticket | None:
    """The ticket after `ticket` in the queue order under the filters of the user's last queue page
    (their "view"): one keyset step, the same index range as the queue's next page."""
    from app.tickets.saved_views import queue_kwargs

    f = {k: str(v) for k, v in (filters or {}).items() if isinstance(v, str | int)}
    cursor = cursor_after(ticket)
    try:
        rows, _ = list_tickets(user, search=f.get("q") or None, cursor=cursor, limit=1, **queue_kwargs(f))
    except Invalid:  # filters saved by an older version: no next ticket rather than an error
        return None
    return rows[0] if rows else None


def _cursor_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("naive time")
    return parsed.astimezone(UTC)  # OverflowError for year 1 at +05:00 and the like


def _after_cursor(q, values: list) -> list:
    """The rows after the cursor's row in (sla_due_at NULLS LAST, created_at, id) order, as queries
    each of which starts an index range scan at the cursor: deadlines after it, then no deadline."""
    try:
        due, at, last_id = values
        # Cursors are ours ([aware due or null, aware created_at, int id]); anything else was tampered
        # with: naive or far-off times, floats (1e400) or ids no column holds must not reach the query.
        due = _cursor_time(due) if due is not None else None
        at = _cursor_time(at)
        if type(last_id) is not int or not 0 <= last_id <= MAX_ID:
            raise ValueError("not an id")
    except (ValueError, TypeError, OverflowError):
        raise Invalid(str(_l("Bad cursor.")), fields={"cursor": ["invalid"]})
    later = or_(Ticket.created_at > at, and_(Ticket.created_at == at, Ticket.id > last_id))
    no_deadline = q.where(Ticket.sla_due_at.is_(None))
    if due is None:
        return [no_deadline.where(Ticket.created_at >= at, later)]
    return [q.where(Ticket.sla_due_at >= due, or_(Ticket.sla_due_at > due, later)), no_deadline]


def count_by_state() -> dict[str, int]:
    return dict(db.session.execute(select(Ticket.state, func.count()).group_by(Ticket.state)).all())


def assign_ticket(ticket: Ticket, assignee: User | None, actor: User, version: int | None = None) -> Ticket:
    """Claim (assignee = actor) or assign a ticket; optimistic locking as for events."""
    if not can(actor, "assign"):
        raise Forbidden(str(_l("Only agents and managers assign tickets.")))
    if assignee is not None and not can(assignee, "assignable"):
        raise Invalid(str(_l("Tickets are assigned to agents.")), fields={"assignee": ["not an agent"]})
    if not can(actor, "assign_others") and assignee is not None and assignee.id != actor.id:
        raise Forbidden(str(_l("Agents may only claim tickets for themselves.")))
    if version is not None and version != ticket.version:
        raise Conflict(str(_l("Someone else changed this ticket first. Reload and try again.")))
    changed = ticket.assignee_id != (assignee.id if assignee else None)
    before = ticket.assignee_id
    ticket.assignee_id = assignee.id if assignee else None
    if changed:
        db.session.flush()  # the new version is the notice's cause
        causes.ticket_assigned(ticket, actor)
        record_entry(  # on the audit chain (staff-only): who gave the ticket to whom
            ticket,
            "assigned",
            actor_id=actor.id,
            actor_role=actor.role,
            payload={"from": before, "to": ticket.assignee_id, "staff": True},
            at=utcnow(),
        )
    _commit_or_conflict()
    return ticket


def add_message(
    ticket: Ticket, author: User, body: str, internal: bool = False, *, now: datetime | None = None
) -> Message:
    body = (body or "").strip()
    if not body:
        raise Invalid(str(_l("The message is empty.")), fields={"body": [str(_l("Required."))]})
    if internal and not can(author, "internal_notes"):
        raise Forbidden(str(_l("Customers cannot write internal notes.")))
    msg = Message(
        ticket_id=ticket.id, author_id=author.id, body=body[:5000], internal=internal, created_at=now or utcnow()
    )
    db.session.add(msg)
    causes.message_posted(ticket, msg, author)
    db.session.commit()
    return msg


def _commit_or_conflict() -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(str(_l("Someone else changed this ticket first. Reload and try again.")))
