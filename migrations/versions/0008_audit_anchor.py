"""audit trail anchors on tickets (last seq + keyed hash of the chain head)

Revision ID: 0008_audit_anchor
Revises: 0008_admin

Existing chains keep their plain SHA-256 hashes and get no anchor: `flask audit verify` reports them
as pre-HMAC until `flask audit rehash` (run once after this upgrade) re-signs them with the key.
"""
from alembic import op
import sqlalchemy as sa

revision = "0008_audit_anchor"
down_revision = "0008_admin"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("audit_seq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("audit_hash", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("audit_hash")
        batch.drop_column("audit_seq")
