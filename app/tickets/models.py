"""Merchants, orders, tickets and their messages."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, Text, event, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.extensions import Model, db
from app.merchants.models import Merchant
from app.types import GRAM_FUNCTIONS, UTCDateTime, affix_indexes, gram_index, trgm_index, utcnow

if TYPE_CHECKING:
    from app.tickets.activity import TicketActivity

PRODUCT_TYPES = ("game_card", "recharge", "card_key", "membership", "item", "other")
PAYMENT_CHANNELS = ("balance", "alipay", "wechat", "bank_card")
DELIVERY_STATUSES = ("pending", "delivered", "failed")
KINDS = (
    "wrong_order",
    "not_delivered",
    "invalid_card",
    "not_as_described",
    "duplicate_charge",
    "membership_refund",
    "service_fault",
    "other",
)

# The open states of app/workflow/machine.py (OPEN_STATES; tests/tickets/test_one_open.py checks they agree):
# at most one ticket per order and kind is in one of them, by a partial unique index (race-safe).
OPEN_STATES_SQL = "state IN ('submitted', 'merchant', 'evidence', 'review', 'finance')"
ONE_OPEN_INDEX = "uq_tickets_one_open_request"

# The trigram indexes need the extension (migration 0006 creates it too; this is for create_all in tests).
event.listen(
    db.metadata, "before_create", DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql")
)
# … and the gram indexes their functions (migration 0021 creates them too).
for _function in GRAM_FUNCTIONS:
    event.listen(db.metadata, "before_create", DDL(_function).execute_if(dialect="postgresql"))


class Order(Model):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    product_type: Mapped[str] = mapped_column(String(20))
    product_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(default=1)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    payment_channel: Mapped[str] = mapped_column(String(20))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivery_status: Mapped[str] = mapped_column(String(20), default="pending")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    card_key_revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    membership_activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    membership_term_days: Mapped[int | None]
    membership_benefits_used_cents: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[User] = relationship()
    merchant: Mapped[Merchant] = relationship()
    tickets: Mapped[list[Ticket]] = relationship(back_populates="order")

    __table_args__ = (
        Index("ix_orders_customer_paid", "customer_id", "paid_at"),
        *affix_indexes("ix_orders_order_no", "order_no"),  # search by order number (prefix or suffix)
    )


class Ticket(Model):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(24), unique=True)
    tracker_token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    # Written only by app/workflow (the machine); everything else reads it.
    state: Mapped[str] = mapped_column(String(20), default="new", index=True)
    version: Mapped[int] = mapped_column(default=1)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    # The order's merchant, copied on insert (`_ticket_merchant` below; an order's merchant never
    # changes), so that the queue's merchant filter, merchant search and a merchant view's count are
    # one range of ix_tickets_merchant_queue instead of a walk through orders.
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    requested_amount_cents: Mapped[int]
    approved_amount_cents: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(default=0)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # SLA: deadlines of the current stage, stored on entry (see sla/clock.py).
    sla_metric: Mapped[str | None] = mapped_column(String(30))
    sla_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evidence_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The merchant's answer deadline (business time), set on entering `merchant` (sla/clock.py).
    merchant_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Fast track (workflow/policies.py) and rejection facts shown to the customer.
    fast_track_rule: Mapped[str | None] = mapped_column(String(40))
    fast_track_facts: Mapped[dict | None] = mapped_column(JSON)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    # Escalated above the approval limit (the `escalate` event): in the managers' view with the
    # agent's proposal until a decision moves the ticket on (app/workflow/machine.py).
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_amount_cents: Mapped[int | None]
    # The head of the audit chain (written only by app/workflow/events.py): last seq and a keyed hash
    # over it, the state and the approved amount; `flask audit verify` checks the two agree.
    audit_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    audit_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[User] = relationship(foreign_keys=[customer_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    order: Mapped[Order] = relationship(back_populates="tickets")
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all, delete-orphan"
    )
    # The queue's markers (app/tickets/activity.py); written there only, by its flush listener.
    activity: Mapped[TicketActivity | None] = relationship(viewonly=True)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_tickets_state_created", "state", "created_at", "id"),
        Index("ix_tickets_customer_created", "customer_id", "created_at"),
        Index(
            ONE_OPEN_INDEX,
            "order_id",
            "kind",
            unique=True,
            postgresql_where=text(OPEN_STATES_SQL),
            sqlite_where=text(OPEN_STATES_SQL),
        ),
        Index(
            "ix_tickets_escalated_at",
            "escalated_at",
            postgresql_where=text("escalated_at IS NOT NULL"),
            sqlite_where=text("escalated_at IS NOT NULL"),
        ),
        *affix_indexes("ix_tickets_ref", "ref"),  # search by ref (prefix or suffix)
        trgm_index("ix_trgm_tickets_description", "description"),
        gram_index("ix_grams_tickets_description", "description"),
    )

    def __init__(self, **kwargs):
        kwargs.setdefault("state", "new")  # the machine's initial state; only the machine moves it on
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        return f"<Ticket {self.ref} {self.state}>"


class Message(Model):
    """A public reply (seen by the customer) or an internal note (staff only)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")

    __table_args__ = (trgm_index("ix_trgm_messages_body", "body"), gram_index("ix_grams_messages_body", "body"))
    author: Mapped[User | None] = relationship()


@event.listens_for(Ticket, "before_insert")
def _ticket_merchant(mapper, connection, ticket: Ticket) -> None:
    """Every ticket carries its order's merchant, however it is created (create_ticket sets it;
    anything else — a test, a seed — gets it here)."""
    if ticket.merchant_id is not None:
        return
    order = ticket.__dict__.get("order")  # loaded: no query
    if order is not None and order.merchant_id is not None:
        ticket.merchant_id = order.merchant_id
    elif ticket.order_id is not None:
        ticket.merchant_id = connection.scalar(select(Order.merchant_id).where(Order.id == ticket.order_id))


# The markers' table and its flush listener: registered with the Ticket mapper it is joined to.
from app.tickets import activity as _activity  # noqa: E402,F401
