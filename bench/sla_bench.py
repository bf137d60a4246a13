"""SLA benchmark: 1,000,000 tickets in PostgreSQL (seeded with COPY), the sweep and the agent queue.

    .venv/bin/python bench/sla_bench.py [--tickets 1000000] [--open 200000]
        [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--db rd_bench] [--keep]

Creates (drops first) its own database, builds the schema from the models, COPYs users,
merchants, orders, tickets and one SLA record per ticket, ANALYZEs, then measures
  * the sweep with 0 / 100 / 1,000 / 10,000 records crossing their warning time (the open
    count stays the same), with EXPLAIN of the claim statement;
  * the agent queue's first page (urgency order), the breached filter and a cursor page,
    with EXPLAIN;
  * the dashboard's "breached now" list.
Numbers go to bench/README.md by hand.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, select, text

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=SH).astimezone(UTC)  # "now" of the seed
OPEN_STATES = ("submitted", "review", "finance")
METRIC_OF = {"submitted": "first_response", "review": "review_decision", "finance": "payout"}
CLOSED_STATES = ("paid", "rejected", "resolved", "withdrawn", "closed")
KINDS = (
    "wrong_order",
    "not_delivered",
    "invalid_card",
    "not_as_described",
    "duplicate_charge",
    "membership_refund",
    "service_fault",
    "other",
)


def recreate_database(admin_url: str, name: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def ts(dt: datetime) -> str:
    return dt.isoformat()


def seed(conn, n_tickets: int, n_open: int, n_customers: int = 20_000, n_agents: int = 50) -> None:
    """COPY everything; open tickets get a running clock with deadlines spread over 3 days."""
    rnd = random.Random(5)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(
            "COPY users (id, email, name, role, password_hash, locale, is_active_flag, flagged, created_at) FROM STDIN"
        ) as cp:
            cp.write_row((1, "manager@bench", "manager", "manager", "x", "zh_Hans_CN", True, False, ts(T0)))
            for i in range(2, 2 + n_agents):
                cp.write_row((i, f"agent{i}@bench", f"agent{i}", "agent", "x", "zh_Hans_CN", True, False, ts(T0)))
            first_customer = 2 + n_agents
            for i in range(first_customer, first_customer + n_customers):
                cp.write_row((i, f"c{i}@bench", "", "customer", "x", "zh_Hans_CN", True, False, ts(T0)))
        with cur.copy("COPY merchants (id, code, name, created_at) FROM STDIN") as cp:
            for i in range(1, 201):
                cp.write_row((i, f"M{i:03d}", f"Merchant {i}", ts(T0)))
        with cur.copy(
            "COPY orders (id, order_no, customer_id, merchant_id, product_type, product_name, quantity, "
            "amount_cents, currency, payment_channel, paid_at, delivery_status, created_at) FROM STDIN"
        ) as cp:
            for i in range(1, n_tickets + 1):
                paid = T0 - timedelta(seconds=rnd.randrange(90 * 86_400))
                cp.write_row(
                    (
                        i,
                        f"KM{i:010d}",
                        first_customer + i % n_customers,
                        1 + i % 200,
                        "card_key",
                        "Steam ¥100",
                        1,
                        10_000,
                        "CNY",
                        "alipay",
                        ts(paid),
                        "delivered",
                        ts(paid),
                    )
                )
        tcols = (
            "id, ref, tracker_token, kind, state, version, customer_id, order_id, merchant_id, assignee_id, "
            "requested_amount_cents, description, priority, state_changed_at, sla_metric, sla_warn_at, "
            "sla_due_at, created_at, updated_at"
        )
        rcols = (
            "id, ticket_id, metric, target_us, started_at, elapsed_us, warn_at, due_at, warned_at, "
            "breached_at, met_at, ended_by"
        )
        records = []
        with cur.copy(f"COPY tickets ({tcols}) FROM STDIN") as cp:
            for i in range(1, n_tickets + 1):
                created = T0 - timedelta(seconds=rnd.randrange(90 * 86_400))
                is_open = i <= n_open
                state = OPEN_STATES[i % 3] if is_open else CLOSED_STATES[i % 5]
                warn = due = None
                if is_open:
                    # 2 % already overdue (and marked), the rest due within the next 3 days
                    due = T0 + timedelta(
                        seconds=rnd.randrange(-86_400, 0) if i % 50 == 0 else rnd.randrange(3_600, 3 * 86_400)
                    )
                    warn = due - timedelta(hours=1)
                cp.write_row(
                    (
                        i,
                        f"RD{i:012d}",
                        f"tok{i:020d}",
                        KINDS[i % 8],
                        state,
                        2,
                        first_customer + i % n_customers,
                        i,
                        1 + i % 200,  # the order's merchant (tickets carry it)
                        2 + i % n_agents,
                        10_000,
                        "",
                        0,
                        ts(created),
                        METRIC_OF.get(state) if is_open else None,
                        warn and ts(warn),
                        due and ts(due),
                        ts(created),
                        ts(created),
                    )
                )
                started = max(created, T0 - timedelta(days=2))
                if is_open:
                    records.append(
                        (
                            i,
                            i,
                            METRIC_OF[state],
                            32_400_000_000,
                            ts(started),
                            0,
                            ts(warn),
                            ts(due),
                            ts(warn) if warn <= T0 else None,
                            ts(due) if due <= T0 else None,
                            None,
                            None,
                        )
                    )
                else:
                    records.append(
                        (
                            i,
                            i,
                            "review_decision",
                            64_800_000_000,
                            ts(created),
                            rnd.randrange(64_800_000_000),
                            None,
                            None,
                            None,
                            None,
                            ts(created + timedelta(hours=5)),
                            "approve",
                        )
                    )
        with cur.copy(f"COPY sla_records ({rcols}) FROM STDIN") as cp:
            for row in records:
                cp.write_row(row)
        for table in ("users", "merchants", "orders", "tickets", "sla_records"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    raw.commit()
    conn.execute(text("ANALYZE"))
    conn.commit()


def explain(db, stmt) -> str:
    from sqlalchemy.dialects import postgresql

    compiled = stmt.compile(dialect=postgresql.dialect())
    rows = (
        db.session.connection()
        .exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + str(compiled), compiled.params)
        .all()
    )
    db.session.rollback()
    return "\n".join(r[0] for r in rows)


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--open", type=int, default=200_000)
    ap.add_argument("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--db", default="rd_bench")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args()

    url = recreate_database(args.admin_url, args.db)
    from app import create_app
    from app.settings import Settings

    app = create_app(Settings(DATABASE_URL=url, REDIS_URL=None, SLA_INPROCESS_SWEEP=False))
    from app.auth.models import User
    from app.dashboard.services import breached_now
    from app.extensions import db
    from app.sla import sweep as sla_jobs
    from app.sla.models import SlaRecord
    from app.tickets.models import Ticket
    from app.tickets.services import list_tickets

    with app.app_context():
        db.create_all()
        t = time.perf_counter()
        with db.engine.connect() as conn:
            seed(conn, args.tickets, args.open)
        print(
            f"seeded {args.tickets:,} tickets ({args.open:,} open) + {args.tickets:,} SLA records "
            f"with COPY in {time.perf_counter() - t:.1f} s"
        )

        T = SlaRecord.__table__
        pending_warn = (
            select(T.c.warn_at)
            .where(T.c.warned_at.is_(None), T.c.met_at.is_(None), T.c.stopped_at.is_(None), T.c.warn_at.is_not(None))
            .order_by(T.c.warn_at)
        )
        claim = (
            select(T.c.id)
            .where(
                T.c.warn_at <= T0 + timedelta(hours=1),
                T.c.warned_at.is_(None),
                T.c.met_at.is_(None),
                T.c.stopped_at.is_(None),
            )
            .order_by(T.c.warn_at)
            .limit(sla_jobs.BATCH)
            .with_for_update(skip_locked=True)
        )
        print("\n-- EXPLAIN sweep claim (warnings crossing within the next hour):\n" + explain(db, claim))

        print("\n| records crossing warning | breaches crossing | open records | sweep ms | ms per crossing |")
        print("|---|---|---|---|---|")
        crossed = 0
        sla_jobs.sweep_sla(T0)  # warm-up: calendar, translations, connection
        for k in (0, 100, 1_000, 10_000):
            at = T0 if k == 0 else db.session.scalar(pending_warn.offset(k - 1).limit(1))
            db.session.rollback()
            n_open = db.session.scalar(
                select(db.func.count()).select_from(T).where(T.c.met_at.is_(None), T.c.stopped_at.is_(None))
            )
            ms, counts = timed(lambda at=at: sla_jobs.sweep_sla(at))
            n = counts["warned"] + counts["breached"]
            crossed += n
            per = f"{ms / n:.3f}" if n else "—"
            print(f"| {counts['warned']:,} | {counts['breached']:,} | {n_open:,} | {ms:.1f} | {per} |")

        agent = db.session.scalar(select(User).where(User.role == "agent").limit(1))
        db.session.expunge_all()
        from unittest import mock

        with mock.patch("app.tickets.services.utcnow", return_value=T0):
            ms1, (rows, cursor) = timed(lambda: list_tickets(agent, limit=25), repeat=20)
            ms2, _ = timed(lambda: list_tickets(agent, sla="breached", limit=25), repeat=20)
            ms3, _ = timed(lambda: list_tickets(agent, cursor=cursor, limit=25), repeat=20)
        ms4, br = timed(lambda: breached_now(T0, limit=200), repeat=5)
        print(f"\nqueue first page (25, urgency order): median {ms1:.1f} ms")
        print(f"queue sla=breached first page: median {ms2:.1f} ms")
        print(f"queue second page (cursor): median {ms3:.1f} ms")
        print(f"dashboard breached-now list (200 of them, with business-time overdue): median {ms4:.1f} ms")

        order = (Ticket.sla_due_at.asc().nulls_last(), Ticket.created_at, Ticket.id)
        print("\n-- EXPLAIN queue first page:\n" + explain(db, select(Ticket).order_by(*order).limit(26)))
        from app.tickets.services import _after_cursor, _decode_cursor

        print(
            "\n-- EXPLAIN queue second page (cursor):\n"
            + explain(db, _after_cursor(select(Ticket), _decode_cursor(cursor))[0].order_by(*order).limit(26))
        )
        print(
            "\n-- EXPLAIN queue sla=breached:\n"
            + explain(db, select(Ticket).where(Ticket.sla_due_at <= T0).order_by(*order).limit(26))
        )
        print(
            "\n-- EXPLAIN dashboard breached now:\n"
            + explain(
                db, select(Ticket).where(Ticket.sla_due_at <= T0).order_by(Ticket.sla_due_at, Ticket.id).limit(200)
            )
        )
        db.session.remove()
        db.engine.dispose()
    if not args.keep:
        admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
