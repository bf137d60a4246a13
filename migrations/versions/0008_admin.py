"""admin_actions (the audit log of admin actions); api_tokens.label

Revision ID: 0008_admin
Revises: 0007_state_counts
"""

from alembic import op
import sqlalchemy as sa

revision = "0008_admin"
down_revision = "0007_state_counts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "admin_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("target_label", sa.String(length=254), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("admin_actions") as batch:
        batch.create_index("ix_admin_actions_actor_id", ["actor_id"])
        batch.create_index("ix_admin_actions_action", ["action"])
        batch.create_index("ix_admin_actions_at_id", ["at", "id"])
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("label", sa.String(length=100), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("label")
    op.drop_table("admin_actions")
