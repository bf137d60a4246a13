"""A merchant's standing from its own record (all time; cheap aggregate queries).

- complaint_rate: complaints (tickets) per order;
- on_time_rate: answers given before the deadline / merchant steps that ended (answered or timed out);
- ruled_against: complaints refunded at the merchant's cost (charged or pending) / decided complaints;
- timeouts: merchant steps that ended in merchant_timeout.
score = 100 − 40·min(1, 5·complaint_rate) − 30·(1 − on_time_rate) − 30·ruled_against, floored at 0
(a merchant with no record scores 100). Shown to staff on every ticket and on the merchants page.

The ticket page shows `cached_score`: per process, at most SCORE_TTL_SECONDS old (the score is a
slow statistic over the merchant's whole record; six aggregates per ticket view would grow with
the merchant's size). The merchants page, the merchant's own desk and the API compute it fresh.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.merchants.models import MerchantCharge
from app.sla.models import MERCHANT_RESPONSE, SlaRecord
from app.tickets.models import Order, Ticket

DECIDED = ("finance", "paid", "rejected", "resolved")
SCORE_TTL_SECONDS = 60


@dataclass(frozen=True)
class Score:
    score: int
    orders: int
    complaints: int
    complaint_rate: float
    answered_on_time: int
    timeouts: int
    on_time_rate: float | None
    ruled_against: int
    ruled_against_rate: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def score_of(merchant_id: int) -> Score:
    orders = db.session.scalar(select(func.count(Order.id)).where(Order.merchant_id == merchant_id)) or 0
    tickets = select(Ticket.id).join(Order, Order.id == Ticket.order_id).where(Order.merchant_id == merchant_id)
    complaints = db.session.scalar(select(func.count()).select_from(tickets.subquery())) or 0
    decided = (
        db.session.scalar(
            select(func.count(Ticket.id))
            .join(Order, Order.id == Ticket.order_id)
            .where(Order.merchant_id == merchant_id, Ticket.state.in_(DECIDED))
        )
        or 0
    )
    steps = db.session.execute(
        select(SlaRecord.met_at.is_not(None), func.count(SlaRecord.id))
        .where(
            SlaRecord.metric == MERCHANT_RESPONSE,
            SlaRecord.ticket_id.in_(tickets),
            (SlaRecord.met_at.is_not(None)) | (SlaRecord.stopped_at.is_not(None)),
        )
        .group_by(SlaRecord.met_at.is_not(None))
    ).all()
    on_time = sum(n for met, n in steps if met)
    timeouts = (
        db.session.scalar(
            select(func.count(SlaRecord.id)).where(
                SlaRecord.metric == MERCHANT_RESPONSE,
                SlaRecord.ticket_id.in_(tickets),
                SlaRecord.ended_by == "merchant_timeout",
            )
        )
        or 0
    )
    ended = sum(n for _met, n in steps)
    against = (
        db.session.scalar(
            select(func.count(MerchantCharge.id)).where(
                MerchantCharge.merchant_id == merchant_id, MerchantCharge.status.in_(("pending", "charged"))
            )
        )
        or 0
    )
    rate = complaints / orders if orders else 0.0
    on_time_rate = _ratio(on_time, ended)
    against_rate = _ratio(against, max(decided, against))
    value = 100 - 40 * min(1.0, 5 * rate) - 30 * (1 - (on_time_rate if on_time_rate is not None else 1))
    value -= 30 * (against_rate or 0)
    return Score(
        score=max(0, round(value)),
        orders=orders,
        complaints=complaints,
        complaint_rate=round(rate, 4),
        answered_on_time=on_time,
        timeouts=timeouts,
        on_time_rate=on_time_rate,
        ruled_against=against,
        ruled_against_rate=against_rate,
    )


def cached_score(merchant_id: int) -> Score:
    """score_of, reused for SCORE_TTL_SECONDS within this process (per app)."""
    cache: dict[int, tuple[float, Score]] = current_app.extensions.setdefault("merchant_scores", {})
    now = time.monotonic()
    hit = cache.get(merchant_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    score = score_of(merchant_id)
    if len(cache) > 10_000:  # bounded: merchants are few, but never let it grow without end
        cache.clear()
    cache[merchant_id] = (now + SCORE_TTL_SECONDS, score)
    return score
