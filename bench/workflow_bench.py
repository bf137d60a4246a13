"""Workflow throughput: tickets through submitted → evidence → review → finance → paid.

Usage: .venv/bin/python bench/workflow_bench.py [--tickets N] [--database-url URL]
Measures the service layer (apply_event: checks, machine, audit hash chain, commit) and the
JSON API (GET /api/v1/tickets/<ref>) on the given database. Prints one line per measure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=300)
    ap.add_argument("--database-url", default="sqlite:////tmp/refundesk-bench.sqlite3")
    args = ap.parse_args()

    from app import create_app
    from app.extensions import db
    from tests.helpers import make_settings

    app = create_app(make_settings(DATABASE_URL=args.database_url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        from app.tickets.services import create_ticket
        from app.workflow.service import apply_event
        from tests.factories import make_order, staff

        agent, manager, finance = staff("agent"), staff("manager"), staff("finance")
        orders = [make_order(amount_cents=9_900) for _ in range(args.tickets)]
        t0 = time.perf_counter()
        tickets = []
        for order in orders:
            ticket = create_ticket(order.order_no, "not_delivered", "bench", order.customer)
            apply_event(ticket, "start_review", agent)
            apply_event(ticket, "approve", agent)
            apply_event(ticket, "pay", finance, reason="BENCH-REF")
            tickets.append(ticket)
        elapsed = time.perf_counter() - t0
        events = args.tickets * 4
        print(
            f"events: {events} in {elapsed:.2f}s = {events / elapsed:.0f} events/s "
            f"({elapsed / events * 1000:.2f} ms per transition incl. audit row and commit)"
        )

        client = app.test_client()
        token = client.post("/api/v1/auth/tokens", json={"email": manager.email, "password": "password123"}).json[
            "token"
        ]
        h = {"Authorization": f"Bearer {token}"}
        lat = []
        for t in tickets[:200]:
            s = time.perf_counter()
            assert client.get(f"/api/v1/tickets/{t.ref}", headers=h).status_code == 200
            lat.append((time.perf_counter() - s) * 1000)
        lat.sort()
        print(
            f"GET /api/v1/tickets/<ref>: median {statistics.median(lat):.2f} ms, "
            f"p90 {lat[int(len(lat) * 0.9)]:.2f} ms over {len(lat)} requests (in-process test client)"
        )
        s = time.perf_counter()
        page = client.get("/api/v1/tickets?limit=50", headers=h)
        print(
            f"GET /api/v1/tickets?limit=50: {(time.perf_counter() - s) * 1000:.2f} ms, {len(page.json['items'])} items"
        )
        from app.workflow.events import verify_chains

        s = time.perf_counter()
        assert verify_chains() is None
        print(f"audit verify over {events + args.tickets} events: {(time.perf_counter() - s) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
