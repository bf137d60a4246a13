"""Table-driven over every (state, event, role): allowed ones succeed, others are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from app.errors import Forbidden, Invalid, NotAllowed
from app.workflow.machine import BY_TRIGGER, EVENTS, STATES
from app.workflow.models import TicketEvent
from app.workflow.service import allowed_events, apply_event
from tests.factories import PATHS, make_ticket, make_user, staff

ROLES = ("owner", "other_customer", "agent", "finance", "manager", "admin", "platform", "system")
OPTIONS = {
    "reject": {"reason": "no proof"},
    "resolve": {"reason": "reissued"},
    "return_to_review": {"reason": "wrong account"},
    "request_evidence": {"items": ["payment record"]},
}


def answer_all_items(ticket):
    from app.evidence.items import current_items
    from app.evidence.services import answer_item

    for item in current_items(ticket.id):
        answer_item(ticket, item.code, "cannot provide: the bill was deleted", ticket.customer)


def actor_for(role, ticket):
    if role == "owner":
        return ticket.customer
    if role == "other_customer":
        return make_user("customer")
    if role == "system":
        return None
    return staff(role)


def expected_ok(role: str, state: str, event: str) -> bool:
    t = BY_TRIGGER[event]
    r = "customer" if role in ("owner", "other_customer") else role
    if r not in t.roles or state not in t.source:
        return False
    return "owner" not in t.conditions or role == "owner"


@pytest.mark.parametrize("state", [s for s in STATES if s != "new"])
@pytest.mark.parametrize("event", [e for e in EVENTS if e != "submit"])
def test_every_state_event_role(app, state, event):
    ticket = make_ticket(state)
    winners = []
    for role in ROLES:
        user = actor_for(role, ticket)
        if expected_ok(role, state, event):
            assert event in allowed_events(ticket, user)
            winners.append(role)
            continue
        assert event not in allowed_events(ticket, user)
        r = "customer" if role in ("owner", "other_customer") else role
        expected_error = Forbidden if r not in BY_TRIGGER[event].roles else NotAllowed
        with pytest.raises(expected_error) as exc:
            apply_event(ticket, event, user, **OPTIONS.get(event, {}))
        assert exc.value.allowed_events == allowed_events(ticket, user)
        assert ticket.state == state
    for role in winners:  # each allowed role succeeds on a fresh ticket in that state
        fresh = make_ticket(state)
        if event == "provide_evidence":  # the customer answers every requested item first
            answer_all_items(fresh)
        before = TicketEvent.query.filter_by(ticket_id=fresh.id).count()
        apply_event(fresh, event, actor_for(role, fresh), **OPTIONS.get(event, {}))
        assert fresh.state == BY_TRIGGER[event].dest
        assert TicketEvent.query.filter_by(ticket_id=fresh.id).count() == before + 1


@pytest.mark.parametrize("event", ["reject", "resolve"])
def test_reason_required(app, event):
    ticket = make_ticket("review")
    with pytest.raises(Invalid) as exc:
        apply_event(ticket, event, staff("agent"), reason="   ")
    assert "reason" in exc.value.fields
    assert ticket.state == "review"


def test_return_to_review_needs_reason_and_clears_approval(app):
    ticket = make_ticket("finance")
    with pytest.raises(Invalid):
        apply_event(ticket, "return_to_review", staff("finance"))
    apply_event(ticket, "return_to_review", staff("finance"), reason="account closed")
    assert ticket.state == "review" and ticket.approved_amount_cents is None


def test_appeal_once_within_window(app):
    ticket = make_ticket("rejected")
    customer = ticket.customer
    apply_event(ticket, "appeal", customer)
    assert ticket.state == "review"
    apply_event(ticket, "reject", staff("agent"), reason="still no proof")
    with pytest.raises(NotAllowed):
        apply_event(ticket, "appeal", customer)  # only once


def test_appeal_window_expires_after_15_days(app):
    ticket = make_ticket("rejected")
    with time_machine.travel(ticket.rejected_at + timedelta(days=15, minutes=1)):
        assert "appeal" not in allowed_events(ticket, ticket.customer)
        with pytest.raises(NotAllowed):
            apply_event(ticket, "appeal", ticket.customer)
    with time_machine.travel(ticket.rejected_at + timedelta(days=14, hours=23)):
        apply_event(ticket, "appeal", ticket.customer)
    assert ticket.state == "review"


def test_approval_amount_bounds(app):
    ticket = make_ticket("review")  # order of ¥100.00
    agent = staff("agent")
    for bad in (0, -1, 10_001):
        with pytest.raises(Invalid):
            apply_event(ticket, "approve", agent, amount_cents=bad)
    apply_event(ticket, "approve", agent, amount_cents=10_000)
    assert ticket.approved_amount_cents == 10_000


def test_refunds_across_tickets_of_one_order_never_exceed_paid(app):
    first = make_ticket("finance", amount_cents=6_000)
    second = make_ticket("review", order=first.order, amount_cents=4_000)
    with pytest.raises(Invalid):
        apply_event(second, "approve", staff("agent"), amount_cents=4_001)
    apply_event(second, "approve", staff("agent"), amount_cents=4_000)
    third_order_balance = first.order.amount_cents - 6_000 - 4_000
    assert third_order_balance == 0


def test_agent_approval_limit_needs_manager(app):
    from tests.factories import make_order

    order = make_order(amount_cents=80_000)
    ticket = make_ticket("review", order=order)
    with pytest.raises(Forbidden):
        apply_event(ticket, "approve", staff("agent"))
    apply_event(ticket, "approve", staff("manager"))
    assert ticket.state == "finance"


def test_every_state_has_a_path():
    assert set(PATHS) == set(STATES) - {"new"}
