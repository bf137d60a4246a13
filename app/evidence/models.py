"""Evidence files and the items an agent asked for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.extensions import Model
from app.types import UTCDateTime, utcnow

OCR_STATUSES = ("pending", "done", "unavailable", "failed", "skipped")


class EvidenceRequestItem(Model):
    """One item an agent asked for in a `request_evidence` round.

    `code` is a checklist code (label from the checklist, translated when shown) or a
    "free-…" code for free text (then `label` holds the agent's words).
    """

    __tablename__ = "evidence_request_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(500))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    satisfied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_evidence_request_items_ticket_round", "ticket_id", "round"),)


class Evidence(Model):
    """One uploaded file. The bytes live in storage under `storage_key` (content-addressed);
    `filename` is the sanitized original name, kept as data only."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploader_role: Mapped[str] = mapped_column(String(20))
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    request_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_request_items.id", ondelete="SET NULL"), index=True
    )
    item_code: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # image | pdf | text | video
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(80))
    safe_key: Mapped[str | None] = mapped_column(String(80))  # metadata-free copy (images)
    safe_mime: Mapped[str | None] = mapped_column(String(100))
    thumb_key: Mapped[str | None] = mapped_column(String(80))  # WebP thumbnail (images)
    ocr_status: Mapped[str] = mapped_column(String(20), default="pending")
    ocr_text: Mapped[str | None] = mapped_column(Text)
    facts: Mapped[dict | None] = mapped_column(JSON)
    match: Mapped[dict | None] = mapped_column(JSON)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploader: Mapped[User | None] = relationship()
    request_item: Mapped[EvidenceRequestItem | None] = relationship()

    def __repr__(self) -> str:
        return f"<Evidence {self.id} {self.mime} {self.sha256[:8]}>"
