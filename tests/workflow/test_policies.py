"""Fast-track rules on submit, each at its boundaries (time frozen with time_machine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.payouts.models import BalanceLedger, Payout
from app.tickets.models import PRODUCT_TYPES
from app.tickets.services import create_ticket
from app.workflow import policies
from app.workflow.models import Incident, TicketEvent
from tests.factories import make_order, make_ticket, make_user, staff

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai


@pytest.fixture(autouse=True)
def frozen(app):
    app.config["AUTO_PAY"] = False  # keep fast-tracked tickets in `finance` to look at them
    with time_machine.travel(NOW, tick=False):
        yield


def submit(order, kind, amount=None):
    return create_ticket(order.order_no, kind, "please refund", order.customer, requested_amount_cents=amount)


def explain(ticket) -> str:
    """The customer's explanation, in English (the zh catalog may be compiled)."""
    from flask_babel import force_locale

    with force_locale("en"):
        return policies.explain(ticket)


def last_event(db, ticket):
    return db.session.scalar(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.seq.desc()).limit(1)
    )


# --- wrong order inside the cooling-off window ---------------------------------------------


def unused_card(paid_ago, **kw):
    return make_order(
        paid_at=NOW - paid_ago,
        product_type="card_key",
        delivery_status="delivered",
        delivered_at=NOW - paid_ago,
        amount_cents=19_500,
        **kw,
    )


@pytest.mark.parametrize(
    "paid_ago, fires",
    [
        (timedelta(minutes=9, seconds=59), True),
        (timedelta(minutes=10), True),
        (timedelta(minutes=10, seconds=1), False),
        (timedelta(minutes=10, seconds=60), False),
    ],
)
def test_wrong_order_cooling_off_boundary(db, paid_ago, fires):
    ticket = submit(unused_card(paid_ago), "wrong_order", amount=100)
    if not fires:
        assert ticket.state == "submitted" and ticket.fast_track_rule is None
        return
    assert ticket.state == "finance" and ticket.approved_amount_cents == 19_500  # full refund, not the 1.00 asked
    ev = last_event(db, ticket)
    assert (ev.event, ev.actor_role, ev.payload["rule"]) == ("fast_track", "system", "wrong_order_cooling_off")
    assert ev.payload["facts"]["seconds_after_payment"] == int(paid_ago.total_seconds())
    assert ticket.fast_track_rule == "wrong_order_cooling_off" and ticket.fast_track_facts["window_minutes"] == 10
    assert "¥195.00" in explain(ticket)


@pytest.mark.parametrize(
    "order_kw, fires",
    [
        ({"card_key_revealed_at": NOW - timedelta(minutes=1)}, False),
        ({"product_type": "recharge", "delivery_status": "delivered"}, False),
        ({"product_type": "recharge", "delivery_status": "pending", "delivered_at": None}, True),
        ({"product_type": "game_card"}, True),
    ],
)
def test_wrong_order_only_when_not_consumed(db, order_kw, fires):
    values = {
        "paid_at": NOW - timedelta(minutes=3),
        "delivered_at": NOW - timedelta(minutes=3),
        "delivery_status": "delivered",
        "product_type": "card_key",
    }
    values.update(order_kw)
    ticket = submit(make_order(**values), "wrong_order")
    assert (ticket.state == "finance") is fires


# --- small amounts for customers in good standing ------------------------------------------


@pytest.mark.parametrize("amount, fires", [(5_000, True), (5_001, False), (1, True)])
def test_small_amount_boundary(db, amount, fires):
    ticket = submit(make_order(amount_cents=20_000), "not_delivered", amount)
    assert ticket.state == ("finance" if fires else "submitted")
    if fires:
        assert ticket.approved_amount_cents == amount and ticket.fast_track_rule == "small_amount"
        assert ticket.fast_track_facts["good_standing"] is True


@pytest.mark.parametrize(
    "kind, fires",
    [
        ("not_delivered", True),
        ("invalid_card", True),
        ("duplicate_charge", True),
        ("not_as_described", False),
        ("other", False),
    ],
)
def test_small_amount_kinds(db, kind, fires):
    assert (submit(make_order(amount_cents=3_000), kind).state == "finance") is fires


def _refunds(customer, amounts, days_ago=1):
    with time_machine.travel(NOW - timedelta(days=days_ago), tick=False):
        for cents in amounts:
            make_ticket("paid", order=make_order(customer, amount_cents=cents), amount_cents=cents)


