"""Search benchmark: staff search at 1,000,000 tickets in PostgreSQL (trigram and gram GIN indexes).

    .venv/bin/python bench/search_bench.py [--db rd_bench_analytics] [--prepare] [--repeat 5]

Runs on the database bench/analytics_bench.py leaves behind with --keep (1,000,000 tickets).
`--prepare` gives every ticket a realistic description (mixed Chinese/English complaint phrases
plus its order's product), adds a message to every 1,000th ticket, and builds what `flask db
upgrade` would: tickets.merchant_id (backfilled from orders) with its queue index, the trigram,
gram and identifier indexes, then VACUUMs and ANALYZEs. It then times
`list_tickets(search=...)` (the queue's and `GET /api/v1/tickets?q=`'s query: first page of 25 in
urgency order) for queries of each kind — median of 5 (`--repeat`) after a warm-up, in-process —
with the path app/tickets/search.py took. Numbers go to bench/README.md by hand, with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

PHRASES = (
    "充值卡提示已被使用，无法激活",
    "点卡充值后没有到账",
    "The game card code is invalid",
    "会员扣费了但是没有开通",
    "下错单了，想退款",
    "商家一直不发货",
    "Charged twice for one order",
    "卡密显示错误，客服不回复",
)
QUERIES = (
    ("a ticket ref", "RD000000777777"),
    ("an order number", "KM0000123456"),
    ("an order number's last digits", "123456"),
    ("a customer e-mail", "c10077@bench"),
    ("a merchant code", "M137"),
    ("a rare Chinese phrase (description)", "客服不回复"),
    ("a common word (1 ticket in 8)", "到账"),
    ("two words", "M137 激活"),
    ("a word in messages only", "补发卡密"),
    ("no match", "zzzznotthere"),
    ("a two-character word in no ticket", "退货"),
    ("a two-character word in messages only (1 ticket in 1,000)", "查收"),
    ("a single character in no ticket", "鑫"),
    ("two frequent words that never meet", "到账 激活"),
)


def prepare(conn) -> None:
    arr = "ARRAY[" + ",".join("'" + p.replace("'", "''") + "'" for p in PHRASES) + "]"
    # Idempotent, so that --prepare on a prepared database only adds what is missing (a new index).
    description = f"({arr})[1 + id % {len(PHRASES)}] || ' 订单商品 ' || id % 500"
    conn.execute(text(f"UPDATE tickets SET description = {description} WHERE description <> {description}"))
    conn.execute(
        text(
            "INSERT INTO messages (ticket_id, author_id, body, internal, created_at) "
            "SELECT id, 1, '已联系商家补发卡密，请查收', false, created_at FROM tickets t WHERE id % 1000 = 7 "
            "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id)"
        )
    )
    # Migration 0020 (a database seeded before it has no tickets.merchant_id; one seeded after has it
    # from the COPY): the order's merchant on each ticket and the queue order within a merchant.
    conn.execute(
        text(
            "ALTER TABLE tickets ADD COLUMN IF NOT EXISTS merchant_id integer "
            "CONSTRAINT fk_tickets_merchant_id_merchants REFERENCES merchants (id)"
        )
    )
    conn.execute(
        text(
            "UPDATE tickets t SET merchant_id = o.merchant_id FROM orders o "
            "WHERE o.id = t.order_id AND t.merchant_id IS DISTINCT FROM o.merchant_id"
        )
    )
    conn.execute(
        text(
            "CREATE INDEX IF NOT EXISTS ix_tickets_merchant_queue ON tickets (merchant_id, sla_due_at, created_at, id)"
        )
    )
    conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    for prefix, table, column in (("ix_tickets_ref", "tickets", "ref"), ("ix_orders_order_no", "orders", "order_no")):
        for name, expr in (
            (f"{prefix}_lower", f"lower({column})"),
            (f"{prefix}_reversed", f"reverse(lower({column}))"),
        ):
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({expr} text_pattern_ops)"))
    for name, table, column in (
        ("ix_trgm_tickets_description", "tickets", "description"),
        ("ix_trgm_users_email", "users", "email"),
        ("ix_trgm_users_name", "users", "name"),
        ("ix_trgm_messages_body", "messages", "body"),
    ):
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)"))
    # Migration 0021: the gram functions and their GIN indexes (words without a trigram).
    from app.types import GRAM_FUNCTIONS

    for function in GRAM_FUNCTIONS:
        conn.execute(text(function))
    for name, table, column in (
        ("ix_grams_tickets_description", "tickets", "description"),
        ("ix_grams_messages_body", "messages", "body"),
        ("ix_grams_users_email", "users", "email"),
        ("ix_grams_users_name", "users", "name"),
    ):
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (search_grams({column}))"))
    conn.commit()
    # Every ticket and order row was just rewritten: vacuum as autovacuum would, else every index
    # lookup also visits a dead row version (the first measurements here were taken that way).
    conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--db", default="rd_bench_analytics")
    ap.add_argument("--prepare", action="store_true")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per query (the median is shown)")
    ap.add_argument(
        "--plain", action="store_true", help="time the plain query only (filter_by_text: before the fast paths)"
    )
    args = ap.parse_args()
    url = args.admin_url.rsplit("/", 1)[0] + "/" + args.db
    from bench.common import bench_app

    app = bench_app(url)
    from app.auth.models import User
    from app.extensions import db
    from app.tickets.services import list_tickets

    with app.app_context():
        if args.prepare:
            t = time.perf_counter()
            with db.engine.connect() as conn:
                prepare(conn)
            print(f"prepared descriptions, messages and trigram indexes in {time.perf_counter() - t:.0f} s")
        n = db.session.scalar(text("SELECT count(*) FROM tickets"))
        agent = db.session.query(User).filter_by(role="manager").first()
        rows = []
        from app.tickets import search

        taken: list[str] = []
        narrow = search.TextSearch.narrow

        def spy(self, *args, **kwargs):
            result = narrow(self, *args, **kwargs)
            taken.append(self.path[-1] if self.path else "plain")
            return result

        if args.plain:
            search.TextSearch.narrow = lambda self, part, order, need: search.filter_by_text(part, self.q)  # type: ignore[method-assign]
            narrow = search.TextSearch.narrow
        for name, q in QUERIES:
            taken.clear()
            search.TextSearch.narrow = spy  # type: ignore[method-assign]
            found, _ = list_tickets(agent, search=q)
            search.TextSearch.narrow = narrow  # type: ignore[method-assign]
            path = "plain only" if args.plain else taken[-1] if taken else "-"
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                list_tickets(agent, search=q)
                times.append((time.perf_counter() - t) * 1000)
                db.session.rollback()
            rows.append((name, q, len(found), statistics.median(times), path))
        print(f"\n| search at {n:,} tickets | query | first page | median ms | path |\n|---|---|---:|---:|---|")
        for name, q, k, ms, path in rows:
            print(f"| {name} | `{q}` | {k} | {ms:.1f} | {path} |")
        print(f"\nload average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
