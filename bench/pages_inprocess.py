"""Our pages in-process (no HTTP server): median wall and CPU ms per request, SQL statements per request.

    .venv/bin/python bench/pages_inprocess.py [--db bench_ours] [-n 200] [--only queue,detail] [--profile] [--cold]

Uses the database and logins that bench/pages_bench.py built (bench/out/<db>.json). CPU time
(time.process_time) is the figure to compare on a shared machine: it does not grow with the
load average the way wall time does. --profile prints the top of a cProfile per page.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="bench_ours")
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--only", default="")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--cold", action="store_true", help="no staff page cache, no tracker window: every page rendered")
    args = ap.parse_args()
    if args.cold:
        os.environ.update(STAFF_PAGE_CACHE_SECONDS="0", TRACKER_FRESH_SECONDS="0")
    info = json.loads((ROOT / "bench" / "out" / f"{args.db}.json").read_text())
    os.environ.update(
        DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.db}",
        SECRET_KEY="bench-secret",
        REDIS_URL="redis://127.0.0.1:6379/6",
        SLA_INPROCESS_SWEEP="0",
    )
    from sqlalchemy import event

    from app.extensions import db
    from bench.ours_wsgi import app

    with app.app_context():
        engine = db.engine
    count = [0]
    event.listen(engine, "before_cursor_execute", lambda *a, **k: count.__setitem__(0, count[0] + 1))
    staff = {"Authorization": f"Bearer {info['agent_token']}"}
    pages = {
        "list": ("GET", "/api/v1/tickets?limit=25", staff, True),
        "queue": ("GET", "/queue", {}, True),
        "detail": ("GET", f"/tickets/{info['refs'][1]}", {}, True),
        "tracker": ("GET", f"/t/{info['trackers'][1]}", {}, False),
        "create": ("POST", "/api/v1/tickets", {"Authorization": f"Bearer {info['customer_token']}"}, False),
        "ping": ("GET", "/bench/ping", {}, False),
    }
    # One open request per order and kind: each create takes a benchmark order with no ticket yet.
    from sqlalchemy import select

    from app.tickets.models import Order, Ticket

    with app.app_context():
        unused = db.session.scalars(
            select(Order.order_no)
            .where(Order.order_no.like("BENCH%"), ~select(Ticket.id).where(Ticket.order_id == Order.id).exists())
            .limit(args.n + 10)
        ).all()
    fresh = iter(unused)

    def body() -> str:
        return json.dumps({"order_no": next(fresh), "kind": "other", "description": "b", "requested_amount_cents": 1})

    for name, (method, path, headers, cookie) in pages.items():
        if args.only and name not in args.only.split(","):
            continue
        client = app.test_client()
        if cookie:
            client.set_cookie("session", info["session"])

        def call(method=method, path=path, headers=headers, client=client):
            if method == "POST":
                return client.post(path, data=body(), headers={**headers, "Content-Type": "application/json"})
            return client.get(path, headers=headers)

        for _ in range(5):
            status = call().status_code
        walls, cpus, queries = [], [], 0
        prof = cProfile.Profile() if args.profile else None
        for _ in range(args.n):
            count[0] = 0
            w, c = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            resp = call()
            if prof:
                prof.disable()
            if resp.status_code >= 300:
                raise SystemExit(f"{name}: HTTP {resp.status_code}")
            walls.append((time.perf_counter() - w) * 1000)
            cpus.append((time.process_time() - c) * 1000)
            queries = count[0]
        walls.sort()
        p99 = walls[int(len(walls) * 0.99) - 1]
        print(
            f"{name:8} status {status}  wall median {statistics.median(walls):6.2f} ms  p99 {p99:6.2f}"
            f"  cpu median {statistics.median(cpus):6.2f} ms  queries {queries}",
            flush=True,
        )
        if prof:
            stats = pstats.Stats(prof).sort_stats(os.environ.get("SORT", "cumulative"))
            stats.print_stats(int(os.environ.get("TOP", "35")))


if __name__ == "__main__":
    main()
