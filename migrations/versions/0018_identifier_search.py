"""search: refs and order numbers by prefix or suffix (b-tree indexes) instead of trigram GIN (PostgreSQL only)

Revision ID: 0018_identifier_search
Revises: 0017_state_queue_index

Every ref and order number shares most of its trigrams with all the others, so the trigram
indexes served a lookup of one of them slowly (~100 ms at 1,000,000 tickets); search now matches
identifiers by their start or end (app/tickets/search.py `_affix`), which these b-trees serve.
"""

from alembic import op

revision = "0018_identifier_search"
down_revision = "0017_state_queue_index"
branch_labels = None
depends_on = None

AFFIX = (("ix_tickets_ref", "tickets", "ref"), ("ix_orders_order_no", "orders", "order_no"))
TRIGRAM = (("ix_trgm_tickets_ref", "tickets", "ref"), ("ix_trgm_orders_order_no", "orders", "order_no"))


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for prefix, table, column in AFFIX:
        op.execute(f"CREATE INDEX {prefix}_lower ON {table} (lower({column}) text_pattern_ops)")
        op.execute(f"CREATE INDEX {prefix}_reversed ON {table} (reverse(lower({column})) text_pattern_ops)")
    for name, table, _ in TRIGRAM:
        op.drop_index(name, table_name=table)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, column in TRIGRAM:
        op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})
    for prefix, table, _ in AFFIX:
        op.drop_index(f"{prefix}_reversed", table_name=table)
        op.drop_index(f"{prefix}_lower", table_name=table)
