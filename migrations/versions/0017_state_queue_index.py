"""tickets: ix_tickets_state_sla_queue (state, sla_due_at, created_at, id) — the queue order within one state

Revision ID: 0017_state_queue_index
Revises: 0016_desk_bulk
Create Date: 2026-12-01 17:45:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017_state_queue_index'
down_revision = '0016_desk_bulk'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_state_sla_queue', ['state', 'sla_due_at', 'created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_state_sla_queue')
