"""A list answer works out once what its tickets share (app/tickets/serializers.py `Viewing`, the
machine's rows per role and state, the calendar's recent positions): each piece must be what the
per-ticket computation gives."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from app.sla.calendar import BusinessCalendar
from app.tickets.serializers import TicketView, Viewing, tracker_url
from app.types import utcnow
from app.workflow.machine import STATES, TRANSITIONS
from app.workflow.service import _may, allowed_events
from tests.factories import make_ticket, make_user, merchant_user, staff


def _every_row(ticket, user, now) -> list[str]:
    return [t.trigger for t in TRANSITIONS if t.trigger != "submit" and _may(t, ticket, user, now)]


def test_allowed_events_are_every_row_the_viewer_may_fire(app):
    tickets = [make_ticket(state) for state in ("submitted", "review", "finance", "rejected", "paid")]
    owner = tickets[0].order.customer
    users = [staff(role) for role in ("agent", "manager", "finance", "admin")]
    users += [owner, make_user("customer"), merchant_user(), make_user("platform"), None]
    now = utcnow()
    for ticket in tickets:
        for user in users:
            assert allowed_events(ticket, user, now) == _every_row(ticket, user, now), (ticket.state, user)
    for state in STATES:  # every state, with the guards seeing a plain ticket
        ticket = tickets[1]
        ticket.state = state
        for user in users:
            assert allowed_events(ticket, user, now) == _every_row(ticket, user, now), (state, user)


def test_a_list_writes_each_ticket_as_the_ticket_alone_would(app):
    agent = staff("agent")
    tickets = [make_ticket(state) for state in ("submitted", "review", "finance", "review")]
    now = utcnow()
    viewing = Viewing(agent, now)
    for ticket in tickets:
        shared, alone = (
            TicketView(ticket, agent, full=False, viewing=viewing),
            TicketView(ticket, agent, full=False, now=now),
        )
        for name in ("state_label", "allowed_events", "sla", "tracker_url", "fast_track", "ref", "version"):
            assert getattr(shared, name) == getattr(alone, name), name
        assert shared.tracker_url == tracker_url(ticket)
        assert (
            shared.order.order_no == ticket.order.order_no and shared.order.merchant.code == ticket.order.merchant.code
        )


@pytest.mark.parametrize("token", ["abc-DEF_123", "with space", "ä", "a/b", "T0kenSl0t", ""])
def test_the_tracker_link_is_the_routers_for_any_token(app, token):
    ticket = SimpleNamespace(tracker_token=token)
    with app.test_request_context():
        viewing = Viewing(None)
        for _ in range(2):  # built once, then reused
            assert viewing.tracker_url(ticket) == tracker_url(ticket)


def test_the_calendars_kept_positions_change_no_answer():
    rng = random.Random(20261201)
    kept = BusinessCalendar()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    now = base + timedelta(days=200, hours=5)
    for _ in range(400):
        due = base + timedelta(minutes=rng.randrange(0, 600 * 24 * 60))
        when = now if rng.random() < 0.7 else base + timedelta(minutes=rng.randrange(0, 600 * 24 * 60))
        fresh = BusinessCalendar()
        a, b = sorted((when, due))
        assert kept.business_time_between(a, b) == fresh.business_time_between(a, b)
        assert kept.working_intervals(due.date()) == fresh.working_intervals(due.date())
        hours = timedelta(hours=rng.randrange(0, 200))
        assert kept.add_business_time(a, hours) == fresh.add_business_time(a, hours)
