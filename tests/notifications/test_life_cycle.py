"""A life cycle without dead ends: one open request per order and kind, an appeal with a reason,
`reopen` of a resolved ticket within 7 days (once, audited, the agent told)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.errors import Invalid, NotAllowed
from app.extensions import db
from app.notifications.models import Notification
from app.tickets.services import assign_ticket, create_ticket
from app.workflow.events import verify_chains
from app.workflow.models import TicketEvent
from app.workflow.service import allowed_events, apply_event
from tests.factories import make_order, make_ticket, make_user, staff
from tests.helpers import csrf_token


def test_a_second_open_request_of_the_same_kind_is_refused_with_a_link_to_the_open_one(app, client, auth, api):
    order = make_order()
    first = make_ticket("review", order=order)
    with pytest.raises(NotAllowed) as exc:
        create_ticket(order.order_no, "not_delivered", "again", order.customer)
    assert exc.value.fields == {"open_ticket": [first.ref]}
    other_kind = create_ticket(order.order_no, "invalid_card", "the key fails", order.customer, 1_000)
    assert other_kind.ref != first.ref  # another kind is its own request
    resp = client.post(
        "/api/v1/tickets",
        json={"order_no": order.order_no, "kind": "not_delivered", "description": "again"},
        headers=api.headers(order.customer),
    )
    assert resp.status_code == 409 and resp.json["error"]["fields"]["open_ticket"] == [first.ref]
    auth.login(order.customer)
    page = client.get(f"/orders/{order.order_no}/ticket?lang=en")
    resp = client.post(
        f"/orders/{order.order_no}/ticket",
        data={"csrf_token": csrf_token(page), "kind": "not_delivered", "description": "again", "amount": "10.00"},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and f'href="/tickets/{first.ref}"' in html
    assert f"You already have an open request of this kind for this order: {first.ref}." in html


def test_a_finished_request_does_not_block_a_new_one(app):
    order = make_order()
    make_ticket("withdrawn", order=order)
    assert create_ticket(order.order_no, "not_delivered", "again", order.customer).state == "submitted"


def test_an_appeal_needs_a_reason_and_the_tracker_asks_to_confirm(app, client, auth):
    ticket = make_ticket("rejected")
    with pytest.raises(Invalid):
        apply_event(ticket, "appeal", ticket.customer, reason="  ")
    auth.login(ticket.customer)
    html = client.get(f"/tickets/{ticket.ref}?lang=en").get_data(as_text=True)
    assert 'data-confirm="Send the appeal? You can appeal only once."' in html


def test_reopen_a_resolved_ticket_once_within_seven_days_audited_and_the_agent_is_told(app, client, auth):
    ticket = make_ticket("review")
    agent = make_user("agent")
    assign_ticket(ticket, agent, agent)
    apply_event(ticket, "resolve", agent, reason="a new card key was sent")
    resolved_at = ticket.state_changed_at
    auth.login(ticket.customer)
    html = client.get(f"/tickets/{ticket.ref}?lang=en").get_data(as_text=True)
    assert "event-reopen" in html and "You can reopen the request once, within 7 days" in html
    with time_machine.travel(resolved_at + timedelta(days=7, minutes=1)):
        assert "reopen" not in allowed_events(ticket, ticket.customer)
    with pytest.raises(Invalid):
        apply_event(ticket, "reopen", ticket.customer, reason="")
    with time_machine.travel(resolved_at + timedelta(days=6)):
        apply_event(ticket, "reopen", ticket.customer, reason="the new key fails too")
    assert ticket.state == "review"
    entry = db.session.scalar(select(TicketEvent).where(TicketEvent.event == "reopen"))
    assert entry.from_state == "resolved" and entry.reason == "the new key fails too" and verify_chains() is None
    told = db.session.scalar(select(Notification).where(Notification.kind == "reopened"))
    assert told.user_id == agent.id
    apply_event(ticket, "resolve", agent, reason="refunded the key's value instead")
    assert "reopen" not in allowed_events(ticket, ticket.customer)  # once
    assert "reopen" not in allowed_events(ticket, staff("agent"))


def test_tracker_says_in_plain_words_why_no_fast_track_rule_applied(app, client, auth):
    from app.types import utcnow

    customer = make_user("customer")
    late = make_order(customer, paid_at=utcnow() - timedelta(minutes=25), product_type="game_card")
    wrong = create_ticket(late.order_no, "wrong_order", "bought the wrong card", customer)
    big = make_ticket("submitted", order=make_order(customer, amount_cents=20_000))
    auth.login(customer)
    html = client.get(f"/tickets/{wrong.ref}?lang=en").get_data(as_text=True)
    assert "you reported it 25 minutes after payment; the instant refund window is 10 minutes" in html
    zh = client.get(f"/tickets/{big.ref}?lang=zh").get_data(as_text=True)
    assert "无法即时退款：¥200.00 超过了即时退款上限 ¥50.00" in zh
