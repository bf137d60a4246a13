"""Merchants, their deposit ledger and liabilities, standing actions and collective complaints.

Money in integer cents. `Merchant.deposit_cents` is the running balance of the ledger, changed
only together with a `MerchantLedgerEntry` row in the same transaction (merchant row locked).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.types import UTCDateTime, utcnow

LEDGER_KINDS = ("deposit", "deduction")
CHARGE_STATUSES = ("pending", "charged", "reversed")
STANDING_ACTIONS = ("suspend", "unsuspend", "blacklist", "unblacklist")


class Merchant(Model):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 保证金: the ledger's running balance (see MerchantLedgerEntry).
    deposit_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set when the deposit fell below MERCHANT_DEPOSIT_FLOOR_CENTS (finance was told); cleared on top-up.
    low_deposit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    blacklisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blacklisted_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def blacklisted(self) -> bool:
        return self.blacklisted_at is not None

    def __repr__(self) -> str:
        return f"<Merchant {self.code}>"


class MerchantCharge(Model):
    """What a merchant owes for one ticket's refund (one row per ticket).

    pending: the ticket went to finance as the merchant's liability (merchant_refund,
    merchant_timeout, or approve marked "merchant liable"); charged: the refund was paid and the
    deduction written (same transaction as the payout's success); reversed: finance returned the
    ticket to review before payment (nothing was taken). A later approval reuses the row.
    """

    __tablename__ = "merchant_charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    amount_cents: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    cause: Mapped[str] = mapped_column(String(30))  # the event that made the merchant liable
    reason: Mapped[str | None] = mapped_column(Text)  # why it was reversed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    charged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MerchantLedgerEntry(Model):
    """One movement of a merchant's deposit: a top-up (+) or a deduction for a paid refund (−).

    `ticket_id` is set on deductions only and is unique: a ticket's refund is charged once.
    """

    __tablename__ = "merchant_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int]  # signed
    balance_after_cents: Mapped[int]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_merchant_ledger_kind_created", "kind", "created_at"),)


class MerchantAction(Model):
    """Audit of a manager's suspend / blacklist (and lifting them), with the reason."""

    __tablename__ = "merchant_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- outgoing webhooks (app/merchants/webhooks.py) ---


class Webhook(Model):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)  # None: all tickets
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Model):
    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the delivery id receivers dedupe on
    seq: Mapped[int] = mapped_column(index=True)  # creation order (per ticket order of sending)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|sending|delivered|failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_webhook_deliveries_webhook_ticket", "webhook_id", "ticket_id", "seq"),)


class WebhookHost(Model):
    """A host an admin allowed although it resolves to a private-range address."""

    __tablename__ = "webhook_hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255), unique=True)
    allowed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
