"""ticket_state_counts: tickets per (state, kind, assignee) for the queue's state chips

Revision ID: 0007_state_counts
Revises: 0006_search
"""

from alembic import op
import sqlalchemy as sa

revision = "0007_state_counts"
down_revision = "0006_search"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ticket_state_counts",
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("assignee_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("state", "kind", "assignee_id", name=op.f("pk_ticket_state_counts")),
    )
    op.execute(
        "INSERT INTO ticket_state_counts (state, kind, assignee_id, n) "
        "SELECT state, kind, COALESCE(assignee_id, 0), COUNT(*) FROM tickets "
        "GROUP BY state, kind, COALESCE(assignee_id, 0)"
    )


def downgrade():
    op.drop_table("ticket_state_counts")
