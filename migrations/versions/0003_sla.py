"""SLA records, admin business dates and the queue's urgency index

Revision ID: 0003_sla
Revises: 0002_evidence
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_sla"
down_revision = "0002_evidence"
branch_labels = None
depends_on = None

_OPEN = "met_at IS NULL AND stopped_at IS NULL"


def upgrade():
    op.create_table(
        "sla_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=30), nullable=False),
        sa.Column("target_us", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("elapsed_us", sa.BigInteger(), nullable=False),
        sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_sla_records_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_records")),
    )
    with op.batch_alter_table("sla_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_records_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sla_records_started_at"), ["started_at"], unique=False)
        batch_op.create_index("ix_sla_records_metric_started", ["metric", "started_at"], unique=False)
        batch_op.create_index("ix_sla_records_warn_pending", ["warn_at"], unique=False,
                              postgresql_where=sa.text(f"warned_at IS NULL AND {_OPEN}"),
                              sqlite_where=sa.text(f"warned_at IS NULL AND {_OPEN}"))
        batch_op.create_index("ix_sla_records_due_pending", ["due_at"], unique=False,
                              postgresql_where=sa.text(f"breached_at IS NULL AND {_OPEN}"),
                              sqlite_where=sa.text(f"breached_at IS NULL AND {_OPEN}"))

    op.create_table(
        "business_dates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_dates")),
        sa.UniqueConstraint("day", name=op.f("uq_business_dates_day")),
    )

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_sla_queue", ["sla_due_at", "created_at", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_sla_queue")
    op.drop_table("business_dates")
    with op.batch_alter_table("sla_records", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_records_due_pending")
        batch_op.drop_index("ix_sla_records_warn_pending")
        batch_op.drop_index("ix_sla_records_metric_started")
        batch_op.drop_index(batch_op.f("ix_sla_records_started_at"))
        batch_op.drop_index(batch_op.f("ix_sla_records_ticket_id"))
    op.drop_table("sla_records")
