"""What the finance desk reads: the queue, payouts per day and channel, failures, CSV export.

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
from sqlalchemy import select
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


def queue_rows(limit: int = 300) -> list[QueueRow]:
    """Tickets waiting for finance, oldest first, with their payout and who approved them."""
    tickets = list(
        db.session.scalars(
            select(Ticket)
            .where(Ticket.state == "finance")
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


CSV_HEADER = (
    "payout_id",
    "ticket_ref",
    "order_no",
    "channel",
    "amount",
    "amount_cents",
    "status",
    "reference",
    "manual",
    "attempts",
    "created_at",
    "succeeded_at",
    "last_error",
)


def _cell(value) -> str:
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
    writer.writerow(CSV_HEADER)
    rows = db.session.scalars(
        select(Payout)
        .options(selectinload(Payout.ticket).selectinload(Ticket.order))
        .where(Payout.created_at >= lo, Payout.created_at < hi)
        .order_by(Payout.created_at, Payout.id)
    )
    for p in rows:
        local = lambda dt: dt.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if dt else ""  # noqa: E731
        writer.writerow(
            [
                _cell(v)
                for v in (
                    p.id,
                    p.ticket.ref,
                    p.ticket.order.order_no,
                    p.channel,
                    f"{p.amount_cents / 100:.2f}",
                    p.amount_cents,
                    p.status,
                    p.gateway_reference,
                    "yes" if p.manual else "no",
                    p.attempts,
                    local(p.created_at),
                    local(p.succeeded_at),
                    p.last_error,
                )
            ]
        )
    return out.getvalue()
