"""Manager dashboard numbers: breaches now, breach rate and time per stage/kind/agent/merchant,
a per-day trend, the breach list as CSV. Read-only; plain values in."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.auth.permissions import can
from app.errors import Forbidden, Invalid
from app.extensions import db
from app.i18n import to_display_tz
from app.inputs import parse_day
from app.sla.clock import get_calendar, metric_label
from app.sla.models import DESK_METRICS, SlaRecord
from app.tickets.labels import KIND_LABELS
from app.tickets.models import Merchant, Order, Ticket

MAX_DAYS = 366
DIMENSIONS = (("stage", _l("Stage")), ("kind", _l("Kind")), ("agent", _l("Agent")), ("merchant", _l("Merchant")))


def require_manager(user) -> None:
    if not can(user, "sla_dashboard"):
        raise Forbidden(str(_l("Managers only.")))


def parse_range(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """Inclusive local dates; default the last 30 days."""
    try:
        end_d = parse_day(end) or today
        start_d = parse_day(start) or end_d - timedelta(days=29)
    except ValueError:
        raise Invalid(str(_l("Dates are YYYY-MM-DD.")), fields={"start": ["YYYY-MM-DD"], "end": ["YYYY-MM-DD"]})
    if start_d > end_d or (end_d - start_d).days >= MAX_DAYS:
        raise Invalid(str(_l("Choose a range of 1 to %(n)s days.", n=MAX_DAYS)), fields={"start": ["range"]})
    return start_d, end_d


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = get_calendar().tz
    return (datetime.combine(start, time(0), tz), datetime.combine(end + timedelta(days=1), time(0), tz))


@dataclass
class BreachRow:
    ticket: Ticket
    metric_label: str
    overdue_hours: float  # business hours past the deadline


def breached_now(now: datetime, limit: int | None = 200) -> list[BreachRow]:
    """Tickets whose current deadline has passed, longest overdue first (index range scan)."""
    q = (
        select(Ticket)
        .where(Ticket.sla_due_at <= now)
        .order_by(Ticket.sla_due_at, Ticket.id)
        .options(selectinload(Ticket.order).selectinload(Order.merchant), selectinload(Ticket.assignee))
    )
    if limit:
        q = q.limit(limit)
    cal = get_calendar()
    return [
        BreachRow(
            t, metric_label(t.sla_metric), round(cal.business_time_between(t.sla_due_at, now).total_seconds() / 3600, 2)
        )
        for t in db.session.scalars(q)
        if t.sla_due_at is not None  # (always: the query asks for sla_due_at <= now)
    ]


def _csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def breaches_csv(now: datetime) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        ["ref", "metric", "due_at", "overdue_business_hours", "state", "kind", "assignee", "merchant", "priority"]
    )
    for r in breached_now(now, limit=None):
        t = r.ticket
        w.writerow(
            [
                _csv_safe(v)
                for v in (
                    t.ref,
                    t.sla_metric,
                    to_display_tz(t.sla_due_at).strftime("%Y-%m-%d %H:%M") if t.sla_due_at else "",
                    f"{r.overdue_hours:.2f}",
                    t.state,
                    t.kind,
                    t.assignee.email if t.assignee else "",
                    t.order.merchant.code,
                    t.priority,
                )
            ]
        )
    return out.getvalue()


@dataclass
class Group:
    label: str
    total: int = 0
    breached: int = 0
    hours: list[float] = field(default_factory=list)  # business hours of finished stages

    @property
    def rate(self) -> float:
        return self.breached / self.total if self.total else 0.0

    def pct(self, q: float) -> float | None:
        if not self.hours:
            return None
        s = sorted(self.hours)
        return round(s[max(0, math.ceil(q * len(s)) - 1)], 2)

    @property
    def median(self):
        return self.pct(0.5)

    @property
    def p90(self):
        return self.pct(0.9)


def _rows(start: date, end: date):
    lo, hi = _utc_bounds(start, end)
    return db.session.execute(
        select(
            SlaRecord.metric,
            SlaRecord.elapsed_us,
            SlaRecord.started_at,
            SlaRecord.due_at,
            SlaRecord.breached_at,
            SlaRecord.met_at,
            SlaRecord.stopped_at,
            Ticket.kind,
            Ticket.assignee_id,
            Order.merchant_id,
        )
        .join(Ticket, Ticket.id == SlaRecord.ticket_id)
        .join(Order, Order.id == Ticket.order_id)
        .where(SlaRecord.started_at >= lo, SlaRecord.started_at < hi, SlaRecord.metric.in_(DESK_METRICS))
    ).all()


def _breached(r, now: datetime) -> datetime | None:
    """When the record breached — stored, or computed from its deadline (never needs the sweep)."""
    if r.breached_at is not None:
        return r.breached_at
    if r.met_at is None and r.stopped_at is None and r.due_at is not None and r.due_at <= now:
        return r.due_at
    return None


def stats(start: date, end: date, now: datetime) -> dict:
    """{"groups": {dimension: [Group]}, "trend": [(day, started, breached)], "totals": Group}."""
    rows = _rows(start, end)
    users = {
        u.id: u.display_name
        for u in db.session.scalars(select(User).where(User.id.in_({r.assignee_id for r in rows if r.assignee_id})))
    }
    merchants = {
        m.id: m.code for m in db.session.scalars(select(Merchant).where(Merchant.id.in_({r.merchant_id for r in rows})))
    }
    unassigned = str(_l("Unassigned"))
    keys = {
        "stage": lambda r: (r.metric, metric_label(r.metric)),
        "kind": lambda r: (r.kind, str(KIND_LABELS.get(r.kind, r.kind))),
        "agent": lambda r: (r.assignee_id or 0, users.get(r.assignee_id, unassigned)),
        "merchant": lambda r: (r.merchant_id, merchants.get(r.merchant_id, "?")),
    }
    groups: dict[str, dict] = {dim: {} for dim in keys}
    total = Group(str(_l("All")))
    per_day: defaultdict[date, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        breached_at = _breached(r, now)
        finished = r.met_at is not None or r.stopped_at is not None
        hours = r.elapsed_us / 3.6e9 if finished else None
        for dim, key in keys.items():
            k, label = key(r)
            g = groups[dim].setdefault(k, Group(label))
            _add(g, breached_at, hours)
        _add(total, breached_at, hours)
        per_day[to_display_tz(r.started_at).date()][0] += 1
        if breached_at is not None:
            per_day[to_display_tz(breached_at).date()][1] += 1
    trend, d = [], start
    while d <= end:
        trend.append((d, *per_day.get(d, (0, 0))))
        d += timedelta(days=1)
    return {
        "groups": {dim: sorted(g.values(), key=lambda g: (-g.rate, -g.total, g.label)) for dim, g in groups.items()},
        "trend": trend,
        "totals": total,
    }


def _add(g: Group, breached_at, hours) -> None:
    g.total += 1
    g.breached += breached_at is not None
    if hours is not None:
        g.hours.append(hours)


def trend_chart(trend: list[tuple[date, int, int]], width: int = 720, height: int = 180) -> dict:
    """Coordinates for a server-rendered SVG: grey bars = stages started, red = breaches."""
    n = max(1, len(trend))
    top = max([1] + [max(s, b) for _, s, b in trend])
    slot = width / n
    bar = max(1.0, slot * 0.8)
    bars: list[dict[str, Any]] = []
    for i, (day, started, breached) in enumerate(trend):
        x = round(i * slot + (slot - bar) / 2, 1)
        hs, hb = round(started / top * (height - 20), 1), round(breached / top * (height - 20), 1)
        bars.append(
            {
                "day": day.isoformat(),
                "x": x,
                "w": round(bar, 1),
                "started": started,
                "breached": breached,
                "ys": round(height - hs, 1),
                "hs": hs,
                "yb": round(height - hb, 1),
                "hb": hb,
            }
        )
    step = max(1, n // 8)
    ticks = [{"x": b["x"], "label": b["day"][5:]} for b in bars[::step]]
    return {"width": width, "height": height, "bars": bars, "top": top, "ticks": ticks}
