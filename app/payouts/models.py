"""Payouts (one per approved ticket), the customers' balance ledger and the simulated
gateway's "remote" record of charges. (Platform incidents: app/workflow/models.py.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.extensions import Model
from app.tickets.models import Ticket
from app.types import UTCDateTime, utcnow

PAYOUT_CHANNELS = ("balance", "alipay", "wechat", "bank_card")
# pending: queued for the gateway; processing: claimed by one worker; succeeded: money sent
# (the ticket is paid in the same transaction); failed: the gateway refused or retries ran out
# (finance sees the reason: Retry or Return to review); cancelled: returned to review after a
# failure (a later Pay reuses the row with a fresh idempotency key).
# One row per ticket, whatever happens: a retry (on the same or another channel) restarts this
# row with a new attempt, never a second row. See docs/payouts.md.
PAYOUT_STATUSES = ("pending", "processing", "succeeded", "failed", "cancelled")


class Payout(Model):
    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_cents: Mapped[int]
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    gateway_reference: Mapped[str | None] = mapped_column(String(120))
    manual: Mapped[bool] = mapped_column(default=False)  # recorded by finance, paid outside
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # "declined": the gateway refused (no money moved); "exhausted": retries ran out on
    # uncertain errors (the gateway is asked again before anything else is tried).
    failure_kind: Mapped[str | None] = mapped_column(String(20))
    # the gateway's decline code, mapped to one of app/payouts/labels.DECLINE_CODES (shown translated)
    decline_code: Mapped[str | None] = mapped_column(String(40))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])

    def __repr__(self) -> str:
        return f"<Payout {self.id} ticket={self.ticket_id} {self.status}>"


class PayoutDecline(Model):
    """One row per declined attempt: the channel stays closed for this ticket (a decline is the
    gateway's permanent answer for that account) until finance returns the ticket to review — the
    customer may then give another account (`cleared_at`); a retry must use another channel."""

    __tablename__ = "payout_declines"
    __table_args__ = (Index("ix_payout_declines_ticket_id_channel", "ticket_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # returned to review since


class BalanceLedger(Model):
    """Credits to a customer's platform balance; one row per balance payout at most."""

    __tablename__ = "balance_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_cents: Mapped[int]
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id"), unique=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SimulatedCharge(Model):
    """The simulated gateway's own ("remote") memory, keyed by idempotency key.

    Written in its own transaction, so it survives a worker that dies before the app's commit.
    """

    __tablename__ = "payout_sim_charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int]
    reference: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
