"""Complaint analytics: the roll-up job's SQL and the page's reads.

Every read here touches the small roll-up tables or an index range (open tickets by state,
breached deadlines by `sla_due_at`, payouts by `succeeded_at`), never a scan of all tickets:
`bench/analytics_bench.py` measures them at 1,000,000 tickets.

Freshness: the roll-up rebuilds the last `RECENT_DAYS` (35) filing days every
`analytics_rollup` run (every 15 minutes, see app/jobs.py) and the whole history once a night, so
breakdowns, trends, spikes, flags, the breach rate and the median time to money are at most one
run old; the other KPI tiles are live.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
)

from app.analytics.models import DIMENSIONS, AnalyticsSnapshot, ComplainantFlag, ComplaintDaily
from app.auth.models import User
from app.extensions import db
from app.payouts.models import Payout
from app.sla.models import SlaRecord
from app.tickets.counters import TicketStateCount
from app.tickets.models import Merchant, Order, Ticket
from app.types import utcnow
from app.workflow.machine import OPEN_STATES

RECENT_DAYS = 35  # filing days the 15-minute roll-up rebuilds: older tickets rarely change state
HISTORY_DAYS = 400

# Spike rule (stated on the page): this week's complaints against a merchant or a product are at
# least SPIKE_MIN and at least SPIKE_RATIO times its weekly average over the SPIKE_BASELINE_WEEKS
# weeks before (an average below 1 counts as 1).
SPIKE_MIN, SPIKE_RATIO, SPIKE_BASELINE_WEEKS = 5, 3.0, 8

# Complainant rules over the last FLAG_WINDOW_DAYS days.
FLAG_WINDOW_DAYS = 30
FLAG_RULES = {
    "many_tickets": (_l("%(n)s or more requests in %(days)s days"), 5),
    "many_refunds": (_l("%(n)s or more refunds paid in %(days)s days"), 3),
    "mostly_rejected": (_l("at least half of %(n)s or more requests rejected"), 4),
}


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TZ_DISPLAY"])


def local_today(now: datetime) -> date:
    return now.astimezone(_tz()).date()


def _local_day(col, now: datetime):
    """The column's day in the display time zone, computed by the database."""
    if db.engine.dialect.name == "postgresql":
        return cast(func.timezone(current_app.config["TZ_DISPLAY"], col), Date)
    offset = now.astimezone(_tz()).utcoffset() or timedelta(0)
    return func.date(col, f"{int(offset.total_seconds())} seconds")


def _day_start_utc(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), _tz()).astimezone(ZoneInfo("UTC"))


# ---------------------------------------------------------------- roll-up (the job)


_FACTS = Table(
    "analytics_rollup_facts",
    MetaData(),
    Column("day", Date),
    Column("kind", String(30)),
    Column("merchant", String(40)),
    Column("product_type", String(20)),
    Column("product", String(200)),
    Column("channel", String(20)),
    Column("agent", String(20)),
    Column("rejected", Integer),
    Column("paid", Integer),
    Column("refund_cents", BigInteger),
    Column("breached", Integer),
    prefixes=["TEMPORARY"],
)


