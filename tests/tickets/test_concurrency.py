"""Two agents acting at once on PostgreSQL (real connections, threads): one wins, one conflicts."""

from __future__ import annotations

import threading

import pytest

from app.workflow import service
from tests.conftest import on_postgres
from tests.factories import make_order, make_ticket, staff
from tests.helpers import client_call, run_at_once

pytestmark = pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL (run by `make test`)")


def _race(app, monkeypatch, calls):
    """Run the given (path, json, headers) calls at once; every thread loads the ticket first."""
    barrier = threading.Barrier(len(calls), timeout=10)
    original = service._check_input  # runs the row's checks (approve: balance, then limit)

    def synchronized(t, ctx):
        barrier.wait()  # both requests have read the ticket at the same version
        return original(t, ctx)

    monkeypatch.setattr(service, "_check_input", synchronized)
    return run_at_once([client_call(app, "post", path, json=body, headers=headers) for path, body, headers in calls])


def test_two_approvals_racing_one_wins_one_conflicts(app, api, monkeypatch, db):
    ticket = make_ticket("review")
    a1, a2 = api.headers(staff("agent")), api.headers(staff("manager"))
    path = f"/api/v1/tickets/{ticket.ref}/events"
    results = _race(
        app,
        monkeypatch,
        [
            (path, {"event": "approve", "amount_cents": 5_000}, a1),
            (path, {"event": "approve", "amount_cents": 7_000}, a2),
        ],
    )
    codes = sorted(code for code, _ in results)
    assert codes == [200, 409], results
    loser = next(body for code, body in results if code == 409)
    assert loser["error"]["code"] == "conflict"
    db.session.expire_all()
    events = [e["event"] for e in api.client.get(f"/api/v1/tickets/{ticket.ref}", headers=a1).json["timeline"]]
    assert events.count("approve") == 1


def test_two_tickets_of_one_order_cannot_overdraw_it(app, api, monkeypatch, db):
    order = make_order(amount_cents=10_000)
    t1 = make_ticket("review", order=order, amount_cents=7_000)
    t2 = make_ticket("review", order=order, amount_cents=7_000, kind="invalid_card")
    a1, a2 = api.headers(staff("agent")), api.headers(staff("manager"))
    results = _race(
        app,
        monkeypatch,
        [
            (f"/api/v1/tickets/{t1.ref}/events", {"event": "approve", "amount_cents": 7_000}, a1),
            (f"/api/v1/tickets/{t2.ref}/events", {"event": "approve", "amount_cents": 7_000}, a2),
        ],
    )
    codes = sorted(code for code, _ in results)
    assert codes == [200, 422], results
