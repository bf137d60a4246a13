"""Notifications: one row per (cause, recipient), its deliveries per channel, and preferences.

A notification stores a message *key* and its parameters, never rendered text: it is rendered
in the reader's language when shown (in-app) or sent (e-mail, SMS, push).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.types import UTCDateTime, utcnow


class Notification(Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # What caused it, e.g. "ev:12:7" (ticket 12's audit event 7): one notice per cause and recipient.
    cause: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))  # a key of app/notifications/table.py KINDS
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    urgent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="notification", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("cause", "user_id", name="uq_notifications_cause_user"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )


class Delivery(Model):
    """A notification sent on one outside channel (email, sms, push), at most once."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # non-urgent: held to business hours
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set when claimed; cleared on failure
    attempts: Mapped[int] = mapped_column(default=0)
    reference: Mapped[str | None] = mapped_column(String(120))  # the adapter's message id
    last_error: Mapped[str | None] = mapped_column(Text)

    notification: Mapped[Notification] = relationship(back_populates="deliveries")

    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="uq_notification_deliveries_channel"),
        Index("ix_notification_deliveries_due", "sent_at", "due_at"),
    )


class ChannelOptOut(Model):
    """A user does not want notices of `kind` on `channel` (settings page or unsubscribe link)."""

    __tablename__ = "notification_optouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "kind", "channel", name="uq_notification_optouts"),)


class ContactPoint(Model):
    """Where SMS and app push reach a user (the phone number; push goes to the user's app installs)."""

    __tablename__ = "notification_contacts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    push_enabled: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
