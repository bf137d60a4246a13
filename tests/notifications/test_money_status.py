"""Honest money status on the tracker: approved amount (and why, when partial), the payout's
reference and channel, when it should arrive (per channel, bank cards on working days), and a
failed payout said plainly — with the customer told."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.notifications.models import Notification
from app.payouts import services as payouts
from app.tickets.models import Ticket
from app.workflow.service import apply_event
from tests.factories import make_order, make_ticket, make_user, staff
from tests.notifications.conftest import SH, at, cst

FRIDAY_10 = cst(2026, 11, 27, 10, 0)


def shown(dt) -> str:
    return dt.astimezone(SH).strftime("%Y-%m-%d %H:%M")


def tracker(client, ticket, lang: str) -> str:
    return client.get(f"/tickets/{ticket.ref}?lang={lang}").get_data(as_text=True)


def test_partial_approval_shows_the_amount_and_the_agents_reason(app, client, auth):
    cust = make_user("customer")
    with at(FRIDAY_10):
        ticket = make_ticket("review", order=make_order(cust))
        apply_event(ticket, "approve", staff("agent"), amount_cents=6_000, reason="one of the two keys worked")
        auth.login(cust)
        en, zh = tracker(client, ticket, "en"), tracker(client, ticket, "zh")
    assert "Amount approved</dt><dd>¥60.00" in en and "Why not the full amount" in en
    assert "one of the two keys worked" in en and "one of the two keys worked" in zh


def test_after_an_alipay_payout_the_tracker_shows_reference_and_arrival_then_arrived(app, client, auth):
    cust = make_user("customer")
    with at(FRIDAY_10):
        ticket = make_ticket("finance", order=make_order(cust, payment_channel="alipay"))
        payout = payouts.request_payout(ticket.id, staff("finance"))
        auth.login(cust)
        en = tracker(client, ticket, "en")
        zh = tracker(client, ticket, "zh")
    arrive = shown(payout.succeeded_at + timedelta(hours=2))
    assert payout.gateway_reference in en and "Alipay" in en
    assert f"Refunded ¥100.00 to your Alipay; expected to arrive by {arrive}." in en
    assert "已退款" in zh and f"预计 {arrive} 前到账" in zh
    with at(payout.succeeded_at + timedelta(hours=2, minutes=1)):
        later = tracker(client, ticket, "en")
    assert "¥100.00 has arrived in your Alipay." in later and "Money arrived" in later
    note = db.session.scalar(select(Notification).where(Notification.kind == "paid"))
    assert note.params["reference"] == payout.gateway_reference and note.params["arrival_by_at"]


def test_bank_card_refunds_arrive_within_five_working_days_on_the_business_calendar(app, client, auth):
    cust = make_user("customer")
    with at(FRIDAY_10):
        ticket = make_ticket("finance", order=make_order(cust, payment_channel="bank_card"))
        payouts.request_payout(ticket.id, staff("finance"))
        auth.login(cust)
        en = tracker(client, ticket, "en")
    assert "expected to arrive by 2026-12-04 23:59" in en  # Mon 30 … Fri 4: five working days


def test_a_failed_payout_is_said_plainly_and_the_customer_and_finance_are_told(app, client, auth):
    cust = make_user("customer", locale="en")
    finance = staff("finance")
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 1.0
    with at(FRIDAY_10):
        ticket = make_ticket("finance", order=make_order(cust, payment_channel="wechat"))
        payouts.request_payout(ticket.id, finance)
        assert db.session.get(Ticket, ticket.id).state == "finance"
        auth.login(cust)
        en, zh = tracker(client, ticket, "en"), tracker(client, ticket, "zh")
    assert "The refund ran into a problem; finance is handling it." in en
    assert "退款遇到问题，财务正在处理" in zh
    kinds = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}
    assert (cust.id, "payout_failed") in kinds and (finance.id, "payout_failed_staff") in kinds
