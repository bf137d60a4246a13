"""SLA records and notifications (filled by the SLA issue)

Revision ID: 0003_sla
Revises: 0002_evidence
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0003_sla"
down_revision = "0002_evidence"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
