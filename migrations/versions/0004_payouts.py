"""payouts, balance ledger, incidents (filled by the payouts issue)

Revision ID: 0004_payouts
Revises: 0003_sla
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0004_payouts"
down_revision = "0003_sla"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
