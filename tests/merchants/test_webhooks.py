"""Webhook deliveries to a local receiver: signature, retry after a 500, order, no duplicate on replay, SSRF."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine

from app.merchants import webhooks
from app.types import utcnow
from app.workflow.service import apply_event
from tests.factories import make_user, staff
from tests.merchants.helpers import file_complaint, setup_merchant


class Receiver:
    """A local HTTP receiver: records (headers, body); answers the statuses queued in `fail_next` first."""

    def __init__(self):
        self.calls: list[tuple[dict, bytes]] = []
        self.fail_next: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls.append((dict(self.headers), body))
                status = outer.fail_next.pop(0) if outer.fail_next else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(body) for _h, body in self.calls]

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def verify(secret: str, headers: dict, body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in headers["Refundesk-Signature"].split(","))
    mac = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, parts["v1"])


def test_private_targets_are_refused_until_an_admin_allows_the_host(app, client, api, receiver):
    platform = make_user("platform")
    headers = api.headers(platform)
    for url in (receiver.url, "ftp://example.com/x", "http://169.254.169.254/latest", "http://10.0.0.5/hook"):
        resp = client.post("/api/v1/webhooks", json={"url": url, "events": ["pay"]}, headers=headers)
        assert resp.status_code == (422 if url.startswith("ftp") else 403), url
    resp = client.post("/api/v1/webhooks/hosts", json={"host": "127.0.0.1"}, headers=headers)
    assert resp.status_code == 403
    resp = client.post("/api/v1/webhooks/hosts", json={"host": "127.0.0.1"}, headers=api.headers(make_user("admin")))
    assert resp.status_code == 201
    resp = client.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["pay"]}, headers=headers)
    assert resp.status_code == 201 and resp.json["secret"].startswith("whsec_")
    resp = client.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["teleport"]}, headers=headers)
    assert resp.status_code == 422


def test_signed_deliveries_in_order_retried_after_a_500_and_replayed_without_duplicates(app, client, api):
    from app.payouts.services import request_payout

    platform_rx, merchant_rx = Receiver(), Receiver()
    try:
        webhooks.allow_host(make_user("admin"), "127.0.0.1")
        merchant = setup_merchant("MA")
        setup_merchant("MB")
        platform = make_user("platform")
        platform_hook = client.post(
            "/api/v1/webhooks",
            json={"url": platform_rx.url, "events": ["ask_merchant", "merchant_refund", "pay"]},
            headers=api.headers(platform),
        ).json
        merchant_hook = client.post(
            "/api/v1/webhooks", json={"url": merchant_rx.url, "events": ["ask_merchant"]}, headers=api.headers(merchant)
        ).json
        platform_rx.fail_next = [500]  # the platform's first delivery fails once
        ticket = file_complaint(merchant_code="MA")  # submit → ask_merchant (system)
        other = file_complaint(merchant_code="MB")
        apply_event(ticket, "merchant_refund", merchant)
        request_payout(ticket.id, staff("finance"))
        # the 500 held back that ticket's later events (order per ticket); the other ticket's went out
        assert [(e["event"], e["ticket_ref"]) for e in platform_rx.events()] == [
            ("ask_merchant", ticket.ref),
            ("ask_merchant", other.ref),
        ]
        with time_machine.travel(utcnow() + timedelta(minutes=5)):
            assert webhooks.retry_webhooks() == 3
        mine = [e for e in platform_rx.events() if e["ticket_ref"] == ticket.ref]
        assert [e["event"] for e in mine] == ["ask_merchant", "ask_merchant", "merchant_refund", "pay"]
        assert mine[0]["id"] == mine[1]["id"]  # the retry repeats the delivery id
        assert [e["state"] for e in mine[1:]] == ["merchant", "finance", "paid"]
        assert all(set(e) == {"id", "event", "ticket_ref", "state", "at"} for e in mine)
        assert all(verify(platform_hook["secret"], h, b) for h, b in platform_rx.calls)
        assert not any(verify(merchant_hook["secret"], h, b) for h, b in platform_rx.calls)
        # the merchant hears only its own tickets, signed with its own secret
        assert [e["ticket_ref"] for e in merchant_rx.events()] == [ticket.ref]
        assert all(verify(merchant_hook["secret"], h, b) for h, b in merchant_rx.calls)
        # deliveries: logged with attempts and status; someone else's webhook is not found
        listing = client.get(f"/api/v1/webhooks/{platform_hook['id']}/deliveries", headers=api.headers(platform))
        items = listing.json["items"]
        assert [(d["event"], d["status"]) for d in items][:1] == [("ask_merchant", "delivered")]
        assert items[0]["attempts"] == 2 and items[0]["last_status"] == 200
        other_platform = api.headers(make_user("platform"))
        assert (
            client.get(f"/api/v1/webhooks/{platform_hook['id']}/deliveries", headers=other_platform).status_code == 404
        )
        # a replay sends the same id again: the receiver sees nothing new
        before = {e["id"] for e in platform_rx.events()}
        resp = client.post(f"/api/v1/webhooks/deliveries/{items[0]['id']}/replay", headers=api.headers(platform))
        assert resp.status_code == 200 and resp.json["status"] == "delivered"
        assert platform_rx.events()[-1]["id"] == items[0]["id"]
        assert {e["id"] for e in platform_rx.events()} == before
        assert webhooks.retry_webhooks() == 0  # nothing pending: nothing sent twice
    finally:
        platform_rx.close()
        merchant_rx.close()
