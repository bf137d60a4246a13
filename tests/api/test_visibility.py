"""What a viewer may see of a ticket: one rule (app/tickets/visibility.py) for the API, HTML and the public link."""

from __future__ import annotations

import io

import pytest

from app.tickets.services import add_message
from app.workflow.service import apply_event
from tests.evidence.helpers import image_bytes
from tests.factories import make_ticket, make_user, staff

TRIAGE = "suspected fraud ring, do not pay"
APPROVAL = "approved under the goodwill budget of team B"
RETURNED = "bank flagged the account, hold"
REJECTED = "The card key was redeemed on your account before the complaint."
NOTE = "internal: check the other five orders of this customer"
STAFF_FILE = "merchant-log.png"
SECRETS = (TRIAGE, APPROVAL, RETURNED, NOTE)


@pytest.fixture
def ticket(app, client, api):
    """A ticket that went review → finance → back to review → rejected, with staff-only material on it."""
    t = make_ticket("submitted")
    agent, finance = staff("agent"), staff("finance")
    apply_event(t, "start_review", agent, reason=TRIAGE)
    apply_event(t, "approve", agent, reason=APPROVAL)
    apply_event(t, "return_to_review", finance, reason=RETURNED)
    add_message(t, agent, NOTE, internal=True)
    upload = client.post(
        f"/api/v1/tickets/{t.ref}/evidence",
        data={"file": (io.BytesIO(image_bytes("PNG")), STAFF_FILE, "image/png")},
        headers=api.headers(agent),
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.json
    apply_event(t, "reject", agent, reason=REJECTED)
    return t


def _reasons(body) -> dict[str, str | None]:
    return {e["event"]: e["reason"] for e in body["timeline"] if e["from_state"] != e["to_state"]}


def test_customer_api_timeline_hides_staff_reasons_but_shows_the_rejection(client, api, ticket):
    resp = client.get(f"/api/v1/tickets/{ticket.ref}", headers=api.headers(ticket.customer))
    assert resp.status_code == 200
    reasons = _reasons(resp.json)
    assert reasons["start_review"] is None and reasons["approve"] is None and reasons["return_to_review"] is None
    assert reasons["reject"] == REJECTED
    text = resp.get_data(as_text=True)
    for secret in (*SECRETS, STAFF_FILE):
        assert secret not in text
    assert all(not e["staff"] for e in resp.json["evidence"])
    assert "evidence_added" not in [e["event"] for e in resp.json["timeline"]]  # the staff upload's audit entry


def test_customer_evidence_list_and_download_leave_out_staff_files(client, api, ticket):
    h = api.headers(ticket.customer)
    listed = client.get(f"/api/v1/tickets/{ticket.ref}/evidence", headers=h)
    assert listed.status_code == 200 and listed.json["evidence"] == []
    staff_view = client.get(f"/api/v1/tickets/{ticket.ref}/evidence", headers=api.headers(staff("agent"))).json
    (staff_file,) = staff_view["evidence"]
    assert client.get(staff_file["download_url"], headers=h).status_code == 404  # not the customer's to see


def test_staff_api_sees_every_reason_and_staff_file(client, api, ticket):
    body = client.get(f"/api/v1/tickets/{ticket.ref}", headers=api.headers(staff("manager"))).json
    reasons = _reasons(body)
    assert (reasons["start_review"], reasons["approve"], reasons["return_to_review"]) == (TRIAGE, APPROVAL, RETURNED)
    assert [e["filename"] for e in body["evidence"]] == [STAFF_FILE]


def test_platform_api_sees_what_the_customer_sees(client, api, ticket):
    body = client.get(f"/api/v1/tickets/{ticket.ref}", headers=api.headers(make_user("platform"))).json
    assert _reasons(body)["approve"] is None and _reasons(body)["reject"] == REJECTED
    assert body["evidence"] == []


def test_html_tracker_and_public_link_hide_staff_reasons(client, auth, api, ticket):
    token = client.get(f"/api/v1/tickets/{ticket.ref}", headers=api.headers(ticket.customer)).json["tracker_url"]
    public = client.get(token.split("localhost", 1)[1])
    auth.login(ticket.customer)
    mine = client.get(f"/tickets/{ticket.ref}")
    for page in (public, mine):
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert REJECTED in html
        for secret in (*SECRETS, STAFF_FILE):
            assert secret not in html


def test_staff_html_page_shows_the_staff_reasons(client, auth, ticket):
    auth.login(staff("agent"))
    html = client.get(f"/tickets/{ticket.ref}").get_data(as_text=True)
    for secret in SECRETS:
        assert secret in html
