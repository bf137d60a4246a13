"""ticket search: pg_trgm trigram indexes (PostgreSQL only)

Revision ID: 0006_search
Revises: 0005_analytics

The extension needs a role allowed to create it (a superuser, or the database owner with
pg_trgm marked trusted — it is, since PostgreSQL 13).
"""

from alembic import op

revision = "0006_search"
down_revision = "0005_analytics"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_trgm_tickets_ref", "tickets", "ref"),
    ("ix_trgm_tickets_description", "tickets", "description"),
    ("ix_trgm_orders_order_no", "orders", "order_no"),
    ("ix_trgm_users_email", "users", "email"),
    ("ix_trgm_users_name", "users", "name"),
    ("ix_trgm_messages_body", "messages", "body"),
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
