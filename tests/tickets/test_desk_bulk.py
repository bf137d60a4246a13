"""Bulk actions from the queue (assign, request the same evidence, tag, merge a duplicate), each one
audited entry or transition per ticket with a summary of what was done and what was not (and why);
merging on its own; escalating above the approval limit into the managers' view."""

from __future__ import annotations

import re

import pytest

from app.errors import Invalid, NotAllowed
from app.extensions import db
from app.notifications.models import Notification
from app.tickets.models import Ticket
from app.tickets.tags import TicketTag
from app.workflow.models import TicketEvent
from app.workflow.service import allowed_events, apply_event
from tests.factories import make_order, make_ticket, make_user, staff
from tests.helpers import csrf_token
from tests.translations import ensure_compiled

ensure_compiled()


@pytest.fixture
def quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FAST_TRACK_ENABLED", False)


def _as(auth, user):
    auth.logout()
    assert auth.login(user).status_code == 302
    return user


def _bulk(client, refs, **fields):
    page = client.get("/queue?state=")
    data = {"csrf_token": csrf_token(page), "ref": refs, "back": "/queue?state=", **fields}
    return client.post("/queue/bulk?lang=en", data=data)


def _results(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-ref="([^"]+)">\s*<a[^>]*>[^<]*</a>\s*<strong>([^<]*)</strong>', html))


def _events(ticket, name):
    return db.session.query(TicketEvent).filter_by(ticket_id=ticket.id, event=name).count()


def test_bulk_assign_to_me_audits_each_ticket(app, client, auth, quiet):
    agent = staff("agent")
    a, b = make_ticket("review"), make_ticket("submitted")
    auth.login(agent)
    resp = _bulk(client, [a.ref, b.ref, "RD000000-NOPE00"], action="assign", assignee="me")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "2 of 3 done; 1 not done." in html
    assert _results(html) == {a.ref: "done", b.ref: "done", "RD000000-NOPE00": "not done"}
    assert "No such ticket." in html
    db.session.expire_all()
    assert db.session.get(Ticket, a.id).assignee_id == agent.id == db.session.get(Ticket, b.id).assignee_id
    assert _events(a, "assigned") == 1 and _events(b, "assigned") == 1
    # agents assign only to themselves; a manager may assign to another agent
    other = make_user("agent", name="Other Agent")
    assert _bulk(client, [a.ref], action="assign", assignee=str(other.id)).status_code == 200
    assert "Agents may only claim tickets for themselves." in _bulk(
        client, [a.ref], action="assign", assignee=str(other.id)
    ).get_data(as_text=True)
    _as(auth, staff("manager"))
    html = _bulk(client, [a.ref], action="assign", assignee=str(other.id)).get_data(as_text=True)
    assert "1 of 1 done" in html and "assigned to Other Agent" in html


def test_bulk_request_evidence_is_one_transition_per_ticket_and_says_why_not(app, client, auth, quiet):
    ok1, ok2, wrong = make_ticket("review"), make_ticket("submitted"), make_ticket("finance")
    auth.login(staff("agent"))
    html = _bulk(
        client, [ok1.ref, ok2.ref, wrong.ref], action="request_evidence", items="payment record\nscreenshot"
    ).get_data(as_text=True)
    assert "2 of 3 done; 1 not done." in html
    assert _results(html)[wrong.ref] == "not done"
    assert "This action is not allowed in the ticket&#39;s current state." in html
    db.session.expire_all()
    for t in (ok1, ok2):
        assert db.session.get(Ticket, t.id).state == "evidence" and _events(t, "request_evidence") == 1
    assert db.session.get(Ticket, wrong.id).state == "finance" and _events(wrong, "request_evidence") == 0
    ev = db.session.query(TicketEvent).filter_by(ticket_id=ok1.id, event="request_evidence").one()
    assert ev.payload["items"] == ["payment record", "screenshot"]


def test_bulk_tag_once_per_ticket_staff_only(app, client, auth, quiet):
    a, b = make_ticket("review"), make_ticket("review")
    auth.login(staff("agent"))
    assert "2 of 2 done" in _bulk(client, [a.ref, b.ref], action="tag", tag="Refund-Scam").get_data(as_text=True)
    again = _bulk(client, [a.ref], action="tag", tag="refund-scam").get_data(as_text=True)
    assert "already tagged refund-scam" in again
    assert db.session.query(TicketTag).filter_by(ticket_id=a.id).count() == 1 and _events(a, "tag_added") == 1
    queue = client.get("/queue?state=review").get_data(as_text=True)
    assert "#refund-scam" in queue
    assert "#refund-scam" in client.get(f"/tickets/{a.ref}").get_data(as_text=True)
    _as(auth, a.customer)  # the customer never sees staff tags
    assert "refund-scam" not in client.get(f"/tickets/{a.ref}").get_data(as_text=True)


