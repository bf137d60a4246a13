"""Merchants in tests: a merchant with an account and a deposit, complaints filed by the real service."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.merchants.ledger import top_up
from app.merchants.models import Merchant, MerchantCharge, MerchantLedgerEntry
from app.tickets.services import create_ticket
from tests.factories import make_order, merchant_user, staff

SH = ZoneInfo("Asia/Shanghai")


def cst(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


def at(when: datetime):
    return time_machine.travel(when, tick=False)


def setup_merchant(code: str = "M1", deposit_cents: int = 500_000):
    """A merchant that can log in (so complaints go to it) with a deposit."""
    user = merchant_user(code)
    if deposit_cents:
        top_up(code, deposit_cents, staff("finance"), note="initial deposit")
    return user


def file_complaint(kind: str = "invalid_card", merchant_code: str = "M1", amount_cents: int = 10_000, **order_kw):
    """A customer's complaint on an order of `merchant_code` (¥100: above the small-amount rule)."""
    order = make_order(amount_cents=amount_cents, **order_kw)
    if merchant_code != order.merchant.code:
        order.merchant = db.session.scalar(select(Merchant).where(Merchant.code == merchant_code))
        db.session.commit()
    return create_ticket(order.order_no, kind, "the card key says already used", order.customer)


def merchant(code: str = "M1") -> Merchant:
    m = db.session.scalar(select(Merchant).where(Merchant.code == code).execution_options(populate_existing=True))
    assert m is not None
    return m


def deductions(ticket) -> int:
    return db.session.scalar(
        select(func.count(MerchantLedgerEntry.id)).where(MerchantLedgerEntry.ticket_id == ticket.id)
    )


def charge(ticket) -> MerchantCharge | None:
    return db.session.scalar(
        select(MerchantCharge).where(MerchantCharge.ticket_id == ticket.id).execution_options(populate_existing=True)
    )