def rollup(now: datetime | None = None, days: int | None = None) -> int:
    """Rebuild the daily rows of the last `days` filing days (all dimensions) and the flags.

    One pass over the window's tickets writes one fact row per ticket into a temporary table
    (the joins and the breached check done once); each dimension is then a GROUP BY over it.
    Idempotent and safe to run from several workers: one transaction deletes and re-inserts the
    window (on PostgreSQL under an advisory lock, so a second run waits and then redoes the same).
    Returns the number of rows written.
    """
    now = now or utcnow()
    days = days or RECENT_DAYS
    first = local_today(now) - timedelta(days=days - 1)
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(0x52444E41)))  # "RDNA"
    conn.execute(text(f"DROP TABLE IF EXISTS {_FACTS.name}"))
    _FACTS.create(conn)
    paid = Ticket.state == "paid"
    breached = exists().where(SlaRecord.ticket_id == Ticket.id, SlaRecord.breached_at.is_not(None))
    facts = (
        select(
            _local_day(Ticket.created_at, now),
            Ticket.kind,
            Merchant.code,
            Order.product_type,
            func.substr(Order.product_name, 1, 200),
            Order.payment_channel,
            func.coalesce(cast(Ticket.assignee_id, String), ""),
            case((Ticket.state == "rejected", 1), else_=0),
            case((paid, 1), else_=0),
            case((paid, func.coalesce(Ticket.approved_amount_cents, 0)), else_=0),
            case((breached, 1), else_=0),
        )
        .join(Order, Order.id == Ticket.order_id)
        .join(Merchant, Merchant.id == Order.merchant_id)
        .where(Ticket.created_at >= _day_start_utc(first), Ticket.state != "new")
    )
    conn.execute(insert(_FACTS).from_select([c.name for c in _FACTS.c], facts))
    db.session.execute(delete(ComplaintDaily).where(ComplaintDaily.day >= first))
    f = _FACTS.c
    cols = ["day", "dim", "value", "opened", "rejected", "paid", "refund_cents", "breached", "computed_at"]
    for dim in DIMENSIONS:
        value = literal("") if dim == "all" else f[dim]
        per_day = select(
            f.day,
            literal(dim),
            value,
            func.count(),
            func.sum(f.rejected),
            func.sum(f.paid),
            func.sum(f.refund_cents),
            func.sum(f.breached),
            literal(now, type_=ComplaintDaily.computed_at.type),
        ).group_by(f.day, value)
        conn.execute(insert(ComplaintDaily).from_select(cols, per_day))
    conn.execute(text(f"DROP TABLE {_FACTS.name}"))
    written = db.session.scalar(select(func.count()).select_from(ComplaintDaily).where(ComplaintDaily.day >= first))
    _rebuild_flags(now)
    _store_snapshot(now)
    db.session.commit()
    return int(written or 0)


def _flag_counts(now: datetime, customer_id: int | None = None):
    since = now - timedelta(days=FLAG_WINDOW_DAYS)
    q = select(
        Ticket.customer_id,
        func.count(Ticket.id),
        func.sum(case((Ticket.state == "paid", 1), else_=0)),
        func.sum(case((Ticket.state == "rejected", 1), else_=0)),
    ).where(Ticket.created_at >= since, Ticket.state != "new")
    if customer_id is not None:
        q = q.where(Ticket.customer_id == customer_id)
    return q.group_by(Ticket.customer_id)


def _reasons(tickets: int, refunds: int, rejected: int) -> list[str]:
    out = []
    if tickets >= FLAG_RULES["many_tickets"][1]:
        out.append("many_tickets")
    if refunds >= FLAG_RULES["many_refunds"][1]:
        out.append("many_refunds")
    if tickets >= FLAG_RULES["mostly_rejected"][1] and rejected * 2 >= tickets:
        out.append("mostly_rejected")
    return out


def _rebuild_flags(now: datetime) -> None:
    db.session.execute(delete(ComplainantFlag))
    low = min(rule[1] for rule in FLAG_RULES.values())
    q = _flag_counts(now).having(
        (func.count(Ticket.id) >= low) | (func.sum(case((Ticket.state == "paid", 1), else_=0)) >= low)
    )
    for customer_id, tickets, refunds, rejected in db.session.execute(q):
        reasons = _reasons(int(tickets), int(refunds or 0), int(rejected or 0))
        if reasons:
            db.session.add(
                ComplainantFlag(
                    customer_id=customer_id,
                    tickets=int(tickets),
                    refunds=int(refunds or 0),
                    rejected=int(rejected or 0),
                    reasons=reasons,
                    computed_at=now,
                )
            )


def rule_text(code: str) -> str:
    text, n = FLAG_RULES[code]
    return str(text) % {"n": n, "days": FLAG_WINDOW_DAYS}


@dataclass
class CustomerFlags:
    tickets: int
    refunds: int
    rejected: int
    reasons: list[str]

    @property
    def texts(self) -> list[str]:
        return [rule_text(r) for r in self.reasons]


def customer_flags(customer_id: int, now: datetime | None = None) -> CustomerFlags:
    """The abuse rules for one customer, live (an index range on the customer's tickets)."""
    row = db.session.execute(_flag_counts(now or utcnow(), customer_id)).first()
    if row is None:
        return CustomerFlags(0, 0, 0, [])
    _, tickets, refunds, rejected = row
    t, f, r = int(tickets), int(refunds or 0), int(rejected or 0)
    return CustomerFlags(t, f, r, _reasons(t, f, r))


