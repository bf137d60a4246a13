"""催办: the customer urges once the promised time passed, once per stage per 24 h (API and tracker)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.notifications.models import Notification
from app.tickets.models import Ticket
from app.tickets.services import assign_ticket
from app.workflow.events import verify_chains
from app.workflow.models import TicketEvent
from tests.factories import make_order, make_ticket, make_user, staff
from tests.helpers import csrf_token
from tests.notifications.conftest import SH, at, cst

WEDNESDAY_10 = cst(2026, 11, 25, 10, 0)


def shown(dt: datetime) -> str:
    return dt.astimezone(SH).strftime("%Y-%m-%d %H:%M")


def review_ticket(customer):
    with at(WEDNESDAY_10):
        ticket = make_ticket("review", order=make_order(customer))
        agent = make_user("agent", locale="en")
        assign_ticket(ticket, agent, agent)
    return ticket, agent


def test_urge_before_the_promised_time_is_refused_with_the_time_it_opens(app, client, api):
    cust = make_user("customer", locale="en")
    ticket, _agent = review_ticket(cust)
    headers = api.headers(cust)
    with at(ticket.sla_due_at - timedelta(minutes=1)):
        resp = client.post(f"/api/v1/tickets/{ticket.ref}/urge", headers=headers)
    assert resp.status_code == 409 and resp.json["error"]["code"] == "not_allowed"
    assert datetime.fromisoformat(resp.json["error"]["opens_at"]) == ticket.sla_due_at
    assert db.session.scalar(select(TicketEvent).where(TicketEvent.event == "urge")) is None


def test_urge_after_the_promised_time_records_raises_priority_tells_assignee_and_managers_once_a_day(app, client, api):
    cust = make_user("customer", locale="en")
    manager = make_user("manager", locale="zh_Hans_CN")
    ticket, agent = review_ticket(cust)
    headers, path = api.headers(cust), f"/api/v1/tickets/{ticket.ref}/urge"
    priority = ticket.priority
    late = ticket.sla_due_at + timedelta(minutes=5)
    with at(late):
        first = client.post(path, headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["stage"] == "review"
    assert datetime.fromisoformat(first.json["next_urge_at"]) == late + timedelta(hours=24)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).priority == priority + 1
    [entry] = db.session.scalars(select(TicketEvent).where(TicketEvent.event == "urge"))
    assert entry.from_state == entry.to_state == "review" and entry.actor_id == cust.id
    assert verify_chains() is None
    told = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "urged"))}
    assert told == {agent.id, manager.id}
    with at(late + timedelta(hours=23)):
        again = client.post(path, headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "not_allowed"
    assert datetime.fromisoformat(again.json["error"]["opens_at"]) == late + timedelta(hours=24)
    with at(late + timedelta(hours=24)):
        assert client.post(path, headers=headers).status_code == 201


def test_only_the_tickets_customer_urges(app, client, api):
    cust = make_user("customer")
    ticket, agent = review_ticket(cust)
    with at(ticket.sla_due_at + timedelta(hours=1)):
        stranger = client.post(f"/api/v1/tickets/{ticket.ref}/urge", headers=api.headers(make_user("customer")))
        staff_resp = client.post(f"/api/v1/tickets/{ticket.ref}/urge", headers=api.headers(agent))
    assert stranger.status_code == 404 and staff_resp.status_code == 403


def test_nothing_to_urge_while_the_ticket_waits_on_the_customer(app, client, api):
    cust = make_user("customer")
    with at(WEDNESDAY_10):
        ticket = make_ticket("evidence", order=make_order(cust))
    with at(WEDNESDAY_10 + timedelta(days=3)):
        resp = client.post(f"/api/v1/tickets/{ticket.ref}/urge", headers=api.headers(cust))
    assert resp.status_code == 409 and resp.json["error"]["opens_at"] is None


def test_tracker_says_when_urging_opens_then_offers_the_button_in_zh_and_en(app, client, auth):
    cust = make_user("customer")
    ticket, _agent = review_ticket(cust)
    due = shown(ticket.sla_due_at)
    with at(ticket.sla_due_at - timedelta(hours=1)):
        auth.login(cust)  # signed cookies from the future would not be accepted
        zh = client.get(f"/tickets/{ticket.ref}?lang=zh").get_data(as_text=True)
        en = client.get(f"/tickets/{ticket.ref}?lang=en").get_data(as_text=True)
    assert f"如果到 {due} 仍无进展，您可以在这里催一下。" in zh
    assert f"If nothing has happened by {due}, you can urge (催一下) here." in en
    assert "notifications/urge/" not in en
    with at(ticket.sla_due_at + timedelta(minutes=1)):
        page = client.get(f"/tickets/{ticket.ref}")
        assert f"/notifications/urge/{ticket.ref}" in page.get_data(as_text=True)
        resp = client.post(f"/notifications/urge/{ticket.ref}", data={"csrf_token": csrf_token(page)})
        assert resp.status_code == 302
        after = client.get(resp.headers["Location"]).get_data(as_text=True)
    urged = ticket.sla_due_at + timedelta(minutes=1)
    assert f"You urged at {shown(urged)}. You can urge again from {shown(urged + timedelta(days=1))}." in after
    public = client.get(f"/t/{ticket.tracker_token}").get_data(as_text=True)
    assert "notifications/urge/" not in public and "You urged" not in public


def test_manager_dashboard_counts_urges_per_stage_agent_and_merchant(app, client, auth):
    cust = make_user("customer")
    ticket, agent = review_ticket(cust)
    agent.name = "Agent Li"
    db.session.commit()
    from app.notifications.urge import urge

    with at(ticket.sla_due_at + timedelta(minutes=1)):
        urge(ticket, cust)
    manager = staff("manager")
    with at(ticket.sla_due_at + timedelta(hours=1)):
        auth.login(manager)  # logged in at the frozen time (a session cookie from the future is refused)
        html = client.get("/dashboard/?lang=en&start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    section = html[html.index("Urges (催办)") :]
    assert "Under review</td><td>1" in section and "Agent Li</td><td>1" in section and "M1</td><td>1" in section


def test_openapi_documents_the_urge_endpoint(app, client):
    doc = client.get("/api/v1/openapi.json").json
    op = doc["paths"]["/api/v1/tickets/{ref}/urge"]["post"]
    assert {"201", "403", "404", "409"} <= set(op["responses"])
    assert "UrgeError" in doc["components"]["schemas"]
