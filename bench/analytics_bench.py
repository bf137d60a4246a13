"""Analytics benchmark: the managers' analytics at 1,000,000 tickets in PostgreSQL.

    .venv/bin/python bench/analytics_bench.py [--tickets 1000000] [--db rd_bench_analytics] [--keep]

Seeds with the SLA benchmark's COPY seed (bench/sla_bench.py), varies product types, products and
channels, adds a payout for every paid ticket and a breach on 2 % of the SLA records, ANALYZEs,
then measures (median of 5, in-process, after a warm-up):
  * the roll-up job: the recent window (35 days) and the whole history;
  * every read of the page (KPI tiles, weekly trend, each breakdown, spikes, flagged customers),
    the whole page as a manager through the test client, and the JSON summary;
  * for comparison in the same run, the same 28-day breakdown by merchant computed straight from
    the tickets table (what the page would cost without the roll-up).
Numbers go to bench/README.md by hand, with the load average printed at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import time_machine
from sqlalchemy import text

from bench.sla_bench import T0, recreate_database, seed, timed


def vary(conn) -> None:
    conn.execute(
        text(
            "UPDATE orders SET payment_channel = (ARRAY['balance','alipay','wechat','bank_card'])[1 + id % 4], "
            "product_type = (ARRAY['game_card','recharge','card_key','membership','item','other'])[1 + id % 6], "
            "product_name = 'Product ' || (id % 500)"
        )
    )
    conn.execute(
        text("UPDATE tickets SET approved_amount_cents = requested_amount_cents WHERE state IN ('finance', 'paid')")
    )
    conn.execute(
        text(
            "INSERT INTO payouts (ticket_id, customer_id, amount_cents, channel, status, idempotency_key, manual, "
            "attempts, created_at, updated_at, succeeded_at) "
            "SELECT t.id, t.customer_id, t.requested_amount_cents, 'alipay', 'succeeded', 'bench-' || t.id, false, 1, "
            "t.created_at, t.created_at, t.created_at + (t.id % 72) * interval '1 hour' "
            "FROM tickets t WHERE t.state = 'paid'"
        )
    )
    conn.execute(text("UPDATE sla_records SET breached_at = started_at + interval '1 day' WHERE id % 50 = 0"))
    conn.execute(text("ANALYZE"))
    conn.commit()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--db", default="rd_bench_analytics")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="skip seeding (database kept by --keep)")
    args = ap.parse_args()

    url = args.admin_url.rsplit("/", 1)[0] + "/" + args.db
    if not args.reuse:
        url = recreate_database(args.admin_url, args.db)
    from bench.common import bench_app

    app = bench_app(url)
    from app.analytics import services
    from app.extensions import db

    with app.app_context():
        db.create_all()  # with --reuse: the tables added since the seed
        if not args.reuse:
            t = time.perf_counter()
            with db.engine.connect() as conn:
                seed(conn, args.tickets, args.tickets // 5)
                vary(conn)
            print(f"seeded {args.tickets:,} tickets in {time.perf_counter() - t:.1f} s")
        from app.tickets.counters import rebuild_state_counts

        rebuild_state_counts()  # the COPY seed bypasses the ORM that keeps them
        db.session.commit()
        n = db.session.scalar(text("SELECT count(*) FROM tickets"))
        print(f"tickets: {n:,}")
        rows = []
        with time_machine.travel(T0, tick=False):
            ms, written = timed(lambda: services.rollup(), repeat=3)
            rows.append(("roll-up, recent 35 days (job, every 15 min)", ms, f"{written:,} rows"))
            ms, written = timed(lambda: services.rollup(days=services.HISTORY_DAYS), repeat=1)
            rows.append(("roll-up, whole history (job, nightly)", ms, f"{written:,} rows"))
            services.rollup()
            reads = {
                "KPI tiles (live)": lambda: services.kpis(),
                "weekly trend, 12 weeks": lambda: services.weekly_trend(),
                **{f"breakdown by {d}, 28 days": (lambda d=d: services.breakdown(d)) for d in services.BREAKDOWNS},
                "spikes": lambda: services.spikes(),
                "flagged customers": lambda: services.flagged_customers(),
            }
            for name, fn in reads.items():
                fn()
                ms, _ = timed(fn, repeat=5)
                rows.append((name, ms, ""))
            direct = text(
                "SELECT m.code, count(*) FROM tickets t JOIN orders o ON o.id = t.order_id "
                "JOIN merchants m ON m.id = o.merchant_id WHERE t.created_at >= :since "
                "GROUP BY m.code ORDER BY 2 DESC LIMIT 15"
            )
            since = T0.replace(hour=0) - timedelta(days=27)
            ms, _ = timed(lambda: db.session.execute(direct, {"since": since}).all(), repeat=3)
            rows.append(("for comparison: breakdown by merchant straight from tickets", ms, ""))
        db.session.remove()

    from bench.common import login_client

    with time_machine.travel(T0, tick=False):  # log in at the frozen time: a cookie from the future is refused
        client, headers = login_client(app, "manager@bench")
        for name, path, hdrs in (
            ("analytics page (HTML, manager)", "/analytics/", {}),
            ("GET /api/v1/analytics/summary", "/api/v1/analytics/summary", headers),
            ("GET /api/v1/analytics/breakdown/merchant", "/api/v1/analytics/breakdown/merchant", headers),
        ):
            assert client.get(path, headers=hdrs).status_code == 200, path
            ms, _ = timed(lambda path=path, hdrs=hdrs: client.get(path, headers=hdrs), repeat=5)
            rows.append((name, ms, ""))

    print(f"\n| measurement at {n:,} tickets | median ms | |\n|---|---:|---|")
    for name, ms, note in rows:
        print(f"| {name} | {ms:.1f} | {note} |")
    print(f"\nload average: {os.getloadavg()}")
    if not args.keep:
        with app.app_context():
            db.engine.dispose()
        recreate_database(args.admin_url, args.db)  # leaves an empty database behind


if __name__ == "__main__":
    main()
