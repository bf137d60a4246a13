"""Collective complaints: many open tickets against one merchant, or one product of a merchant,
within COLLECTIVE_WINDOW_HOURS, shown to agents as one group to handle together.

Computed on read (one indexed pass over the window's open tickets, no stored state): at least
COLLECTIVE_MIN_TICKETS tickets filed in the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.merchants.models import Merchant
from app.tickets.models import Order, Ticket
from app.types import utcnow
from app.workflow.machine import OPEN_STATES


@dataclass
class Group:
    merchant_code: str
    merchant_name: str
    product_name: str | None  # None: across the merchant's products
    count: int
    refs: list[str] = field(default_factory=list)


def groups_for(merchant_id: int | None = None) -> list[Group]:
    cfg = current_app.config
    since = utcnow() - timedelta(hours=cfg["COLLECTIVE_WINDOW_HOURS"])
    minimum = cfg["COLLECTIVE_MIN_TICKETS"]
    base = (
        select(Merchant.id, Merchant.code, Merchant.name, Order.product_name, Ticket.ref)
        .join(Order, Order.id == Ticket.order_id)
        .join(Merchant, Merchant.id == Order.merchant_id)
        .where(Ticket.created_at >= since, Ticket.state.in_(OPEN_STATES))
    )
    if merchant_id is not None:
        base = base.where(Merchant.id == merchant_id)
    # One pass over the window's open tickets (an index range on tickets(state, created_at)); the
    # threshold is applied below. (A HAVING subquery joined back made PostgreSQL re-aggregate per row.)
    rows = db.session.execute(base.order_by(Ticket.created_at)).all()
    by_merchant: dict[int, Group] = {}
    by_product: dict[tuple[int, str], Group] = {}
    for mid, code, name, product, ref in rows:
        by_merchant.setdefault(mid, Group(code, name, None, 0)).refs.append(ref)
        by_product.setdefault((mid, product), Group(code, name, product, 0)).refs.append(ref)
    out = []
    for mid, g in by_merchant.items():
        g.count = len(g.refs)
        if g.count < minimum:
            continue
        out.append(g)
        for (pm, _product), pg in by_product.items():
            pg.count = len(pg.refs)
            if pm == mid and pg.count >= minimum and pg.count < g.count:
                out.append(pg)
    return sorted(out, key=lambda g: (-g.count, g.merchant_code, g.product_name or ""))


def group_of(ticket: Ticket) -> Group | None:
    """The merchant-wide collective group this ticket belongs to, if any (the staff ticket page shows
    its size): one count over the window's open tickets of the ticket's merchant. A ticket filed
    before the window, or no longer open, belongs to none: no query."""
    cfg = current_app.config
    since = utcnow() - timedelta(hours=cfg["COLLECTIVE_WINDOW_HOURS"])
    if ticket.state not in OPEN_STATES or ticket.created_at < since:
        return None
    n = db.session.scalar(
        select(func.count(Ticket.id))
        .join(Order, Order.id == Ticket.order_id)
        .where(
            Order.merchant_id == ticket.order.merchant_id,
            Ticket.created_at >= since,
            Ticket.state.in_(OPEN_STATES),
        )
    )
    if not n or n < cfg["COLLECTIVE_MIN_TICKETS"]:
        return None
    merchant = ticket.order.merchant
    return Group(merchant.code, merchant.name, None, int(n))
