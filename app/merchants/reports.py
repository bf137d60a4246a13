"""Finance reports on merchant deposits: deductions per merchant and day (Beijing days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.merchants.models import Merchant, MerchantLedgerEntry


@dataclass(frozen=True)
class DeductionRow:
    day: date
    code: str
    name: str
    count: int
    amount_cents: int  # positive: what was taken from the deposit


def deductions_per_day(start: date, end: date) -> list[DeductionRow]:
    """Deductions from `start` to `end` (inclusive, local days), by day then merchant code."""
    tz = ZoneInfo(current_app.config["TZ_DISPLAY"])
    lo = datetime.combine(start, time.min, tz)
    hi = datetime.combine(end + timedelta(days=1), time.min, tz)
    rows = db.session.execute(
        select(MerchantLedgerEntry.created_at, MerchantLedgerEntry.amount_cents, Merchant.code, Merchant.name)
        .join(Merchant, Merchant.id == MerchantLedgerEntry.merchant_id)
        .where(
            MerchantLedgerEntry.kind == "deduction",
            MerchantLedgerEntry.created_at >= lo,
            MerchantLedgerEntry.created_at < hi,
        )
    ).all()
    totals: dict[tuple[date, str], list] = {}
    for at, amount, code, name in rows:
        key = (at.astimezone(tz).date(), code)
        acc = totals.setdefault(key, [name, 0, 0])
        acc[1] += 1
        acc[2] += -amount
    return [DeductionRow(day, code, v[0], v[1], v[2]) for (day, code), v in sorted(totals.items())]
