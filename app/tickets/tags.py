"""Tags on tickets: short labels staff add (one at a time or in bulk), each an audited entry.

A tag is lower-cased text of 1–40 characters without spaces at either end. Adding a tag a ticket
already has changes nothing and is reported as such. Tags are staff-only: the audit entry
(`tag_added`) carries `staff: true`, so customers and the public link never see it
(app/tickets/visibility.py).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.auth.models import User
from app.auth.permissions import can
from app.errors import Conflict, Forbidden, Invalid
from app.extensions import Model, db
from app.tickets.models import Ticket
from app.types import UTCDateTime, utcnow

MAX_TAG = 40


class TicketTag(Model):
    __tablename__ = "ticket_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(MAX_TAG), index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("ticket_id", "tag", name="uq_ticket_tags_ticket_id_tag"),)


def clean_tag(raw: str | None) -> str:
    tag = " ".join((raw or "").split()).lower()
    if not tag or len(tag) > MAX_TAG:
        raise Invalid(str(_l("A tag is 1 to %(n)s characters.", n=MAX_TAG)), fields={"tag": ["1..40"]})
    return tag


def add_tag(ticket: Ticket, tag: str, actor: User) -> bool:
    """Tag `ticket` (one transaction with its audit entry). False when it had the tag already."""
    from app.workflow.events import record_entry

    if not can(actor, "tag_tickets"):
        raise Forbidden(str(_l("Your role may not tag tickets.")))
    tag = clean_tag(tag)
    if db.session.scalar(select(TicketTag.id).where(TicketTag.ticket_id == ticket.id, TicketTag.tag == tag)):
        return False
    now = utcnow()
    try:
        db.session.add(TicketTag(ticket_id=ticket.id, tag=tag, added_by_id=actor.id, created_at=now))
        db.session.flush()
        record_entry(
            ticket,
            "tag_added",
            actor_id=actor.id,
            actor_role=actor.role,
            payload={"tag": tag, "staff": True},
            at=now,
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(str(_l("Someone else changed this ticket first. Reload and try again.")))
    return True


def tags_of(ticket_ids: list[int]) -> dict[int, list[str]]:
    """ticket id → its tags, alphabetically (one query)."""
    out: dict[int, list[str]] = {i: [] for i in ticket_ids}
    if ticket_ids:
        q = (
            select(TicketTag.ticket_id, TicketTag.tag)
            .where(TicketTag.ticket_id.in_(ticket_ids))
            .order_by(TicketTag.tag)
        )
        for ticket_id, tag in db.session.execute(q):
            out[ticket_id].append(tag)
    return out
