"""Uploads racing on PostgreSQL (real connections, threads): limits hold, the audit chain stays intact."""

from __future__ import annotations

import io
import threading

import pytest

from app.evidence import services
from app.workflow import service as workflow_service
from app.workflow.events import verify_chains
from tests.conftest import on_postgres
from tests.evidence.helpers import image_bytes
from tests.factories import make_ticket, staff
from tests.helpers import client_call, run_at_once

pytestmark = pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL (run by `make test`)")


def _run_at_once(app, calls):
    return run_at_once([client_call(app, method, path, **kw) for method, path, kw in calls])


def _upload_call(ticket, headers, color):
    return (
        "post",
        f"/api/v1/tickets/{ticket.ref}/evidence",
        {
            "headers": headers,
            "content_type": "multipart/form-data",
            "data": {"file": (io.BytesIO(image_bytes(color=color)), f"{color}.png")},
        },
    )


def test_two_uploads_racing_for_the_last_slot_one_wins(app, api, monkeypatch, db):
    app.config["EVIDENCE_MAX_FILES"] = 1
    ticket = make_ticket()
    headers = api.headers(ticket.customer)
    barrier = threading.Barrier(2, timeout=10)
    original = services._lock_ticket

    def synchronized(t):
        barrier.wait()  # both uploads are staged and about to check the limit
        return original(t)

    monkeypatch.setattr(services, "_lock_ticket", synchronized)
    results = _run_at_once(app, [_upload_call(ticket, headers, "red"), _upload_call(ticket, headers, "blue")])
    assert sorted(code for code, _ in results) == [201, 422], results
    db.session.expire_all()
    assert len(services.evidence_for(ticket)) == 1
    assert verify_chains() is None


def test_upload_racing_an_agents_event_keeps_the_hash_chain(app, api, monkeypatch, db):
    ticket = make_ticket()
    barrier = threading.Barrier(2, timeout=10)
    lock, check = services._lock_ticket, workflow_service._check_input

    def lock_synced(t):
        barrier.wait()
        return lock(t)

    def check_synced(t, ctx):
        barrier.wait()
        return check(t, ctx)

    monkeypatch.setattr(services, "_lock_ticket", lock_synced)
    monkeypatch.setattr(workflow_service, "_check_input", check_synced)
    results = _run_at_once(
        app,
        [
            _upload_call(ticket, api.headers(ticket.customer), "red"),
            (
                "post",
                f"/api/v1/tickets/{ticket.ref}/events",
                {
                    "headers": api.headers(staff("agent")),
                    "json": {"event": "request_evidence", "items": ["payment_record"]},
                },
            ),
        ],
    )
    assert sorted(code for code, _ in results) == [200, 201], results
    assert verify_chains() is None
