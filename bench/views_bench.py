"""Saved views' counts at 1,000,000 tickets (issue 14: "views with counts").

    .venv/bin/python bench/views_bench.py [--db bench_ours_1000000]

Runs on the database `pages_bench.py --tickets 1000000` builds (its state counters included).
Times `saved_views.with_counts` — what the queue page runs for its view chips — for one view of
each kind of filter, median of 5 after a warm-up, in-process, and all of them together (one
page's worth). Views on state, kind and assignee are summed from the maintained counters; any
other filter is a count that stops at COUNT_CAP + 1 index entries. Numbers go to bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="bench_ours_1000000")
    args = ap.parse_args()
    os.environ.update(
        DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.db}",
        SECRET_KEY="bench-secret",
        SLA_INPROCESS_SWEEP="0",
    )
    from sqlalchemy import func, select

    from app import create_app
    from app.auth.models import User
    from app.extensions import db
    from app.tickets.models import Merchant, Ticket
    from app.tickets.saved_views import SavedView, with_counts

    app = create_app()
    with app.app_context(), app.test_request_context():
        manager = db.session.scalar(select(User).where(User.role.in_(("manager", "agent"))).order_by(User.id))
        merchant = db.session.scalar(select(Merchant.code).order_by(Merchant.id))
        n = db.session.scalar(select(func.count(Ticket.id)))
        filters = [
            ("a state (counters)", {"state": "submitted"}),
            ("a state and a kind (counters)", {"state": "review", "kind": "not_delivered"}),
            ("everything unassigned (counters)", {"state": "", "who": "unassigned"}),
            ("overdue", {"sla": "breached"}),
            ("due soon", {"sla": "warning"}),
            ("customer replied", {"flag": "replied"}),
            ("appealed", {"flag": "appealed"}),
            ("urged", {"flag": "urged"}),
            ("escalated", {"flag": "escalated"}),
            (f"a merchant ({merchant})", {"merchant": merchant}),
            ("a merchant, overdue", {"merchant": merchant, "sla": "breached"}),
        ]
        views = [SavedView(id=None, name=name, shared=True, filters=f) for name, f in filters]
        rows = []
        for view in views:
            count = with_counts([view], manager)[0]
            times = []
            for _ in range(5):
                t = time.perf_counter()
                with_counts([view], manager)
                times.append((time.perf_counter() - t) * 1000)
                db.session.rollback()
            rows.append((view.name, count[1], count[2], statistics.median(times)))
        all_times = []
        for _ in range(5):
            t = time.perf_counter()
            with_counts(views, manager)
            all_times.append((time.perf_counter() - t) * 1000)
            db.session.rollback()
    print(f"\n| view at {n:,} tickets | count | median ms |\n|---|---:|---:|")
    for name, c, capped, ms in rows:
        print(f"| {name} | {c:,}{'+' if capped else ''} | {ms:.1f} |")
    print(f"| all {len(views)} together (one queue page) | | {statistics.median(all_times):.1f} |")
    print(f"\nload average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
