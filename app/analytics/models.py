"""Pre-aggregated complaint facts, rebuilt by the `analytics_rollup` periodic job (app/analytics/jobs.py).

`complaint_daily` holds one row per (local day of filing, dimension, value) — a few hundred rows a
day whatever the ticket volume — so every chart on the analytics page reads at most a few thousand
rows, never the tickets table. `complainant_flags` holds the customers the abuse rules flag;
`analytics_snapshots` the figures too costly to compute per page view.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.types import UTCDateTime, utcnow

# The dimensions a day is broken down by; "all" has the single value "".
DIMENSIONS = ("all", "kind", "merchant", "product_type", "product", "channel", "agent")


class ComplaintDaily(Model):
    __tablename__ = "complaint_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the filing day in the display time zone
    dim: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    opened: Mapped[int] = mapped_column(default=0)  # tickets filed that day
    rejected: Mapped[int] = mapped_column(default=0)  # of those, now rejected
    paid: Mapped[int] = mapped_column(default=0)  # of those, now paid
    refund_cents: Mapped[int] = mapped_column(BigInteger, default=0)  # approved amount of the paid ones
    breached: Mapped[int] = mapped_column(default=0)  # of those, with at least one breached SLA target
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_complaint_daily_dim_day", "dim", "day"),)


class ComplainantFlag(Model):
    __tablename__ = "complainant_flags"

    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tickets: Mapped[int] = mapped_column(default=0, index=True)  # filed in the window
    refunds: Mapped[int] = mapped_column(default=0)  # paid in the window
    rejected: Mapped[int] = mapped_column(default=0)
    reasons: Mapped[list] = mapped_column(JSON, default=list)  # rule codes, see services.FLAG_RULES
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnalyticsSnapshot(Model):
    """A figure computed by the roll-up (e.g. the median time to money), read by the page."""

    __tablename__ = "analytics_snapshots"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