# ---------------------------------------------------------------- reads (the page and the API)


def kpis(now: datetime | None = None) -> dict:
    """The tiles: open now, breached now, refunds paid this week vs last week (Monday-based, display
    time zone) — live; the breach rate (4 weeks) and the median time to money (30 days) — as of the
    last roll-up."""
    now = now or utcnow()
    open_now = (  # the maintained counters (app/tickets/counters.py), not a count over the tickets
        db.session.scalar(
            select(func.coalesce(func.sum(TicketStateCount.n), 0)).where(TicketStateCount.state.in_(OPEN_STATES))
        )
        or 0
    )
    breached_now = (
        db.session.scalar(
            select(func.count(Ticket.id)).where(
                Ticket.sla_due_at < now, Ticket.sla_paused_at.is_(None), Ticket.state.in_(OPEN_STATES)
            )
        )
        or 0
    )
    today = local_today(now)
    week_start = today - timedelta(days=today.weekday())
    this_week = _paid_between(_day_start_utc(week_start), now)
    last_week = _paid_between(_day_start_utc(week_start - timedelta(days=7)), _day_start_utc(week_start))
    four_weeks = db.session.execute(
        select(
            func.coalesce(func.sum(ComplaintDaily.opened), 0), func.coalesce(func.sum(ComplaintDaily.breached), 0)
        ).where(ComplaintDaily.dim == "all", ComplaintDaily.day > today - timedelta(days=28))
    ).one()
    opened, breached = int(four_weeks[0]), int(four_weeks[1])
    return {
        "open_now": int(open_now),
        "breached_now": int(breached_now),
        "median_hours_to_money": _snapshot("median_hours_to_money"),  # as of the last roll-up
        "breach_rate": (breached / opened) if opened else None,
        "refund_cents_this_week": this_week,
        "refund_cents_last_week": last_week,
    }


def _paid_between(start: datetime, end: datetime) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(Payout.amount_cents), 0)).where(
            Payout.succeeded_at >= start, Payout.succeeded_at < end
        )
    )
    return int(total or 0)


def _store_snapshot(now: datetime) -> None:
    """Figures too costly to compute per page view, refreshed with the roll-up."""
    value = _median_hours_to_money(now)
    row = db.session.get(AnalyticsSnapshot, "median_hours_to_money")
    if row is None:
        row = AnalyticsSnapshot(key="median_hours_to_money")
        db.session.add(row)
    row.value, row.computed_at = value, now


def _snapshot(key: str) -> float | None:
    row = db.session.get(AnalyticsSnapshot, key)
    return None if row is None else row.value


def _median_hours_to_money(now: datetime) -> float | None:
    """From filing to the payout's success, for payouts of the last 30 days."""
    since = now - timedelta(days=30)
    base = (
        select(Payout.succeeded_at, Ticket.created_at)
        .join(Ticket, Ticket.id == Payout.ticket_id)
        .where(Payout.succeeded_at >= since)
    )
    if db.engine.dialect.name == "postgresql":
        seconds = func.extract("epoch", Payout.succeeded_at - Ticket.created_at)
        q = (
            select(func.percentile_cont(0.5).within_group(seconds))
            .join(Ticket, Ticket.id == Payout.ticket_id)
            .where(Payout.succeeded_at >= since)
        )
        value = db.session.scalar(q.select_from(Payout))
        return None if value is None else round(float(value) / 3600, 1)
    spans = [(paid - filed).total_seconds() for paid, filed in db.session.execute(base) if paid and filed]
    return round(statistics.median(spans) / 3600, 1) if spans else None


def weekly_trend(now: datetime | None = None, weeks: int = 12) -> list[dict]:
    """Per week (Monday start): complaints filed, refunds paid, refund amount, breached, rejected."""
    today = local_today(now or utcnow())
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    rows = db.session.scalars(select(ComplaintDaily).where(ComplaintDaily.dim == "all", ComplaintDaily.day >= first))
    out = {first + timedelta(weeks=i): _zero() for i in range(weeks)}
    for r in rows:
        week = r.day - timedelta(days=r.day.weekday())
        _add(out.setdefault(week, _zero()), r)
    return [{"week": w.isoformat(), **v} for w, v in sorted(out.items())]


