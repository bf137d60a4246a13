"""When refunded money should arrive, per channel (REFUND_ARRIVAL), and the tracker's money status.

REFUND_ARRIVAL: "balance=0m,alipay=2h,wechat=2h,bank_card=5d" — m/h are clock minutes/hours,
d are working days on the business calendar (app/sla/calendar.py; the money is there by the end
of the N-th working day after the payout).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

DEFAULT = "balance=0m,alipay=2h,wechat=2h,bank_card=5d"
_SPEC = re.compile(r"^(\d+)([mhd])$")


def arrival_rules(spec: str | None = None) -> dict[str, tuple[int, str]]:
    """{channel: (n, unit)}; the defaults, overridden by the setting."""
    rules: dict[str, tuple[int, str]] = {}
    for source in (DEFAULT, spec if spec is not None else current_app.config.get("REFUND_ARRIVAL", "")):
        for item in (source or "").split(","):
            channel, _, value = item.strip().partition("=")
            m = _SPEC.match(value.strip())
            if channel and m:
                rules[channel.strip()] = (int(m.group(1)), m.group(2))
    return rules


def expected_arrival(channel: str, paid_at: datetime) -> datetime:
    """The time by which money paid at `paid_at` to `channel` should have arrived."""
    n, unit = arrival_rules().get(channel, (0, "m"))
    if unit == "m":
        return paid_at + timedelta(minutes=n)
    if unit == "h":
        return paid_at + timedelta(hours=n)
    from app.sla.clock import get_calendar

    calendar, tz = get_calendar(), ZoneInfo(current_app.config["TZ_DISPLAY"])
    day, counted = paid_at.astimezone(tz).date(), 0
    while counted < n:
        day += timedelta(days=1)
        counted += calendar.is_workday(day)
    return datetime.combine(day, time(23, 59), tzinfo=tz)


@dataclass
class MoneyStatus:
    state: str  # approved | failed | on_its_way | arrived
    amount_cents: int | None
    channel: str
    partial_reason: str | None = None  # the agent's reason for approving less than asked
    reference: str | None = None  # the gateway's refund reference
    paid_at: datetime | None = None
    arrival_by: datetime | None = None


def _payout_failed(ticket) -> bool:
    from sqlalchemy import select

    from app.extensions import db
    from app.payouts.models import Payout

    return db.session.scalar(select(Payout.status).where(Payout.ticket_id == ticket.id)) == "failed"


def money_status(ticket, events, now: datetime) -> MoneyStatus | None:
    """The money part of the tracker once a refund is approved (None before, or without money)."""
    if ticket.state not in ("finance", "paid") or ticket.approved_amount_cents is None:
        return None
    approvals = [e for e in events if e.event in ("approve", "fast_track", "merchant_refund", "merchant_timeout")]
    last = approvals[-1] if approvals else None
    partial = None
    if last is not None and last.event == "approve" and ticket.approved_amount_cents < ticket.requested_amount_cents:
        partial = last.reason  # written for the customer: it explains the amount (issue 13)
    status = MoneyStatus("approved", ticket.approved_amount_cents, ticket.order.payment_channel, partial)
    if ticket.state == "finance":
        if _payout_failed(ticket):
            status.state = "failed"
        return status
    pay = next((e for e in reversed(events) if e.event == "pay"), None)
    payload = (pay.payload or {}) if pay is not None else {}
    status.channel = payload.get("channel") or status.channel
    status.reference = payload.get("reference")
    status.paid_at = pay.created_at if pay is not None else ticket.state_changed_at
    status.arrival_by = expected_arrival(status.channel, status.paid_at)
    status.state = "arrived" if now >= status.arrival_by else "on_its_way"
    return status
