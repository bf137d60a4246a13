"""`flask db upgrade` on an empty database produces exactly the models' schema."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from app.extensions import db
from app.types import only_own_dialect
from tests.conftest import make_app, on_postgres


@pytest.fixture
def empty_database_url(tmp_path):
    if not on_postgres():
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    import os

    base = os.environ["TEST_DATABASE_URL"]
    name = f"rd_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_empty_matches_models(empty_database_url):
    app = make_app(DATABASE_URL=empty_database_url)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect() as conn:
            opts = {"compare_type": True, "include_object": only_own_dialect(conn.dialect.name)}
            ctx = MigrationContext.configure(conn, opts=opts)
            diff = compare_metadata(ctx, db.metadata)
        db.engine.dispose()
    assert diff == [], diff


def test_downgrade_to_base_and_up_again(empty_database_url):
    runner = make_app(DATABASE_URL=empty_database_url).test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    down = runner.invoke(args=["db", "downgrade", "base"])
    assert down.exit_code == 0, down.output
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0


def test_0020_backfills_each_tickets_merchant_from_its_order(empty_database_url):
    """Tickets filed before 0020 get their order's merchant."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from app.auth.models import User
    from app.tickets.models import Merchant, Order, Ticket

    app = make_app(DATABASE_URL=empty_database_url)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", "0018_identifier_search"])
    assert result.exit_code == 0, result.output
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(
                insert(User.__table__), [{"id": 1, "email": "c@x.test", "role": "customer", "password_hash": "x"}]
            )
            conn.execute(insert(Merchant.__table__), [{"id": i, "code": f"M{i}", "name": f"M{i}"} for i in (1, 2)])
            order = {"customer_id": 1, "product_type": "card_key", "product_name": "p", "amount_cents": 1}
            order |= {"payment_channel": "alipay", "paid_at": now}
            conn.execute(
                insert(Order.__table__),
                [{**order, "id": i, "order_no": f"KM{i}", "merchant_id": 1 + i % 2} for i in (1, 2, 3)],
            )
            ticket = {"kind": "other", "state": "closed", "customer_id": 1, "requested_amount_cents": 1}
            conn.execute(
                insert(Ticket.__table__),
                [
                    {**ticket, "id": i, "ref": f"RD{i}", "tracker_token": f"t{i}", "order_id": 1 + i % 3}
                    for i in (1, 2, 3, 4)
                ],
            )
        db.engine.dispose()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, order_id, merchant_id FROM tickets ORDER BY id")).all()
        db.engine.dispose()
    # ticket i is on order 1 + i % 3, whose merchant is 1 + order % 2
    assert [tuple(r) for r in rows] == [(i, 1 + i % 3, 1 + (1 + i % 3) % 2) for i in (1, 2, 3, 4)]


def test_0021_creates_the_models_gram_functions(empty_database_url):
    """The gram indexes' functions are the ones the models create (app/types.py GRAM_FUNCTIONS)."""
    if not on_postgres():
        pytest.skip("PostgreSQL only (SQLite search scans)")
    from app.types import GRAM_FUNCTIONS

    app = make_app(DATABASE_URL=empty_database_url)
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    functions = text(
        "SELECT proname, prosrc FROM pg_proc WHERE proname IN ('search_grams', 'search_word_grams') "
        "AND provolatile = 'i' AND procost = 1000"
    )
    with app.app_context():
        with db.engine.connect() as conn:
            found = {name: src.strip() for name, src in conn.execute(functions)}
            grams = conn.scalar(text("SELECT search_grams('退货 AB')"))
        db.engine.dispose()
    assert found == {f.split("FUNCTION ")[1].split("(")[0]: f.split("$$")[1].strip() for f in GRAM_FUNCTIONS}
    assert grams == sorted(["退", "货", "退货", " ", "货 ", " a", "a", "ab", "b"])
