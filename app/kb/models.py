"""Knowledge-base page versions: every save is a new row; a page is its highest-numbered version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.extensions import Model
from app.types import UTCDateTime, utcnow


class KbVersion(Model):
    __tablename__ = "kb_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # a ticket kind (app/tickets/models.KINDS)
    lang: Mapped[str] = mapped_column(String(5))  # "zh" or "en"
    number: Mapped[int]  # 1, 2, …: unique per page, so two saves at once cannot both become current
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # Markdown, rendered safely on read (app/kb/render.py)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the built-in text
    restored_from: Mapped[int | None]  # the version number this one restores
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("kind", "lang", "number", name="uq_kb_versions_kind_lang_number"),)
