"""evidence uploads (filled by the evidence issue)

Revision ID: 0002_evidence
Revises: 0001_core
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0002_evidence"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
