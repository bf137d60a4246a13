"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python, stored as UTC on every backend (SQLite has no tz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; times are stored in UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def trgm_index(name: str, column: str) -> Index:
    """A trigram GIN index (PostgreSQL pg_trgm) serving `ILIKE '%word%'` for search (app/tickets/search.py);
    not created on SQLite, where search scans."""
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}).ddl_if(
        dialect="postgresql"
    )


def affix_indexes(prefix: str, column: str) -> tuple[Index, Index]:
    """Two b-tree indexes (PostgreSQL) serving identifier search by prefix and by suffix
    (app/tickets/search.py `_affix`): `lower(column) LIKE 'w%'` and `reverse(lower(column)) LIKE
    'reversed w%'`, with `text_pattern_ops` so LIKE can use them whatever the collation. Not created
    on SQLite, where search scans."""
    from sqlalchemy import func, literal_column
    from sqlalchemy.sql.elements import ColumnClause

    col: ColumnClause[str] = literal_column(column)
    return (
        Index(f"{prefix}_lower", func.lower(col).label("l"), postgresql_ops={"l": "text_pattern_ops"}).ddl_if(
            dialect="postgresql"
        ),
        Index(
            f"{prefix}_reversed", func.reverse(func.lower(col)).label("r"), postgresql_ops={"r": "text_pattern_ops"}
        ).ddl_if(dialect="postgresql"),
    )


def only_own_dialect(dialect_name: str):
    """An Alembic `include_object` hook: skip schema objects declared for another dialect only
    (`.ddl_if(dialect=...)`, e.g. the PostgreSQL trigram indexes when comparing on SQLite)."""

    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        cond = getattr(obj, "_ddl_if", None)
        return cond is None or cond.dialect is None or cond.dialect == dialect_name

    return include_object
