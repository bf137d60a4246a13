"""What the finance desk reads: the queue (filtered, with totals), payouts per day and channel,
failures, CSV export (headers in the reader's language).

Days are calendar days in TZ_DISPLAY (Asia/Shanghai), computed in Python so that the same
code runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.payouts.models import Payout
from app.tickets.models import Order, Ticket
from app.workflow.models import TicketEvent


@dataclass
class QueueRow:
    ticket: Ticket
    payout: Payout | None
    decided_by: TicketEvent | None  # the approve (or fast_track) that sent it to finance


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TZ_DISPLAY"])


def local_day(dt: datetime) -> date:
    return dt.astimezone(_tz()).date()


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """UTC [from, to) covering the local days start..end inclusive."""
    tz = _tz()
    lo = datetime.combine(start, time.min, tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC)
    return lo, hi


@dataclass(frozen=True)
class QueueFilter:
    """The desk's filters: the order's channel, the approved amount (cents, inclusive) and how long
    the ticket has waited for finance (at least `min_age_days` days)."""

    channel: str | None = None
    min_cents: int | None = None
    max_cents: int | None = None
    min_age_days: int | None = None

    def where(self, now: datetime) -> list:
        where = [Ticket.state == "finance"]
        if self.channel:
            where.append(Ticket.order_id.in_(select(Order.id).where(Order.payment_channel == self.channel)))
        if self.min_cents is not None:
            where.append(Ticket.approved_amount_cents >= self.min_cents)
        if self.max_cents is not None:
            where.append(Ticket.approved_amount_cents <= self.max_cents)
        if self.min_age_days:
            where.append(Ticket.state_changed_at <= now - timedelta(days=self.min_age_days))
        return where


@dataclass
class QueueTotals:
    count: int
    amount_cents: int
    shown: int  # rows on the page (at most the limit)


def queue_totals(filters: QueueFilter, now: datetime, shown: int) -> QueueTotals:
    """How many tickets match and their approved amount (over all of them, not just the page)."""
    n, cents = db.session.execute(
        select(func.count(Ticket.id), func.coalesce(func.sum(Ticket.approved_amount_cents), 0)).where(
            *filters.where(now)
        )
    ).one()
    return QueueTotals(int(n or 0), int(cents or 0), shown)


def queue_rows(filters: QueueFilter | None = None, now: datetime | None = None, limit: int = 300) -> list[QueueRow]:
    """Tickets waiting for finance, oldest first, with their payout and who approved them."""
    from app.types import utcnow

    filters = filters or QueueFilter()
    tickets = list(
        db.session.scalars(
            select(Ticket)
            .where(*filters.where(now or utcnow()))
            .options(selectinload(Ticket.order).selectinload(Order.merchant))
            .order_by(Ticket.state_changed_at, Ticket.id)
            .limit(limit)
        )
    )
    ids = [t.id for t in tickets]
    payouts = (
        {p.ticket_id: p for p in db.session.scalars(select(Payout).where(Payout.ticket_id.in_(ids)))} if ids else {}
    )
    decided: dict[int, TicketEvent] = {}
    if ids:
        for ev in db.session.scalars(
            select(TicketEvent)
            .options(selectinload(TicketEvent.actor))
            .where(TicketEvent.ticket_id.in_(ids), TicketEvent.event.in_(("approve", "fast_track")))
            .order_by(TicketEvent.ticket_id, TicketEvent.seq)
        ):
            decided[ev.ticket_id] = ev  # the latest decision wins
    return [QueueRow(t, payouts.get(t.id), decided.get(t.id)) for t in tickets]


def declined_by_ticket(ticket_ids: list[int]) -> dict[int, set[str]]:
    """The declined channels of each ticket (one query for the desk)."""
    from app.payouts.models import PayoutDecline

    found: dict[int, set[str]] = defaultdict(set)
    if ticket_ids:
        for ticket_id, channel in db.session.execute(
            select(PayoutDecline.ticket_id, PayoutDecline.channel).where(
                PayoutDecline.ticket_id.in_(ticket_ids), PayoutDecline.cleared_at.is_(None)
            )
        ):
            found[ticket_id].add(channel)
    return dict(found)


def day_channel_totals(start: date, end: date) -> list[dict]:
    """Succeeded payouts per local day and channel: count and amount, newest day first."""
    lo, hi = day_bounds(start, end)
    totals: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for at, channel, cents in db.session.execute(
        select(Payout.succeeded_at, Payout.channel, Payout.amount_cents).where(
            Payout.status == "succeeded", Payout.succeeded_at >= lo, Payout.succeeded_at < hi
        )
    ):
        if at is None:  # a succeeded payout always has its time; keeps the type checker honest
            continue
        row = totals[(local_day(at), channel)]
        row[0] += 1
        row[1] += cents
    return [
        {"day": day, "channel": channel, "count": n, "amount_cents": cents}
        for (day, channel), (n, cents) in sorted(totals.items(), key=lambda kv: (-kv[0][0].toordinal(), kv[0][1]))
    ]


def failures(limit: int = 200) -> list[Payout]:
    """Failed payouts, and pending ones that are retrying after an error, newest first."""
    return list(
        db.session.scalars(
            select(Payout)
            .options(selectinload(Payout.ticket))
            .where((Payout.status == "failed") | ((Payout.status == "pending") & Payout.last_error.is_not(None)))
            .order_by(Payout.updated_at.desc())
            .limit(limit)
        )
    )


# The export's columns, headed in the reader's language (the columns' order never changes).
CSV_COLUMNS = (
    ("payout_id", _l("Payout no.")),
    ("ticket_ref", _l("Ticket")),
    ("order_no", _l("Order no.")),
    ("channel", _l("Channel")),
    ("amount", _l("Amount (yuan)")),
    ("amount_cents", _l("Amount (fen)")),
    ("status", _l("Status")),
    ("reference", _l("Gateway reference")),
    ("manual", _l("Paid by hand")),
    ("attempts", _l("Attempts")),
    ("created_at", _l("Created (Beijing time)")),
    ("succeeded_at", _l("Paid (Beijing time)")),
    ("decline", _l("Decline reason")),
    ("last_error", _l("Gateway message")),
)


def csv_header() -> list[str]:
    return [str(label) for _key, label in CSV_COLUMNS]


def csv_cell(value) -> str:
    """Text for a CSV cell; formula-looking text is quoted so spreadsheets do not run it."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(start: date, end: date) -> str:
    """Payouts created in the local days start..end, one row each (UTF-8 with BOM for Excel)."""
    lo, hi = day_bounds(start, end)
    tz = _tz()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_header())
    rows = db.session.scalars(
        select(Payout)
        .options(selectinload(Payout.ticket).selectinload(Ticket.order))
        .where(Payout.created_at >= lo, Payout.created_at < hi)
        .order_by(Payout.created_at, Payout.id)
    )
    from app.payouts.labels import decline_label, status_label
    from app.tickets.labels import CHANNEL_LABELS

    for p in rows:
        local = lambda dt: dt.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if dt else ""  # noqa: E731
        writer.writerow(
            [
                csv_cell(v)
                for v in (
                    p.id,
                    p.ticket.ref,
                    p.ticket.order.order_no,
                    str(CHANNEL_LABELS.get(p.channel, p.channel)),
                    f"{p.amount_cents / 100:.2f}",
                    p.amount_cents,
                    status_label(p.status),
                    p.gateway_reference,
                    _("yes") if p.manual else _("no"),
                    p.attempts,
                    local(p.created_at),
                    local(p.succeeded_at),
                    decline_label(p.decline_code) if p.decline_code else "",
                    p.last_error,
                )
            ]
        )
    return out.getvalue()