@pytest.mark.parametrize(
    "previous, fires",
    [
        ([1_000] * 3, True),  # 3 refunds: still good standing
        ([1_000] * 4, False),  # a 4th refund in 30 days
        ([10_000, 10_000], True),  # ¥200.00 exactly
        ([10_000, 10_001], False),  # ¥200.01
    ],
)
def test_small_amount_needs_good_standing(db, previous, fires):
    customer = make_user("customer")
    _refunds(customer, previous)
    ticket = submit(make_order(customer, amount_cents=3_000), "invalid_card")
    assert (ticket.state == "finance") is fires


def test_refunds_older_than_the_window_do_not_count(db):
    customer = make_user("customer")
    _refunds(customer, [1_000] * 5, days_ago=31)
    assert submit(make_order(customer, amount_cents=3_000), "invalid_card").state == "finance"


def test_flagged_customers_are_not_fast_tracked(db):
    customer = make_user("customer", flagged=True)
    assert submit(make_order(customer, amount_cents=3_000), "invalid_card").state == "submitted"


# --- memberships ---------------------------------------------------------------------------


def test_membership_never_activated_is_refunded_in_full(db):
    order = make_order(product_type="membership", amount_cents=19_800, membership_term_days=365)
    ticket = submit(order, "membership_refund", amount=100)
    assert ticket.state == "finance" and ticket.approved_amount_cents == 19_800
    assert ticket.fast_track_rule == "membership_not_activated"
    assert "never activated" in explain(ticket)


def test_activated_membership_goes_to_review_with_a_pro_rata_proposal(db):
    order = make_order(
        product_type="membership",
        amount_cents=30_000,
        membership_term_days=30,
        membership_activated_at=NOW - timedelta(days=10),
        membership_benefits_used_cents=2_500,
    )
    ticket = submit(order, "membership_refund")
    assert ticket.state == "review" and ticket.approved_amount_cents is None
    ev = last_event(db, ticket)
    assert (ev.event, ev.actor_role) == ("start_review", "system")
    # 20 unused days of 30: ¥200.00, minus ¥25.00 of benefits used
    assert ev.payload["proposal"] == {"amount_cents": 17_500}
    facts = ticket.fast_track_facts
    assert (facts["used_days"], facts["unused_share_cents"], facts["benefits_used_cents"]) == (10, 20_000, 2_500)
    assert "¥175.00" in explain(ticket) and "10" in explain(ticket)


def test_a_started_day_counts_as_used(db):
    order = make_order(
        product_type="membership",
        amount_cents=30_000,
        membership_term_days=30,
        membership_activated_at=NOW - timedelta(days=10, seconds=1),
    )
    ticket = submit(order, "membership_refund")
    assert ticket.fast_track_facts["used_days"] == 11 and ticket.fast_track_facts["proposal_cents"] == 19_000


# --- duplicate charges the system can see --------------------------------------------------


@pytest.mark.parametrize(
    "apart, fires", [(timedelta(minutes=4, seconds=59), True), (timedelta(minutes=5, seconds=1), False)]
)
def test_duplicate_charge_window(db, apart, fires):
    customer = make_user("customer")
    make_order(customer, amount_cents=64_800, product_name="原神 创世结晶 6480", paid_at=NOW - timedelta(hours=1))
    second = make_order(
        customer, amount_cents=64_800, product_name="原神 创世结晶 6480", paid_at=NOW - timedelta(hours=1) + apart
    )
    ticket = submit(second, "duplicate_charge")
    assert (ticket.state == "finance") is fires
    if fires:
        assert ticket.approved_amount_cents == 64_800 and ticket.fast_track_rule == "duplicate_charge"
        assert ticket.fast_track_facts["seconds_apart"] == int(apart.total_seconds())


def test_different_amounts_are_not_duplicates(db):
    customer = make_user("customer")
    make_order(customer, amount_cents=64_800, paid_at=NOW - timedelta(minutes=30))
    second = make_order(customer, amount_cents=64_700, paid_at=NOW - timedelta(minutes=29))
    assert submit(second, "duplicate_charge").state == "submitted"


def test_only_one_order_of_a_duplicate_pair_is_refunded(db):
    customer = make_user("customer")
    first = make_order(customer, amount_cents=64_800, paid_at=NOW - timedelta(minutes=30))
    second = make_order(customer, amount_cents=64_800, paid_at=NOW - timedelta(minutes=29))
    assert submit(second, "duplicate_charge").state == "finance"
    assert submit(first, "duplicate_charge").state == "submitted"


# --- declared incidents ---------------------------------------------------------------------