def test_bulk_merge_closes_duplicates_into_the_target_with_links_both_ways(app, client, auth, quiet):
    customer = make_user("customer")
    target = make_ticket("review", order=make_order(customer))
    dup = make_ticket("submitted", order=make_order(customer))
    stranger = make_ticket("submitted")  # another customer's: refused
    auth.login(staff("agent"))
    html = _bulk(client, [dup.ref, stranger.ref, target.ref], action="merge", into=target.ref).get_data(as_text=True)
    assert "1 of 3 done; 2 not done." in html
    assert f"Only a request of the same customer can be merged into {target.ref}." in html
    assert "A ticket cannot be merged into itself." in html
    db.session.expire_all()
    assert db.session.get(Ticket, dup.id).state == "closed" and db.session.get(Ticket, stranger.id).state == "submitted"
    assert db.session.query(TicketEvent).filter_by(ticket_id=dup.id, event="merge").one().payload["into"] == target.ref
    assert db.session.query(TicketEvent).filter_by(ticket_id=target.id, event="merged_from").one().payload == {
        "from": dup.ref
    }
    dup_page = client.get(f"/tickets/{dup.ref}?lang=en").get_data(as_text=True)
    assert f'merged into <a class="ref" href="/tickets/{target.ref}">' in dup_page
    target_page = client.get(f"/tickets/{target.ref}?lang=en").get_data(as_text=True)
    assert f'duplicate <a class="ref" href="/tickets/{dup.ref}">' in target_page


def test_merge_needs_an_open_target(app, quiet):
    customer = make_user("customer")
    done = make_ticket("paid", order=make_order(customer))
    dup = make_ticket("review", order=make_order(customer))
    with pytest.raises(Invalid, match=done.ref):
        apply_event(dup, "merge", staff("agent"), payload={"into": done.ref})
    with pytest.raises(Invalid):
        apply_event(dup, "merge", staff("agent"), payload={"into": "nonsense"})
    assert dup.state == "review"


def test_customers_and_finance_cannot_bulk_act(app, client, auth, quiet):
    t = make_ticket("review")
    auth.login(t.customer)
    page = client.get("/")
    data = {"csrf_token": csrf_token(page), "ref": [t.ref], "action": "tag", "tag": "x"}
    assert client.post("/queue/bulk", data=data).status_code == 403
    _as(auth, staff("finance"))
    page = client.get("/queue")
    assert 'id="bulk"' not in page.get_data(as_text=True)
    data["csrf_token"] = csrf_token(page)
    assert client.post("/queue/bulk", data=data).status_code == 403
    assert db.session.query(TicketTag).count() == 0


def test_escalate_above_the_limit_reaches_the_managers_view(app, client, auth, quiet):
    agent, manager = staff("agent"), staff("manager")
    big = make_ticket("review", order=make_order(amount_cents=90_000))  # asks ¥900 > the ¥500 limit
    small = make_ticket("review")
    assert "escalate" in allowed_events(big, agent) and "escalate" not in allowed_events(small, agent)
    assert "escalate" not in allowed_events(big, manager)  # managers decide themselves
    auth.login(agent)
    page = client.get(f"/tickets/{big.ref}?lang=en").get_data(as_text=True)
    assert "Your approval limit is ¥500.00." in page and "Escalate to a manager" in page
    token = csrf_token(client.get(f"/tickets/{big.ref}"))
    resp = client.post(
        f"/tickets/{big.ref}/events?lang=en",
        data={"csrf_token": token, "event": "escalate", "amount": "400", "version": big.version},
    )
    assert resp.status_code == 422 and "is within your approval limit: approve it yourself." in resp.get_data(
        as_text=True
    )
    resp = client.post(
        f"/tickets/{big.ref}/events",
        data={"csrf_token": token, "event": "escalate", "amount": "850", "reason": "long-time customer"},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    big = db.session.get(Ticket, big.id)
    assert big.state == "review" and big.escalated_amount_cents == 85_000
    assert "escalate" not in allowed_events(big, agent)  # once
    notice = db.session.query(Notification).filter_by(user_id=manager.id, kind="escalated").one()
    assert notice.ticket_id == big.id

    _as(auth, manager)
    queue = client.get("/queue?lang=en&state=").get_data(as_text=True)
    assert "Escalated to managers" in queue and "Escalated: ¥850.00 proposed" in queue
    view = client.get("/queue?lang=en&state=&flag=escalated").get_data(as_text=True)
    assert big.ref in view and small.ref not in view
    page = client.get(f"/tickets/{big.ref}?lang=en").get_data(as_text=True)
    assert "the agent proposes ¥850.00" in page and 'value="850.00"' in page  # the approve field starts with it
    apply_event(big, "approve", manager, amount_cents=85_000)
    assert big.escalated_at is None and big.state == "finance"
    assert big.ref not in client.get("/queue?state=&flag=escalated").get_data(as_text=True)
    _as(auth, agent)  # the agents' queue has no managers' view
    assert "Escalated to managers</a" not in client.get("/queue?lang=en").get_data(as_text=True)


def test_escalation_keeps_the_review_clock(app, quiet):
    big = make_ticket("review", order=make_order(amount_cents=90_000))
    due, changed = big.sla_due_at, big.state_changed_at
    apply_event(big, "escalate", staff("agent"), amount_cents=90_000)
    assert big.sla_due_at == due and big.state_changed_at == changed
    with pytest.raises(NotAllowed):
        apply_event(big, "escalate", staff("agent"), amount_cents=90_000)
