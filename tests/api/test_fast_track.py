"""The ticket JSON and its timeline entry say which fast-track rule fired and the facts it saw."""

from __future__ import annotations

import pytest

from app.tickets.services import create_ticket
from tests.factories import make_order, make_user, staff


@pytest.fixture
def fast(app):
    customer = make_user("customer")
    order = make_order(customer, product_type="membership", membership_term_days=30)
    ticket = create_ticket(order.order_no, "membership_refund", "never activated", customer)
    assert ticket.fast_track_rule == "membership_not_activated"
    return ticket


@pytest.mark.parametrize("role", ["agent", "manager", "finance", "platform"])
def test_staff_and_platform_see_the_rule_and_its_facts(client, api, fast, role):
    user = make_user("platform") if role == "platform" else staff(role)
    body = client.get(f"/api/v1/tickets/{fast.ref}", headers=api.headers(user)).json
    assert body["fast_track"]["rule"] == "membership_not_activated"
    assert body["fast_track"]["facts"] == {"activated": False, "amount_cents": 10_000}
    (entry,) = [e for e in body["timeline"] if e["fast_track"]]
    assert (entry["event"], entry["actor_role"]) == ("fast_track", "system")
    assert entry["fast_track"] == body["fast_track"]


def test_customer_sees_the_rule_in_plain_words_without_the_facts(client, api, fast):
    body = client.get(f"/api/v1/tickets/{fast.ref}", headers=api.headers(fast.customer)).json
    decided = body["fast_track"]
    assert decided["rule"] == "membership_not_activated" and decided["facts"] is None
    assert decided["explanation"] == "您的会员尚未激活，因此全额退款 ¥100.00。"  # in the customer's language
    (entry,) = [e for e in body["timeline"] if e["fast_track"]]
    assert entry["fast_track"]["facts"] is None


def test_tickets_no_rule_decided_say_none(client, api, app):
    from tests.factories import make_ticket

    ticket = make_ticket("review")
    body = client.get(f"/api/v1/tickets/{ticket.ref}", headers=api.headers(staff("agent"))).json
    assert body["fast_track"] is None and all(e["fast_track"] is None for e in body["timeline"])
