"""search: words without a trigram (two characters, e.g. 退货; one character) served by GIN indexes of the text's characters and bigrams, no extension (PostgreSQL only)

Revision ID: 0021_gram_search
Revises: 0020_ticket_merchant

pg_trgm cannot index a string of fewer than three letters or digits in a row, so a two-character
word (most Chinese words) or a single character was found by scanning (1.6–2.8 s at 1,000,000
tickets when rare). `search_grams(text)` is the set of the lower-cased text's characters and
two-character substrings, `search_word_grams(word)` the keys a word needs (its character, or its
two-character substrings); both IMMUTABLE SQL functions, so nothing to install (pg_bigm is not
needed). GIN indexes on `search_grams(col)` over the searched text columns serve
`search_grams(col) @> search_word_grams(word)`, which app/tickets/search.py adds to the exact
`col ILIKE '%word%'` (the recheck) for such words.
"""
from alembic import op

revision = '0021_gram_search'
down_revision = '0020_ticket_merchant'
branch_labels = None
depends_on = None

# The text of app/types.py GRAM_FUNCTIONS when this migration was written (tests/test_migrations.py
# checks the migrated functions are the models').
FUNCTIONS = (
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
INDEXES = (
    ("ix_grams_tickets_description", "tickets", "description"),
    ("ix_grams_messages_body", "messages", "body"),
    ("ix_grams_users_email", "users", "email"),
    ("ix_grams_users_name", "users", "name"),
)


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for function in FUNCTIONS:
        op.execute(function)
    for name, table, column in INDEXES:
        op.execute(f'CREATE INDEX {name} ON {table} USING gin (search_grams({column}))')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
    op.execute('DROP FUNCTION search_word_grams(text)')
    op.execute('DROP FUNCTION search_grams(text)')