def _zero() -> dict:
    return {"opened": 0, "paid": 0, "refund_cents": 0, "breached": 0, "rejected": 0}


def _add(acc: dict, r: ComplaintDaily) -> None:
    acc["opened"] += r.opened
    acc["paid"] += r.paid
    acc["refund_cents"] += r.refund_cents
    acc["breached"] += r.breached
    acc["rejected"] += r.rejected


BREAKDOWNS = ("kind", "merchant", "product_type", "product", "channel", "agent")


def breakdown(dim: str, now: datetime | None = None, days: int = 28, limit: int = 15) -> list[dict]:
    """Complaints of the last `days` days per value of `dim`, most complaints first."""
    if dim not in BREAKDOWNS:
        raise ValueError(dim)
    first = local_today(now or utcnow()) - timedelta(days=days - 1)
    q = (
        select(
            ComplaintDaily.value,
            func.sum(ComplaintDaily.opened),
            func.sum(ComplaintDaily.paid),
            func.sum(ComplaintDaily.refund_cents),
            func.sum(ComplaintDaily.breached),
            func.sum(ComplaintDaily.rejected),
        )
        .where(ComplaintDaily.dim == dim, ComplaintDaily.day >= first)
        .group_by(ComplaintDaily.value)
        .order_by(func.sum(ComplaintDaily.opened).desc(), ComplaintDaily.value)
        .limit(limit)
    )
    out = []
    for value, opened, paid, cents, breached, rejected in db.session.execute(q):
        out.append(
            {
                "value": value,
                "opened": int(opened),
                "paid": int(paid),
                "refund_cents": int(cents),
                "breached": int(breached),
                "rejected": int(rejected),
            }
        )
    return out


def spikes(now: datetime | None = None) -> list[dict]:
    """Merchants and products whose complaints this week are far above their own baseline."""
    today = local_today(now or utcnow())
    week_first = today - timedelta(days=6)
    base_first = week_first - timedelta(weeks=SPIKE_BASELINE_WEEKS)
    in_week = case((ComplaintDaily.day >= week_first, ComplaintDaily.opened), else_=0)
    in_base = case((ComplaintDaily.day < week_first, ComplaintDaily.opened), else_=0)
    q = (
        select(ComplaintDaily.dim, ComplaintDaily.value, func.sum(in_week), func.sum(in_base))
        .where(ComplaintDaily.dim.in_(("merchant", "product")), ComplaintDaily.day >= base_first)
        .group_by(ComplaintDaily.dim, ComplaintDaily.value)
        .having(func.sum(in_week) >= SPIKE_MIN)
    )
    out = []
    for dim, value, week, base in db.session.execute(q):
        baseline = max(float(base or 0) / SPIKE_BASELINE_WEEKS, 1.0)
        if int(week) >= SPIKE_RATIO * baseline:
            out.append(
                {
                    "dim": dim,
                    "value": value,
                    "this_week": int(week),
                    "baseline": round(baseline, 1),
                    "ratio": round(int(week) / baseline, 1),
                }
            )
    out.sort(key=lambda s: -s["ratio"])
    return out


def spike_rule() -> str:
    ratio = f"{SPIKE_RATIO:g}"
    return str(
        _l(
            "A spike: this week's complaints (last 7 days) against a merchant or product are at least "
            "%(min)s and at least %(ratio)s× its weekly average over the %(weeks)s weeks before.",
            min=SPIKE_MIN,
            ratio=ratio,
            weeks=SPIKE_BASELINE_WEEKS,
        )
    )


def flagged_customers(limit: int = 20) -> list[tuple[ComplainantFlag, User]]:
    q = (
        select(ComplainantFlag, User)
        .join(User, User.id == ComplainantFlag.customer_id)
        .order_by(ComplainantFlag.tickets.desc(), ComplainantFlag.customer_id)
        .limit(limit)
    )
    return [(f, u) for f, u in db.session.execute(q)]


def data_as_of() -> datetime | None:
    return db.session.scalar(select(func.max(ComplaintDaily.computed_at)))


def agent_names(ids: list[str]) -> dict[str, str]:
    nums = [int(i) for i in ids if i.isdigit()]
    if not nums:
        return {}
    return {str(u.id): u.display_name for u in db.session.scalars(select(User).where(User.id.in_(nums)))}
