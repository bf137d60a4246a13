"""payouts, balance ledger, incidents, simulated gateway charges

Revision ID: 0004_payouts
Revises: 0003_sla
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_payouts"
down_revision = "0003_sla"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "payouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("gateway_reference", sa.String(length=120), nullable=True),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failure_kind", sa.String(length=20), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("succeeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["users.id"], name=op.f("fk_payouts_customer_id_users")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], name=op.f("fk_payouts_requested_by_id_users")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_payouts_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payouts_idempotency_key")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_payouts_ticket_id")),
    )
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payouts_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payouts_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_payouts_succeeded_at"), ["succeeded_at"], unique=False)

    op.create_table(
        "balance_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("payout_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["payout_id"], ["payouts.id"], name=op.f("fk_balance_ledger_payout_id_payouts")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_balance_ledger_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_ledger")),
        sa.UniqueConstraint("payout_id", name=op.f("uq_balance_ledger_payout_id")),
    )
    with op.batch_alter_table("balance_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_balance_ledger_user_id"), ["user_id"], unique=False)

    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("product_types", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("declared_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["declared_by_id"], ["users.id"], name=op.f("fk_incidents_declared_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index("ix_incidents_window", ["starts_at", "ends_at"], unique=False)

    op.create_table(
        "payout_sim_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_sim_charges")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payout_sim_charges_idempotency_key")),
    )


def downgrade():
    op.drop_table("payout_sim_charges")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_window")
    op.drop_table("incidents")
    with op.batch_alter_table("balance_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_balance_ledger_user_id"))
    op.drop_table("balance_ledger")
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payouts_succeeded_at"))
        batch_op.drop_index(batch_op.f("ix_payouts_status"))
        batch_op.drop_index(batch_op.f("ix_payouts_customer_id"))
    op.drop_table("payouts")
