"""notifications: message key + params (rendered when shown), unique per cause and recipient;
deliveries per outside channel; opt-outs; contact points for SMS / push

Revision ID: 0010_notifications
Revises: 0009_session_version
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_notifications"
down_revision = "0009_session_version"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cause", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
    # Old rows (rendered text, not kept) get a cause of their own.
    op.execute(
        "UPDATE notifications SET cause = 'legacy:' || CAST(id AS VARCHAR(20)), "
        "params = '{}'"
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("cause", existing_type=sa.String(length=120), nullable=False)
        batch_op.alter_column("params", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_index("ix_notifications_email_due")
        batch_op.drop_column("title")
        batch_op.drop_column("body")
        batch_op.drop_column("email_due_at")
        batch_op.drop_column("emailed_at")
        batch_op.create_unique_constraint("uq_notifications_cause_user", ["cause", "user_id"])

    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_deliveries_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint("notification_id", "channel", name="uq_notification_deliveries_channel"),
    )
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_notification_deliveries_due", ["sent_at", "due_at"], unique=False)

    op.create_table(
        "notification_optouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_optouts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_optouts")),
        sa.UniqueConstraint("user_id", "kind", "channel", name="uq_notification_optouts"),
    )
    op.create_table(
        "notification_contacts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("push_enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_contacts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_contacts")),
    )


def downgrade():
    op.drop_table("notification_contacts")
    op.drop_table("notification_optouts")
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_deliveries_due")
    op.drop_table("notification_deliveries")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint("uq_notifications_cause_user", type_="unique")
        batch_op.add_column(sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("email_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("title", sa.String(length=200), nullable=False, server_default=""))
        batch_op.create_index("ix_notifications_email_due", ["emailed_at", "email_due_at"], unique=False)
        batch_op.drop_column("params")
        batch_op.drop_column("cause")
