"""One redirect-safety check for every `next`, and public links built from PUBLIC_BASE_URL."""

import pytest

from app.urls import safe_next
from tests.factories import make_ticket, make_user
from tests.helpers import csrf_token

EVIL = [
    "https://evil.example/x",
    "//evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "/ /evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/\x00/evil.example",
    "/\x7f/evil.example",
    "evil.example",
]


@pytest.mark.parametrize("value", EVIL)
def test_safe_next_refuses_what_a_browser_would_send_elsewhere(value):
    assert safe_next(value, "/home") == "/home"


def test_safe_next_keeps_same_site_paths():
    assert safe_next("/queue?who=unassigned", "/") == "/queue?who=unassigned"
    assert safe_next("/tickets/RD-1#messages") == "/tickets/RD-1#messages"
    assert safe_next(None, "/x") == "/x"


def test_evidence_form_next_with_a_tab_stays_on_site(client, app):
    ticket = make_ticket("evidence")
    client.post(
        "/login",
        data={
            "email": ticket.customer.email,
            "password": "password123",
            "csrf_token": csrf_token(client.get("/login")),
        },
    )
    from app.evidence.services import requested_items

    code = requested_items(ticket)[0].code
    resp = client.post(
        f"/tickets/{ticket.ref}/evidence/answer",
        data={
            "csrf_token": csrf_token(client.get("/orders")),
            "item": code,
            "answer": "gone",
            "next": "/\t/evil.example",
        },
    )
    assert resp.status_code == 303
    assert "evil.example" not in resp.headers["Location"]


def test_login_next_with_a_tab_stays_on_site(client, app):
    user = make_user()
    resp = client.post(
        "/login?next=/%09/evil.example",
        data={"email": user.email, "password": "password123", "csrf_token": csrf_token(client.get("/login"))},
    )
    assert resp.status_code == 302 and "evil.example" not in resp.location


def test_tracker_url_comes_from_public_base_url_not_the_host_header(client, app, api):
    app.config["PUBLIC_BASE_URL"] = "https://desk.refundesk.example"
    ticket = make_ticket()
    headers = {**api.headers(ticket.customer), "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    body = client.get(f"/api/v1/tickets/{ticket.ref}", headers=headers).json
    assert body["tracker_url"] == f"https://desk.refundesk.example/t/{ticket.tracker_token}"


def test_production_refuses_to_start_without_public_base_url(monkeypatch):
    from app import create_app

    monkeypatch.setenv("REFUNDESK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        create_app()
