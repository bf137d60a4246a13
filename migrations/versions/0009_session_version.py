"""users.session_version: part of every session cookie; bumped at logout and password change

Revision ID: 0009_session_version
Revises: 0008_audit_anchor

Existing session cookies (user id only) stop working after this upgrade: everyone logs in once more.
"""
from alembic import op
import sqlalchemy as sa

revision = "0009_session_version"
down_revision = "0008_audit_anchor"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
