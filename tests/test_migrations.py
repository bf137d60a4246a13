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
