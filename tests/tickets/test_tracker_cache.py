"""The public tracker page is cached while unchanged, and never shows an outdated state or message."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.tickets import tracker_cache
from app.tickets.models import Message, Ticket
from app.workflow.service import apply_event
from tests.factories import make_ticket, staff
from tests.tickets.test_views import count_queries, login, text


def test_an_unchanged_tracker_costs_one_lookup(client, app):
    ticket = make_ticket()
    url = f"/t/{ticket.tracker_token}"
    first = client.get(url)
    with count_queries() as seen:
        again = client.get(url)
    assert again.status_code == 200 and again.data == first.data
    assert len(seen) == 1


def test_state_change_and_new_message_show_at_once(client, app):
    ticket = make_ticket()
    url = f"/t/{ticket.tracker_token}"
    assert "已提交" in text(client.get(url))
    apply_event(ticket, "start_review", staff("agent"))
    assert "审核中" in text(client.get(url))
    db.session.add(Message(ticket_id=ticket.id, author_id=staff("agent").id, body="马上处理"))
    db.session.commit()
    assert "马上处理" in text(client.get(url))
    db.session.add(Message(ticket_id=ticket.id, author_id=staff("agent").id, body="SECRET note", internal=True))
    db.session.commit()
    assert "SECRET" not in text(client.get(url))


def test_language_and_time_bound(client, app, monkeypatch):
    ticket = make_ticket()
    url = f"/t/{ticket.tracker_token}"
    assert "已提交" in text(client.get(url))
    assert "Submitted" in text(client.get(url + "?lang=en"))
    with count_queries() as cached:
        client.get(url + "?lang=en")
    later = tracker_cache.time.monotonic() + tracker_cache.TTL_SECONDS + 1
    monkeypatch.setattr(tracker_cache.time, "monotonic", lambda: later)
    with count_queries() as expired:
        assert "Submitted" in text(client.get(url + "?lang=en"))
    assert len(cached) == 1 and len(expired) > 1  # past the bound the page is rendered again


def test_logged_in_visitors_get_a_fresh_page(client, app, auth):
    ticket = make_ticket()
    url = f"/t/{ticket.tracker_token}"
    client.get(url)
    login(client, ticket.customer, auth)
    page = text(client.get(url))
    assert "退出" in page or ticket.customer.display_name in page


@pytest.mark.settings(TRACKER_FRESH_SECONDS=1)
def test_a_page_checked_within_the_last_second_needs_no_lookup(client, app, monkeypatch):
    ticket = make_ticket()
    url, ticket_id = f"/t/{ticket.tracker_token}", ticket.id
    clock = [tracker_cache.time.monotonic()]  # the cache's clock, stopped: a busy machine cannot age the page
    monkeypatch.setattr(tracker_cache.time, "monotonic", lambda: clock[0])
    assert "已提交" in text(client.get(url))
    with count_queries() as fresh:
        assert "已提交" in text(client.get(url))
    assert fresh == []  # served without touching the database
    apply_event(db.session.get(Ticket, ticket_id), "start_review", staff("agent"))
    assert "已提交" in text(client.get(url))  # within the second: the page checked a moment ago
    clock[0] += 1.5
    assert "审核中" in text(client.get(url))  # past it: checked again, the change shows
    with count_queries() as again:
        assert "审核中" in text(client.get(url))
    assert again == []
