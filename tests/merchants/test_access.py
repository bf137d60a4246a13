"""Merchant A never sees nor acts on merchant B's tickets (HTML and API); staff-only things stay hidden."""

from __future__ import annotations

import io

from app.evidence.services import attach_evidence
from app.tickets.services import add_message
from tests.factories import make_user, staff
from tests.helpers import csrf_token
from tests.merchants.helpers import file_complaint, setup_merchant


def two_merchants():
    a = setup_merchant("MA")
    b = setup_merchant("MB")
    return a, b, file_complaint(merchant_code="MA"), file_complaint(merchant_code="MB")


def test_api_scopes_tickets_to_the_merchant(app, client, api):
    a, b, ta, tb = two_merchants()
    ha = api.headers(a)
    assert client.get(f"/api/v1/tickets/{ta.ref}", headers=ha).status_code == 200
    resp = client.get(f"/api/v1/tickets/{tb.ref}", headers=ha)
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"
    resp = client.post(f"/api/v1/tickets/{tb.ref}/events", json={"event": "merchant_refund"}, headers=ha)
    assert resp.status_code == 404
    refs = [t["ref"] for t in client.get("/api/v1/tickets", headers=ha).json["items"]]
    assert refs == [ta.ref]
    assert client.get("/api/v1/merchants/MB", headers=ha).status_code == 404
    mine = client.get("/api/v1/merchants/MA", headers=ha).json
    assert mine["code"] == "MA" and mine["open_complaints"] == 1 and mine["deposit_cents"] == 500_000
    assert set(mine) == {"code", "name", "deposit_cents", "score", "suspended", "blacklisted", "open_complaints"}
    assert client.get(f"/api/v1/tickets/{tb.ref}/evidence", headers=ha).status_code == 404
    resp = client.post(
        f"/api/v1/tickets/{ta.ref}/events",
        json={"event": "merchant_dispute", "reason": "delivered", "note": "redeemed at 10:02"},
        headers=ha,
    )
    assert resp.status_code == 200 and resp.json["state"] == "review"


def test_staff_and_customers_on_the_merchant_endpoint(app, client, api):
    setup_merchant("MA")
    assert client.get("/api/v1/merchants/MA", headers=api.headers(staff("agent"))).status_code == 200
    assert client.get("/api/v1/merchants/MA", headers=api.headers(make_user("customer"))).status_code == 404
    assert client.get("/api/v1/merchants/NOPE", headers=api.headers(staff("agent"))).status_code == 404


def test_html_desk_shows_own_tickets_only(app, client, auth):
    a, b, ta, tb = two_merchants()
    auth.login(a)
    desk = client.get("/merchant").get_data(as_text=True)
    assert ta.ref in desk and tb.ref not in desk
    assert client.get(f"/merchant/tickets/{tb.ref}").status_code == 404
    page = client.get(f"/merchant/tickets/{ta.ref}")
    assert page.status_code == 200
    resp = client.post(
        f"/merchant/tickets/{tb.ref}/answer",
        data={"event": "merchant_refund", "csrf_token": csrf_token(page)},
    )
    assert resp.status_code == 404
    assert tb.state == "merchant"
    assert client.get(f"/tickets/{ta.ref}").status_code in (403, 404)  # the staff page is not for merchants
    assert client.get("/merchants").status_code == 403


def test_merchant_never_sees_internal_notes_or_staff_files(app, client, api):
    a = setup_merchant("MA")
    ticket = file_complaint(merchant_code="MA")
    agent = staff("agent")
    add_message(ticket, agent, "internal: this merchant cheats often", internal=True)
    add_message(ticket, agent, "We asked the merchant to answer.")
    attach_evidence(ticket, io.BytesIO(b"staff-only call notes\n"), "call.txt", agent)
    attach_evidence(ticket, io.BytesIO(b"customer screenshot text\n"), "proof.txt", ticket.customer)
    body = client.get(f"/api/v1/tickets/{ticket.ref}", headers=api.headers(a)).json
    assert [e["filename"] for e in body["evidence"]] == ["proof.txt"]
    from tests.conftest import WebAuth

    WebAuth(client).login(a)
    page = client.get(f"/merchant/tickets/{ticket.ref}").get_data(as_text=True)
    assert "We asked the merchant to answer." in page
    assert "cheats" not in page and "call.txt" not in page and "proof.txt" in page
