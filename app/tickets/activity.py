"""Who moved last on a ticket: the queue's markers ("customer replied", "new evidence", "appealed",
"urged"), kept in step with the messages and the audit trail in the same transaction.

One row per ticket that ever had customer or staff activity. Every ORM flush that inserts a
public `Message` or a `TicketEvent` updates it (`after_flush`, like app/tickets/counters.py), so a
rollback undoes both:

- the ticket's customer writes a public message → `customer_waiting_since` (kept if already
  set) and `waiting_for` = "message";
- the customer adds evidence (`evidence_added`, `provide_evidence`) → the same, "evidence";
- the customer appeals or reopens → `appealed_at`; urges (催办, the `urge` entry) → `urged_at`;
- a staff member who works tickets (permission `assignable`: agents, managers) writes a public
  message or an internal note, or fires any event on the ticket (not mere bookkeeping: assigning,
  tagging, a duplicate merged in) → all four are cleared: the desk has acted since.

The markers are what the customer did since staff last acted. They are read by the queue in its
list query (a LEFT JOIN of this table, `Ticket.activity`), and the saved views filter on them
through the partial indexes below: each one holds only the tickets that currently carry the
marker, so a count is bounded by the tickets waiting, never by all tickets.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.auth.models import User
from app.auth.permissions import role_can
from app.extensions import Model
from app.tickets.models import Message
from app.types import UTCDateTime, utcnow
from app.workflow.models import TicketEvent

CUSTOMER_EVIDENCE_EVENTS = frozenset({"evidence_added", "provide_evidence"})
CUSTOMER_APPEAL_EVENTS = frozenset({"appeal", "reopen"})
NOT_ACTING = frozenset({"assigned", "tag_added", "merged_from"})  # bookkeeping: not an answer to the customer


class TicketActivity(Model):
    __tablename__ = "ticket_activity"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    customer_waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waiting_for: Mapped[str | None] = mapped_column(String(10))  # "message" or "evidence" (the latest)
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    urged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    staff_acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(
            "ix_ticket_activity_waiting",
            "customer_waiting_since",
            postgresql_where=text("customer_waiting_since IS NOT NULL"),
            sqlite_where=text("customer_waiting_since IS NOT NULL"),
        ),
        Index(
            "ix_ticket_activity_appealed",
            "appealed_at",
            postgresql_where=text("appealed_at IS NOT NULL"),
            sqlite_where=text("appealed_at IS NOT NULL"),
        ),
        Index(
            "ix_ticket_activity_urged",
            "urged_at",
            postgresql_where=text("urged_at IS NOT NULL"),
            sqlite_where=text("urged_at IS NOT NULL"),
        ),
    )

    @property
    def replied(self) -> bool:
        return self.customer_waiting_since is not None and self.waiting_for == "message"

    @property
    def new_evidence(self) -> bool:
        return self.customer_waiting_since is not None and self.waiting_for == "evidence"

    @property
    def appealed(self) -> bool:
        return self.appealed_at is not None

    @property
    def urged(self) -> bool:
        return self.urged_at is not None


MARKERS = ("replied", "appealed", "urged")  # the saved views' marker filters (replied = message or evidence)


def marker_filter(marker: str):
    """The SQL condition of a marker filter on TicketActivity (served by its partial index)."""
    a = TicketActivity
    return {
        "replied": a.customer_waiting_since.is_not(None),
        "appealed": a.appealed_at.is_not(None),
        "urged": a.urged_at.is_not(None),
    }[marker]


def _role_of_author(session: Session, conn, author_id: int | None) -> str | None:
    if author_id is None:
        return None
    user = session.identity_map.get((User, (author_id,), None))
    if user is not None:
        return user.role
    return conn.execute(select(User.role).where(User.id == author_id)).scalar()


def _changes(session: Session, conn) -> dict[int, dict]:
    """ticket id → the columns to set, from this flush's new messages and audit entries."""
    out: dict[int, dict] = {}
    for obj in session.new:
        if isinstance(obj, Message):
            role, at, ticket_id = _role_of_author(session, conn, obj.author_id), obj.created_at, obj.ticket_id
            if role is None:
                continue
            if role_can(role, "own_tickets") and not obj.internal:
                out.setdefault(ticket_id, {}).update(waiting=at or utcnow(), waiting_for="message")
            elif role_can(role, "assignable"):
                out[ticket_id] = {"staff": at or utcnow()}
        elif isinstance(obj, TicketEvent):
            role, at, ticket_id = obj.actor_role, obj.created_at or utcnow(), obj.ticket_id
            if role_can(role, "own_tickets"):
                change = out.setdefault(ticket_id, {})
                if obj.event in CUSTOMER_EVIDENCE_EVENTS and not (obj.payload or {}).get("staff"):
                    change.update(waiting=at, waiting_for="evidence")
                elif obj.event in CUSTOMER_APPEAL_EVENTS:
                    change["appealed"] = at
                elif obj.event == "urge":
                    change["urged"] = at
            elif role_can(role, "assignable") and obj.event not in NOT_ACTING:
                out[ticket_id] = {"staff": at}
    return out


def _upsert(dialect_name: str, staff: bool):
    table = TicketActivity.__table__
    mod = postgresql if dialect_name == "postgresql" else sqlite
    stmt = mod.insert(table)
    ex, c = stmt.excluded, table.c
    if staff:
        set_ = {
            "staff_acted_at": ex.staff_acted_at,
            "customer_waiting_since": None,
            "waiting_for": None,
            "appealed_at": None,
            "urged_at": None,
        }
    else:
        from sqlalchemy import func

        set_ = {
            "customer_waiting_since": func.coalesce(c.customer_waiting_since, ex.customer_waiting_since),
            "waiting_for": func.coalesce(ex.waiting_for, c.waiting_for),
            "appealed_at": func.coalesce(ex.appealed_at, c.appealed_at),
            "urged_at": func.coalesce(ex.urged_at, c.urged_at),
        }
    return stmt.on_conflict_do_update(index_elements=[c.ticket_id], set_=set_)


@event.listens_for(Session, "after_flush")
def _track_activity(session: Session, _flush_context) -> None:
    if not any(isinstance(o, Message | TicketEvent) for o in session.new):
        return
    conn = session.connection()
    for ticket_id, change in sorted(_changes(session, conn).items()):
        if not change:
            continue
        staff = "staff" in change
        row = {
            "ticket_id": ticket_id,
            "staff_acted_at": change.get("staff"),
            "customer_waiting_since": change.get("waiting"),
            "waiting_for": change.get("waiting_for"),
            "appealed_at": change.get("appealed"),
            "urged_at": change.get("urged"),
        }
        conn.execute(_upsert(conn.dialect.name, staff), row)
