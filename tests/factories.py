"""Build users, orders and tickets through the real services (no hand-written state)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from flask import current_app
from werkzeug.security import generate_password_hash

from app.auth.models import User
from app.extensions import db
from app.tickets.models import Merchant, Order, Ticket
from app.tickets.services import create_ticket
from app.types import utcnow
from app.workflow.service import apply_event

_seq = itertools.count(1)
PASSWORD = "password123"
_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")  # fast in tests

# How to reach each state from `submitted`: (event, role, options).
PATHS: dict[str, list[tuple[str, str, dict]]] = {
    "submitted": [],
    "evidence": [("request_evidence", "agent", {"items": ["payment record"]})],
    "review": [("start_review", "agent", {})],
    "finance": [("start_review", "agent", {}), ("approve", "agent", {})],
    "paid": [("start_review", "agent", {}), ("approve", "agent", {}), ("pay", "finance", {})],
    "rejected": [("start_review", "agent", {}), ("reject", "agent", {"reason": "not covered"})],
    "resolved": [("start_review", "agent", {}), ("resolve", "agent", {"reason": "card replaced"})],
    "withdrawn": [("withdraw", "customer", {})],
    "closed": [("request_evidence", "agent", {"items": ["payment record"]}), ("expire", "system", {})],
}


def make_user(role: str = "customer", email: str | None = None, **kw) -> User:
    user = User(email=email or f"{role}{next(_seq)}@example.test", role=role, name=kw.pop("name", ""), **kw)
    user.password_hash = _HASH
    db.session.add(user)
    db.session.commit()
    return user


def make_order(customer: User | None = None, **kw) -> Order:
    customer = customer or make_user("customer")
    merchant = db.session.query(Merchant).filter_by(code="M1").one_or_none() or Merchant(code="M1", name="Star Cards")
    now = utcnow()
    values = {
        "order_no": f"KM{next(_seq):08d}",
        "product_type": "card_key",
        "product_name": "Steam ¥100",
        "quantity": 1,
        "amount_cents": 10_000,
        "currency": "CNY",
        "payment_channel": "alipay",
        "paid_at": now - timedelta(hours=2),
        "delivery_status": "delivered",
        "delivered_at": now - timedelta(hours=2),
    }
    values.update(kw)
    order = Order(customer=customer, merchant=merchant, **values)
    db.session.add(order)
    db.session.commit()
    return order


def staff(role: str) -> User:
    found = db.session.query(User).filter_by(role=role).order_by(User.id).first()
    return found or make_user(role)


def make_ticket(
    state: str = "submitted",
    order: Order | None = None,
    kind: str = "not_delivered",
    amount_cents: int | None = None,
    customer: User | None = None,
    fast_track: bool = False,
) -> Ticket:
    """A ticket moved to `state` by the real workflow, acting as the right roles.

    Fast-track rules (app/workflow/policies.py) would move small or clear-cut tickets on by
    themselves, so they stay off here unless `fast_track=True`.
    """
    order = order or make_order(customer)
    config = current_app.config
    enabled = config.get("FAST_TRACK_ENABLED", True)
    config["FAST_TRACK_ENABLED"] = enabled and fast_track
    try:
        ticket = create_ticket(order.order_no, kind, "test ticket", order.customer, requested_amount_cents=amount_cents)
    finally:
        config["FAST_TRACK_ENABLED"] = enabled
    for event, role, opts in PATHS[state]:
        actor = None if role == "system" else order.customer if role == "customer" else staff(role)
        apply_event(ticket, event, actor, **opts)
    assert ticket.state == state
    return ticket
