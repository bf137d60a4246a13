"""The staff queue's saved views (personal and shared, with live counts), its markers (customer
replied / new evidence / appealed / urged since staff last acted), the complainant flag and the
"next ticket in my view" link on the ticket page."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine

from app.evidence.services import attach_evidence
from app.extensions import db
from app.notifications.urge import urge
from app.tickets import saved_views
from app.tickets.saved_views import COUNT_CAP, SavedView
from app.tickets.services import add_message
from app.workflow.service import apply_event
from tests.evidence.helpers import image_bytes
from tests.factories import make_order, make_ticket, make_user, staff
from tests.helpers import csrf_token
from tests.translations import ensure_compiled

ensure_compiled()


def _row(html: str, ref: str) -> str:
    m = re.search(rf'<tr data-ref="{ref}">(.*?)</tr>', html, re.S)
    assert m, ref
    return m.group(1)


def _as(auth, user):
    auth.logout()
    resp = auth.login(user)
    assert resp.status_code == 302
    return user


def _queue(client, **params) -> str:
    resp = client.get("/queue", query_string={"lang": "en", "state": "", **params})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.get_data(as_text=True)


@pytest.fixture
def quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FAST_TRACK_ENABLED", False)


def test_markers_show_what_the_customer_did_since_staff_last_acted(app, client, auth, quiet):
    agent = staff("agent")
    replied, evidence, calm = make_ticket("review"), make_ticket("evidence"), make_ticket("review")
    add_message(replied, replied.customer, "Any news? I am still waiting.")
    attach_evidence(evidence, io.BytesIO(image_bytes()), "receipt.png", evidence.customer)
    add_message(calm, calm.customer, "Thanks")
    add_message(calm, agent, "We are on it.")  # staff answered after the customer: no marker
    auth.login(agent)
    html = _queue(client)
    assert "Customer replied" in _row(html, replied.ref) and "New evidence" not in _row(html, replied.ref)
    assert "New evidence" in _row(html, evidence.ref)
    assert "badge marker" not in _row(html, calm.ref)
    only = _queue(client, flag="replied")
    assert replied.ref in only and evidence.ref in only and calm.ref not in only
    add_message(replied, agent, "note to self", internal=True)  # an internal note is acting too
    assert "Customer replied" not in _row(_queue(client), replied.ref)


def test_appeal_and_urge_are_marked(app, client, auth, quiet):
    appealed = make_ticket("rejected")
    apply_event(appealed, "appeal", appealed.customer, reason="the key was never revealed")
    urged = make_ticket("review")
    with time_machine.travel(urged.sla_due_at + timedelta(minutes=1), tick=False):
        urge(urged, urged.customer)
    auth.login(staff("agent"))
    html = _queue(client)
    assert "Appealed" in _row(html, appealed.ref) and "Urged" in _row(html, urged.ref)
    assert "Urged" not in _row(html, appealed.ref)
    assert urged.ref not in _queue(client, flag="appealed")
    apply_event(appealed, "reject", staff("agent"), reason="still no proof")
    assert "Appealed" not in _row(_queue(client), appealed.ref)


def _save(client, name: str, shared: bool = False, **filters):
    page = client.get("/queue")
    data = {"csrf_token": csrf_token(page), "name": name, **filters}
    if shared:
        data["shared"] = "1"
    return client.post("/queue/views", data=data)


def test_personal_and_shared_views_with_live_counts(app, client, auth, quiet):
    agent, other_agent, manager = staff("agent"), make_user("agent"), staff("manager")
    for _ in range(3):
        make_ticket("review", kind="invalid_card")
    mine = make_ticket("review")
    mine.assignee_id = agent.id
    db.session.commit()
    breached = make_ticket("review")
    add_message(breached, breached.customer, "hello?")

    auth.login(manager)
    resp = _save(client, "Review · invalid cards", shared=True, state="review", kind="invalid_card")
    assert resp.status_code == 302
    _as(auth, agent)
    assert _save(client, "My review", state="review", who="mine").status_code == 302
    assert _save(client, "Replied", flag="replied").status_code == 302
    html = _queue(client)
    views = dict(
        re.findall(r'class="view[^"]*" data-view="\d+"[^>]*>\s*(.*?) <span class="count">(\d+\+?)</span>', html)
    )
    assert views == {"My review": "1", "Replied": "1", "Review · invalid cards": "3"}
    assert "(shared)" in html

    shared_id = db.session.query(SavedView.id).filter_by(shared=True).scalar()
    resp = client.get(f"/queue?view={shared_id}")  # the view's filters land in the URL
    assert resp.status_code == 302 and "kind=invalid_card" in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'aria-current="page"' in page and mine.ref not in page

    # counts follow the tickets at once (the counters and the markers are kept in the same transaction)
    add_message(mine, mine.customer, "and now?")
    assert "Replied <span" in _queue(client) and re.search(r"Replied <span class=\"count\">2<", _queue(client))

    # somebody else's personal view is neither listed nor usable
    _as(auth, other_agent)
    html = _queue(client)
    assert "My review" not in html and "Review · invalid cards" in html
    mine_id = db.session.query(SavedView.id).filter_by(name="My review").scalar()
    assert client.get(f"/queue?view={mine_id}").status_code == 404


def test_agents_cannot_create_or_change_shared_views(app, client, auth, quiet):
    manager, agent = staff("manager"), staff("agent")
    auth.login(manager)
    _save(client, "Team view", shared=True, state="review")
    view_id = db.session.query(SavedView.id).filter_by(name="Team view").scalar()
    _as(auth, agent)
    assert _save(client, "Fake shared", shared=True, state="review").status_code == 403
    token = csrf_token(client.get("/queue/views"))
    assert client.post(f"/queue/views/{view_id}", data={"csrf_token": token, "name": "Mine now"}).status_code == 403
    assert client.post(f"/queue/views/{view_id}/delete", data={"csrf_token": token}).status_code == 403
    page = client.get("/queue/views?lang=en").get_data(as_text=True)
    assert "Team view" in page and f"/queue/views/{view_id}/delete" not in page
    # the agent's own view: renamed and deleted
    _save(client, "Mine", state="evidence")
    mine = db.session.query(SavedView.id).filter_by(name="Mine").scalar()
    assert client.post(f"/queue/views/{mine}", data={"csrf_token": token, "name": "Evidence"}).status_code == 302
    assert client.post(f"/queue/views/{mine}/delete", data={"csrf_token": token}).status_code == 302
    assert db.session.get(SavedView, mine) is None
    _as(auth, manager)
    token = csrf_token(client.get("/queue/views"))
    assert client.post(f"/queue/views/{view_id}", data={"csrf_token": token, "name": "Team"}).status_code == 302


def test_a_view_of_every_ticket_opens_once(app, client, auth, quiet):
    agent = staff("agent")
    t = make_ticket("evidence")
    view = saved_views.create_view(agent, "Everything", {})
    auth.login(agent)
    resp = client.get(f"/queue?view={view.id}")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/queue?view={view.id}&state="
    assert t.ref in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_customers_have_no_views(app, client, auth):
    customer = make_user("customer")
    auth.login(customer)
    page = client.get("/")
    assert client.post("/queue/views", data={"csrf_token": csrf_token(page), "name": "x"}).status_code == 403
    assert client.get("/queue/views").status_code == 403


def test_bad_view_filters_are_refused(app, client, auth):
    auth.login(staff("agent"))
    assert _save(client, "Bad", state="teleported").status_code == 422
    assert client.get("/queue?flag=sleeping").status_code == 422


def test_bounded_counts_stop_at_the_cap(app, quiet, monkeypatch):
    monkeypatch.setattr(saved_views, "COUNT_CAP", 2)
    agent = staff("agent")
    for _ in range(3):
        t = make_ticket("review")
        add_message(t, t.customer, "hi")
    view = saved_views.create_view(agent, "Replied", {"flag": "replied"})
    [(_, n, capped)] = saved_views.with_counts([view], agent)
    assert (n, capped) == (2, True) and COUNT_CAP == 1000


def test_ticket_page_shows_the_complainant_flag_to_agents(app, client, auth, quiet):
    heavy = make_user("customer")
    tickets = [make_ticket("review", order=make_order(heavy)) for _ in range(5)]
    auth.login(staff("agent"))
    page = client.get(f"/tickets/{tickets[0].ref}?lang=en").get_data(as_text=True)
    assert "Complainant flag" in page and "5 or more requests in 30 days" in page
    light = make_ticket("review")
    assert "Complainant flag" not in client.get(f"/tickets/{light.ref}").get_data(as_text=True)
    _as(auth, staff("finance"))  # finance pays; the flag is for the agents deciding
    assert "Complainant flag" not in client.get(f"/tickets/{tickets[0].ref}").get_data(as_text=True)


def test_next_ticket_in_my_view(app, client, auth, quiet):
    first, second = make_ticket("review"), make_ticket("review")
    other = make_ticket("evidence")
    auth.login(staff("agent"))
    _queue(client, state="review")  # the agent's view: under review
    page = client.get(f"/tickets/{first.ref}?lang=en").get_data(as_text=True)
    assert f'href="/tickets/{second.ref}">Next ticket in my view' in page.replace(
        'id="next-ticket" rel="next" ', ""
    ).replace('class="next-ticket" ', "")
    last = client.get(f"/tickets/{second.ref}").get_data(as_text=True)
    assert "No next ticket in my view." in client.get(f"/tickets/{second.ref}?lang=en").get_data(as_text=True)
    assert other.ref not in last
