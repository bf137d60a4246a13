"""SLA records (one row per ticket, metric and run of its clock) and admin calendar dates.

A record is *open* while `met_at` and `stopped_at` are both NULL. While open and running it
carries `warn_at`/`due_at`; while paused (ticket waiting on the customer) both are NULL and
`elapsed_us` holds the business time already used. The sweep finds what crossed a threshold
through two partial indexes (open, not yet marked, ordered by the threshold time), so its cost
follows the number of records crossing, not the number of open tickets.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.tickets.models import Ticket
from app.types import UTCDateTime, utcnow

# Desk metrics (the desk's promises) and the customer's evidence window.
DESK_METRICS = ("first_response", "review_decision", "payout")
EVIDENCE_WINDOW = "evidence_window"
# The merchant's answer deadline (app/merchants): swept like the others, but its breach fires
# merchant_timeout and its warning goes to the merchant.
MERCHANT_RESPONSE = "merchant_response"
METRICS = DESK_METRICS + (MERCHANT_RESPONSE, EVIDENCE_WINDOW)

_OPEN = "met_at IS NULL AND stopped_at IS NULL"


class SlaRecord(Model):
    __tablename__ = "sla_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    metric: Mapped[str] = mapped_column(String(30))
    target_us: Mapped[int] = mapped_column(BigInteger)  # business µs (desk) or calendar µs (evidence)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    elapsed_us: Mapped[int] = mapped_column(BigInteger, default=0)  # business time used before the last pause
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # ended without being met
    ended_by: Mapped[str | None] = mapped_column(String(30))  # the event that ended it

    ticket: Mapped[Ticket] = relationship()

    __table_args__ = (
        Index(
            "ix_sla_records_warn_pending",
            "warn_at",
            postgresql_where=text(f"warned_at IS NULL AND {_OPEN}"),
            sqlite_where=text(f"warned_at IS NULL AND {_OPEN}"),
        ),
        Index(
            "ix_sla_records_due_pending",
            "due_at",
            postgresql_where=text(f"breached_at IS NULL AND {_OPEN}"),
            sqlite_where=text(f"breached_at IS NULL AND {_OPEN}"),
        ),
        Index("ix_sla_records_metric_started", "metric", "started_at"),
    )

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.stopped_at is None

    @property
    def breached(self) -> bool:
        return self.breached_at is not None

    def __repr__(self) -> str:
        return f"<SlaRecord {self.ticket_id} {self.metric} due={self.due_at}>"


class BusinessDate(Model):
    """A date an admin declared a holiday or a working day (overrides the holiday packages)."""

    __tablename__ = "business_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # holiday | workday
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The agent queue's order (most overdue first, then nearest deadline, then the rest oldest
# first) as one index on the tickets table, so its first page is an index scan.
Index("ix_tickets_sla_queue", Ticket.sla_due_at, Ticket.created_at, Ticket.id)
# The same order within one state (the queue's state chips, "next ticket" in a view): a range scan
# that stops at the state's last ticket, also where no ticket of the state lacks a deadline (the
# order's NULL part would otherwise be read through every closed ticket).
Index("ix_tickets_state_sla_queue", Ticket.state, Ticket.sla_due_at, Ticket.created_at, Ticket.id)
# … and within one merchant (the queue's merchant filter and merchant views, a merchant user's desk,
# staff search for a merchant's code or name): tickets.merchant_id, migration 0020.
Index("ix_tickets_merchant_queue", Ticket.merchant_id, Ticket.sla_due_at, Ticket.created_at, Ticket.id)
