"""INSERT ... ON CONFLICT DO NOTHING on PostgreSQL and SQLite alike."""

from __future__ import annotations

from typing import Any

from app.extensions import db


def insert_ignoring_conflict(conn, table: Any, values: dict, index_elements: list[str]) -> int:
    """Insert `values` unless a row with the same unique `index_elements` exists; rows inserted.

    `conn` is a Connection or a Session (both have execute()).
    """
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=index_elements)
        .returning(*table.primary_key.columns)
    )
    # rowcount is unreliable with RETURNING on some drivers: count the returned keys instead.
    return len(conn.execute(stmt).all())
