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


# Search for words without a trigram (PostgreSQL; IMMUTABLE, so index expressions; plain SQL, so
# nothing to install — pg_bigm is not needed): `search_grams(text)` is every character and every
# two-character substring of the lower-cased text, `search_word_grams(word)` the keys a word
# needs — its character, or its two-character substrings (a text containing the word has them
# all). COST 1000: worth computing only through an index, never row by row in a scan. Migration
# 0021 creates them (keep its copy equal); app/tickets/models.py creates them before create_all's tables.
GRAM_FUNCTIONS = (
    "CREATE OR REPLACE FUNCTION search_grams(t text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS "
    "$$ SELECT coalesce(array_agg(DISTINCT g), '{}') FROM lower(t) AS l, generate_series(1, length(l)) AS i, "
    "LATERAL (VALUES (substr(l, i, 1)), (substr(l, i, 2))) AS v(g) WHERE length(g) > 0 $$",
    "CREATE OR REPLACE FUNCTION search_word_grams(w text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS "
    "$$ SELECT CASE WHEN length(w) = 1 THEN ARRAY[lower(w)] ELSE "
    "(SELECT coalesce(array_agg(DISTINCT substr(l, i, 2)), '{}') "
    "FROM lower(w) AS l, generate_series(1, length(l) - 1) AS i) END $$",
)


def gram_index(name: str, column: str) -> Index:
    """A GIN index (PostgreSQL) on `search_grams(column)`, serving search for words without a
    trigram (app/tickets/search.py `_contains`: `search_grams(column) @> search_word_grams(word)`,
    rechecked by ILIKE). Not created on SQLite, where search scans."""
    from sqlalchemy import func, literal_column

    return Index(name, func.search_grams(literal_column(column)), postgresql_using="gin").ddl_if(dialect="postgresql")


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
