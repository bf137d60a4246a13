"""Build users, orders and tickets through the real services (no hand-written state).

Passwords are hashed with 1,000 PBKDF2 rounds in the suite (conftest); PASSWORD logs anyone in.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from flask import current_app

from app.auth.models import User
from app.auth.services import create_user
from app.extensions import db
from app.tickets.models import Merchant, Order, Ticket
from app.tickets.services import create_order, create_ticket
from app.types import utcnow
from app.workflow.service import apply_event

_seq = itertools.count(1)
PASSWORD = "password123"
SETUP_PASSWORD = "violet kettle marching under 42 lanterns"  # passes the password policy

# How to reach each state from `submitted`: (event, role, options).
PATHS: dict[str, list[tuple[str, str, dict]]] = {
    "submitted": [],
    "merchant": [("ask_merchant", "agent", {})],
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
    """`create_user` (with a password the policy accepts); then the suite's shared PASSWORD is set on
    the row, so every test logs in with it (the policy itself is tested in tests/auth/test_accounts.py).
    Other User columns (e.g. flagged=True) are set afterwards. A merchant account answers for one
    merchant: `merchant_id`, or merchant M1 (Star Cards)."""
    merchant_code = None
    if role == "merchant":
        if "merchant_id" in kw:
            merchant_code = db.session.get(Merchant, kw.pop("merchant_id")).code
        else:
            if db.session.query(Merchant).filter_by(code="M1").one_or_none() is None:
                db.session.add(Merchant(code="M1", name="Star Cards"))
                db.session.flush()
            merchant_code = "M1"
    user = create_user(
        email or f"{role}{next(_seq)}@example.test",
        SETUP_PASSWORD,
        role=role,
        name=kw.pop("name", ""),
        merchant_code=merchant_code,
        **({"locale": kw.pop("locale")} if "locale" in kw else {}),
    )
    user.set_password(PASSWORD)
    for name, value in kw.items():
        setattr(user, name, value)
    db.session.commit()
    return user


def make_order(customer: User | None = None, **kw) -> Order:
    """`create_order` as the platform reports it, for merchant M1 ("Star Cards")."""
    customer = customer or make_user("customer")
    if db.session.query(Merchant.id).filter_by(code="M1").scalar() is None:  # no merchant service (yet)
        db.session.add(Merchant(code="M1", name="Star Cards"))
        db.session.commit()
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
    membership = {k.removeprefix("membership_"): values.pop(k) for k in list(values) if k.startswith("membership_")}
    data = {**values, "customer_email": customer.email, "merchant_code": "M1", "membership": membership or None}
    return create_order(data, staff("platform"))


def merchant_user(code: str = "M1", **kw) -> User:
    """A merchant account bound to merchant `code` (created when new)."""
    merchant = db.session.query(Merchant).filter_by(code=code).one_or_none()
    if merchant is None:
        merchant = Merchant(code=code, name=kw.pop("merchant_name", code))
        db.session.add(merchant)
        db.session.flush()
    return make_user("merchant", merchant_id=merchant.id, **kw)


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
    merchant_step: bool = False,
) -> Ticket:
    """A ticket moved to `state` by the real workflow, acting as the right roles.

    Fast-track rules (app/workflow/policies.py) would move small or clear-cut tickets on by
    themselves, and merchant-liable kinds would go to their merchant on submit (when it has an
    account), so both stay off here unless `fast_track=True` / `merchant_step=True`.
    """
    order = order or make_order(customer)
    config = current_app.config
    enabled = config.get("FAST_TRACK_ENABLED", True)
    merchant_enabled = config.get("MERCHANT_STEP_ENABLED", True)
    config["FAST_TRACK_ENABLED"] = enabled and fast_track
    config["MERCHANT_STEP_ENABLED"] = merchant_enabled and merchant_step
    try:
        ticket = create_ticket(order.order_no, kind, "test ticket", order.customer, requested_amount_cents=amount_cents)
    finally:
        config["FAST_TRACK_ENABLED"] = enabled
        config["MERCHANT_STEP_ENABLED"] = merchant_enabled
    for event, role, opts in PATHS[state]:
        actor = None if role == "system" else order.customer if role == "customer" else staff(role)
        apply_event(ticket, event, actor, **opts)
    assert ticket.state == state
    return ticket