def declare(types, starts, ends):
    from app.workflow.incidents import declare_incident

    return declare_incident(starts, ends, types, "充值通道故障", staff("manager"))


@pytest.mark.parametrize(
    "paid_at, types, ends, covered",
    [
        (NOW - timedelta(hours=2), ["recharge"], NOW - timedelta(hours=1), True),
        (NOW - timedelta(hours=3), ["recharge"], NOW - timedelta(hours=1), True),  # at the start
        (NOW - timedelta(hours=3, seconds=1), ["recharge"], NOW - timedelta(hours=1), False),
        (NOW - timedelta(minutes=59), ["recharge"], NOW - timedelta(hours=1), False),  # after the end
        (NOW - timedelta(minutes=10), ["recharge"], None, True),  # still ongoing
        (NOW - timedelta(hours=2), ["game_card"], NOW - timedelta(hours=1), False),  # other product type
    ],
)
def test_incident_skips_evidence(db, paid_at, types, ends, covered):
    incident = declare(types, NOW - timedelta(hours=3), ends)
    order = make_order(product_type="recharge", paid_at=paid_at, delivered_at=None, delivery_status="failed")
    ticket = submit(order, "service_fault")
    if not covered:
        assert ticket.state == "submitted"
        return
    assert ticket.state == "review" and ticket.fast_track_rule == "incident"
    ev = last_event(db, ticket)
    assert ev.actor_role == "system" and f"#{incident.id}" in ev.reason and "充值通道故障" in ev.reason
    assert "incident" in explain(ticket)


def test_first_rule_wins(db):
    declare(["card_key"], NOW - timedelta(hours=3), None)
    ticket = submit(make_order(amount_cents=3_000, paid_at=NOW - timedelta(hours=1)), "not_delivered")
    assert ticket.fast_track_rule == "small_amount" and ticket.state == "finance"


def test_incident_needs_known_product_types_a_window_and_a_manager_or_admin(db):
    from app.errors import Forbidden, Invalid

    with pytest.raises(Invalid):
        declare(["recharge", "no_such_type"], NOW, None)
    with pytest.raises(Invalid):
        declare(["recharge"], NOW, NOW - timedelta(minutes=1))
    from app.workflow.incidents import declare_incident

    for role in ("agent", "finance"):
        with pytest.raises(Forbidden):
            declare_incident(NOW, None, ["recharge"], "x", staff(role))
    assert db.session.scalar(select(Incident)) is None
    everything = declare_incident(NOW, None, [], "none ticked", staff("admin"))  # none chosen: all product types
    assert everything.product_types == list(PRODUCT_TYPES)


# --- money never exceeds the order; auto-pay ----------------------------------------------


def test_fast_track_refunds_only_what_is_left_on_the_order(db):
    order = unused_card(timedelta(minutes=2))
    make_ticket("finance", order=order, amount_cents=15_000)
    ticket = submit(order, "wrong_order", amount=4_500)
    assert ticket.state == "finance" and ticket.approved_amount_cents == 4_500


def test_fast_tracked_tickets_pay_themselves_with_auto_pay(app, db):
    app.config["AUTO_PAY"] = True
    ticket = submit(make_order(amount_cents=3_000), "invalid_card")
    assert ticket.state == "paid"
    payout = db.session.scalar(select(Payout).where(Payout.ticket_id == ticket.id))
    assert payout.status == "succeeded" and payout.requested_by_id is None


def test_balance_refunds_pay_themselves_after_approval(app, db):
    app.config["AUTO_PAY"] = True
    from app.workflow.service import apply_event

    ticket = make_ticket("review", order=make_order(payment_channel="balance"))
    apply_event(ticket, "approve", staff("agent"), amount_cents=10_000)
    assert ticket.state == "paid"
    assert db.session.scalar(select(BalanceLedger.amount_cents)) == 10_000


def test_no_rule_no_explanation(db):
    ticket = submit(make_order(), "not_as_described")
    assert ticket.state == "submitted" and explain(ticket) == ""


def test_the_customer_sees_it_through_the_api(client, api, db):
    order = make_order(amount_cents=2_000)
    resp = client.post(
        "/api/v1/tickets",
        headers=api.headers(order.customer),
        json={"order_no": order.order_no, "kind": "not_delivered", "description": "nothing came"},
    )
    assert resp.status_code == 201 and resp.json["state"] == "finance"
    assert [e["event"] for e in resp.json["timeline"]] == ["submit", "fast_track"]
    assert resp.json["timeline"][-1]["actor_role"] == "system"
