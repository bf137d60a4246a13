"""one open request per order and kind: a partial unique index on tickets (order_id, kind)

Revision ID: 0012_one_open_request
Revises: 0011_merchants
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_one_open_request'
down_revision = '0011_merchants'
branch_labels = None
depends_on = None

OPEN = "state IN ('submitted', 'merchant', 'evidence', 'review', 'finance')"


def upgrade():
    # Two open requests of one kind on one order (a race before this index) must be settled by
    # staff first (withdraw or close one through the workflow, so the audit trail stays whole).
    dupes = op.get_bind().execute(sa.text(
        f"SELECT order_id, kind, COUNT(*) FROM tickets WHERE {OPEN} GROUP BY order_id, kind HAVING COUNT(*) > 1"
    )).fetchall()
    if dupes:
        raise RuntimeError(
            "tickets with more than one open request per order and kind (order_id, kind, count): "
            f"{[tuple(d) for d in dupes]}; close the extra ones, then upgrade again"
        )
    op.create_index(
        'uq_tickets_one_open_request', 'tickets', ['order_id', 'kind'], unique=True,
        postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN),
    )


def downgrade():
    op.drop_index('uq_tickets_one_open_request', table_name='tickets')
