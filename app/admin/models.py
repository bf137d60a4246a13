"""The audit trail of administrative actions (who did what to whom, when)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.extensions import Model
from app.types import UTCDateTime, utcnow


class AdminAction(Model):
    """One row per admin action, written in the same transaction as the change itself.

    `target_type`/`target_id` name what was changed ("user" 12, "token" 7); `detail` holds the
    facts worth keeping (old and new role, a token's label) — never a password or a token."""

    __tablename__ = "admin_actions"
    __table_args__ = (Index("ix_admin_actions_at_id", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int | None] = mapped_column()
    target_label: Mapped[str] = mapped_column(String(254), default="")  # e.g. the user's e-mail at the time
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
