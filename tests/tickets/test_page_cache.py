"""Cached staff pages (app/page_cache.py): the queue and a ticket's staff page come from the cache
only for the same session in the same state, a ticket's own changes and the viewer's own changes
show at once, and other changes at most STAFF_PAGE_CACHE_SECONDS late."""

from __future__ import annotations

import pytest

from app import page_cache
from app.admin.services import set_active
from app.extensions import db
from app.tickets.models import Message
from app.workflow.service import apply_event
from tests.conftest import WebAuth
from tests.factories import make_ticket, make_user, staff
from tests.tickets.test_views import count_queries, login, post, text

pytestmark = pytest.mark.settings(STAFF_PAGE_CACHE_SECONDS=10)


def later(monkeypatch, seconds: float) -> None:
    now = page_cache.time.monotonic() + seconds
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: now)


def test_an_unchanged_ticket_page_is_served_again_without_a_render(client, app, auth):
    ticket = make_ticket()
    url = f"/tickets/{ticket.ref}"
    login(client, staff("agent"), auth)
    with count_queries() as rendered:
        first = client.get(url)
    with count_queries() as cached:
        again = client.get(url)
    assert first.status_code == again.status_code == 200
    assert again.data == first.data
    assert len(cached) == 2 < len(rendered)  # the user, the ticket's fingerprint


def test_the_tickets_own_changes_show_at_once(client, app, auth):
    ticket = make_ticket()
    login(client, staff("agent"), auth)
    url = f"/tickets/{ticket.ref}"
    assert "start_review" in text(client.get(url))
    apply_event(ticket, "start_review", make_user("agent", email="other-agent@example.com"))
    page = text(client.get(url))
    assert 'value="start_review"' not in page and "审核中" in page
    db.session.add(Message(ticket_id=ticket.id, author_id=staff("agent").id, body="客户已补充截图，请复核"))
    db.session.commit()
    assert "客户已补充截图，请复核" in text(client.get(url))


def test_other_changes_show_within_the_bound(client, app, auth, monkeypatch):
    ticket = make_ticket()
    login(client, staff("agent"), auth)
    url = f"/tickets/{ticket.ref}"
    client.get(url)
    other = make_ticket(customer=ticket.customer)  # the customer's history panel: another ticket
    assert other.ref not in text(client.get(url))
    later(monkeypatch, 11)
    assert other.ref in text(client.get(url))


def test_the_queue_shows_the_viewers_own_change_at_once(client, app, auth, monkeypatch):
    first = make_ticket().ref
    login(client, staff("agent"), auth)
    assert first in text(client.get("/queue"))
    newcomer = make_ticket().ref  # filed by someone else: may lag by the bound
    with count_queries() as cached:
        assert newcomer not in text(client.get("/queue"))
    assert len(cached) == 1  # the user only
    resp = post(client, f"/tickets/{first}/messages", {"body": "已收到，正在核实", "internal": "1"})
    assert resp.status_code in (302, 303), resp.status_code
    client.get(resp.headers["Location"])  # the ticket page, with its flash
    assert newcomer in text(client.get("/queue"))  # this session changed something: fresh pages


def test_the_queue_follows_its_filters_and_language(client, app, auth):
    ticket = make_ticket()
    review = make_ticket(state="review")
    login(client, staff("agent"), auth)
    zh = text(client.get("/queue"))
    assert ticket.ref in zh and review.ref not in zh
    assert review.ref in text(client.get("/queue?state=review"))
    en = text(client.get("/queue?lang=en"))
    assert "Queue" in en or "queue" in en
    assert en != zh


def test_another_agent_never_gets_my_page(client, app, auth):
    ticket = make_ticket()
    mine = make_user("agent", email="zhang-agent@example.com", name="张客服")
    theirs = make_user("agent", email="li-agent@example.com", name="李客服")
    login(client, mine, auth)
    assert "张客服" in text(client.get(f"/tickets/{ticket.ref}"))
    other = app.test_client()
    login(other, theirs, WebAuth(other))
    page = text(other.get(f"/tickets/{ticket.ref}"))
    assert "李客服" in page and "张客服" not in page
    assert "李客服" in text(other.get("/queue")) and "张客服" not in text(other.get("/queue"))


def test_a_flash_is_never_lost_to_the_cache(client, app, auth):
    ticket = make_ticket()
    login(client, staff("agent"), auth)
    url = f"/tickets/{ticket.ref}"
    client.get(url)
    resp = post(client, f"/tickets/{ticket.ref}/messages", {"body": "内部备注", "internal": "1"})
    page = text(client.get(resp.headers["Location"]))
    assert 'class="flash' in page


def test_a_disabled_account_gets_no_cached_page(client, app, auth):
    ticket = make_ticket()
    agent = make_user("agent", email="leaving-agent@example.com")
    login(client, agent, auth)
    assert client.get(f"/tickets/{ticket.ref}").status_code == 200
    assert client.get("/queue").status_code == 200
    set_active(staff("admin"), agent.id, False)
    assert client.get(f"/tickets/{ticket.ref}").status_code == 302
    assert client.get("/queue").status_code == 302


def test_an_entry_older_than_the_bound_is_rendered_again(client, app, auth, monkeypatch):
    ref = make_ticket().ref
    login(client, staff("agent"), auth)
    client.get("/queue")
    later(monkeypatch, 11)
    with count_queries() as seen:
        assert ref in text(client.get("/queue"))
    assert len(seen) > 1


def test_the_cache_keeps_to_its_size():
    cache = page_cache.PageCache(ttl=10, max_chars=100)
    cache.put("a", 1, "x" * 60)
    cache.put("b", 1, "y" * 60)  # over the budget: the least recently used goes
    assert cache.get("a", 1) is None and cache.get("b", 1) == "y" * 60
    assert cache.get("b", 2) is None  # another key: not this page


def test_a_cached_staff_page_never_reaches_another_role(client, app, auth):
    ticket = make_ticket()
    url, owner = f"/tickets/{ticket.ref}", ticket.customer
    login(client, staff("agent"), auth)
    assert "start_review" in text(client.get(url))  # the staff page, now cached
    assert client.get("/tickets/RD000000-NOPE00").status_code == 404  # no such ticket: still a 404
    stranger = app.test_client()
    login(stranger, make_user("customer", email="stranger@example.com"), WebAuth(stranger))
    assert stranger.get(url).status_code == 404  # someone else's ticket
    mine = app.test_client()
    login(mine, owner, WebAuth(mine))
    page = text(mine.get(url))
    assert "start_review" not in page and ticket.ref in page  # the customer's own tracker
