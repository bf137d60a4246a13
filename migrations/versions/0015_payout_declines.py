"""payouts: decline codes and the declined channels of a ticket (retry on another channel)

Revision ID: 0015_payout_declines
Revises: 0014_desk_views
"""
from alembic import op
import sqlalchemy as sa


revision = '0015_payout_declines'
down_revision = '0014_desk_views'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decline_code', sa.String(length=40), nullable=True))

    op.create_table('payout_declines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payout_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['payout_id'], ['payouts.id'], name=op.f('fk_payout_declines_payout_id_payouts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_payout_declines_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_declines'))
    )
    with op.batch_alter_table('payout_declines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_declines_payout_id'), ['payout_id'], unique=False)
        batch_op.create_index('ix_payout_declines_ticket_id_channel', ['ticket_id', 'channel'], unique=False)


def downgrade():
    with op.batch_alter_table('payout_declines', schema=None) as batch_op:
        batch_op.drop_index('ix_payout_declines_ticket_id_channel')
        batch_op.drop_index(batch_op.f('ix_payout_declines_payout_id'))
    op.drop_table('payout_declines')
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_column('decline_code')
