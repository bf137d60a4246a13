"""complaint analytics roll-up tables

Revision ID: 0005_analytics
Revises: 0004_payouts
"""

import sqlalchemy as sa
from alembic import op

from app.types import UTCDateTime

revision = "0005_analytics"
down_revision = "0004_payouts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "complaint_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dim", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("paid", sa.Integer(), nullable=False),
        sa.Column("refund_cents", sa.BigInteger(), nullable=False),
        sa.Column("breached", sa.Integer(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", "dim", "value"),
    )
    op.create_index("ix_complaint_daily_dim_day", "complaint_daily", ["dim", "day"])
    op.create_table(
        "complainant_flags",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("refunds", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_index("ix_complainant_flags_tickets", "complainant_flags", ["tickets"])
    op.create_table(
        "analytics_snapshots",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade():
    op.drop_table("analytics_snapshots")
    op.drop_index("ix_complainant_flags_tickets", table_name="complainant_flags")
    op.drop_table("complainant_flags")
    op.drop_index("ix_complaint_daily_dim_day", table_name="complaint_daily")
    op.drop_table("complaint_daily")
