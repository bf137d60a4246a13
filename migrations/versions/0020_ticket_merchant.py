"""tickets.merchant_id (the order's merchant, backfilled) and ix_tickets_merchant_queue (merchant_id, sla_due_at, created_at, id)

Revision ID: 0020_ticket_merchant
Revises: 0019_activity_backfill

Tickets reached their merchant only through orders, so the queue's merchant filter, a merchant
view's count and staff search for a merchant walked orders (100+ ms at 1,000,000 tickets). With the
merchant on the ticket, each is one range of the queue order within that merchant. The column is
copied from the order when a ticket is inserted (app/tickets/models.py `_ticket_merchant`); an
order's merchant never changes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0020_ticket_merchant'
down_revision = '0019_activity_backfill'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merchant_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tickets_merchant_id_merchants'), 'merchants', ['merchant_id'], ['id'])
    if op.get_bind().dialect.name == 'postgresql':  # one hash join, not a lookup per ticket
        op.execute('UPDATE tickets t SET merchant_id = o.merchant_id FROM orders o WHERE o.id = t.order_id')
    else:
        op.execute('UPDATE tickets SET merchant_id = (SELECT merchant_id FROM orders WHERE orders.id = tickets.order_id)')
    with op.batch_alter_table('tickets', schema=None) as batch_op:  # built once, after the backfill
        batch_op.create_index('ix_tickets_merchant_queue', ['merchant_id', 'sla_due_at', 'created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_merchant_queue')
        batch_op.drop_constraint(batch_op.f('fk_tickets_merchant_id_merchants'), type_='foreignkey')
        batch_op.drop_column('merchant_id')
