"""A complaint's merchant step from submit to payout: each answer, silence, and the deposit."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import Invalid, NotAllowed
from app.extensions import db
from app.notifications.models import Notification
from app.payouts import jobs
from app.payouts.models import Payout
from app.payouts.services import request_payout
from app.sla.clock import records_of
from app.sla.sweep import sweep_sla
from app.workflow.events import verify_chains
from app.workflow.models import TicketEvent
from app.workflow.service import allowed_events, apply_event
from tests.factories import make_ticket, staff
from tests.merchants.helpers import at, charge, cst, deductions, file_complaint, merchant, setup_merchant


def notes(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)))


def test_merchant_liable_kinds_go_to_the_merchant_with_a_48_business_hour_deadline(app):
    setup_merchant()
    with at(cst(2026, 11, 23, 10, 0)):  # Monday 10:00: 8h today + 4 × 9h + 4h next Monday
        ticket = file_complaint("invalid_card")
    assert ticket.state == "merchant"
    assert ticket.merchant_due_at.astimezone(cst(2026, 1, 1).tzinfo) == cst(2026, 11, 30, 13, 0)
    assert ticket.sla_metric == "merchant_response" and ticket.sla_due_at == ticket.merchant_due_at
    first = [r for r in records_of(ticket.id) if r.metric == "first_response"][0]
    assert first.met_at is not None  # asking the merchant is the first response
    other = file_complaint("duplicate_charge")
    assert other.state == "submitted"  # not the merchant's fault: the desk handles it


def test_configured_kinds_and_merchants_without_accounts(app):
    app.config["MERCHANT_KINDS"] = "not_delivered"
    setup_merchant()
    assert file_complaint("invalid_card").state == "submitted"
    assert file_complaint("not_delivered").state == "merchant"
    app.config["MERCHANT_KINDS"] = "invalid_card"
    from app.merchants.models import Merchant
    from tests.merchants.helpers import merchant_user  # noqa: F401  (M2 has no account)

    db.session.add(Merchant(code="M2", name="No login"))
    db.session.commit()
    assert file_complaint("invalid_card", merchant_code="M2").state == "submitted"


def test_merchant_refund_is_paid_and_charged_to_the_deposit_exactly_once(app):
    user = setup_merchant(deposit_cents=500_000)
    ticket = file_complaint()
    with pytest.raises(Invalid):
        apply_event(ticket, "merchant_refund", user, amount_cents=10_001)
    apply_event(ticket, "merchant_refund", user, amount_cents=8_000)
    assert ticket.state == "finance" and ticket.approved_amount_cents == 8_000
    assert charge(ticket).status == "pending" and merchant().deposit_cents == 500_000
    payout = request_payout(ticket.id, staff("finance"))
    db.session.refresh(ticket)
    assert ticket.state == "paid" and payout.status == "succeeded"
    assert merchant().deposit_cents == 492_000 and deductions(ticket) == 1
    assert charge(ticket).status == "charged"
    assert jobs.execute_payout(payout.id) == "skipped"  # a replayed job pays nothing, charges nothing
    assert merchant().deposit_cents == 492_000 and deductions(ticket) == 1
    pay = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.event == "pay"))
    assert pay.payload["merchant_deduction_cents"] == 8_000
    assert verify_chains() is None


def test_merchant_reissue_goes_to_review_with_the_new_delivery_as_evidence(app):
    from app.evidence.services import attach_evidence, evidence_for

    user = setup_merchant()
    ticket = file_complaint()
    with pytest.raises(Invalid):
        apply_event(ticket, "merchant_reissue", user)  # nothing delivered
    ev = attach_evidence(ticket, io.BytesIO(b"New card key: XJ3K-22QP-9M7L\n"), "new-key.txt", user)
    assert ev.uploader_role == "merchant" and not ev.is_staff
    apply_event(ticket, "merchant_reissue", user, reason="replacement key sent")
    assert ticket.state == "review"
    from app.tickets import visibility

    assert [e.id for e in visibility.evidence(evidence_for(ticket), "customer")] == [ev.id]  # the customer sees it
    event = db.session.scalar(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.event == "merchant_reissue")
    )
    assert event.payload["evidence_ids"] == [ev.id] and event.actor_role == "merchant"
    rec = [r for r in records_of(ticket.id) if r.metric == "merchant_response"][0]
    assert rec.met_at is not None and rec.breached_at is None
    # the agent decides after the customer's word; no merchant charge without a merchant-liable refund
    apply_event(ticket, "resolve", staff("agent"), reason="customer confirmed the new key works")
    assert ticket.state == "resolved" and charge(ticket) is None


def test_merchant_dispute_needs_a_reason_and_evidence_or_a_note(app):
    user = setup_merchant()
    ticket = file_complaint()
    with pytest.raises(Invalid) as exc:
        apply_event(ticket, "merchant_dispute", user, payload={"note": "log attached"})
    assert "reason" in exc.value.fields
    with pytest.raises(Invalid) as exc:
        apply_event(ticket, "merchant_dispute", user, reason="the key was redeemed by the buyer")
    assert "note" in exc.value.fields
    apply_event(ticket, "merchant_dispute", user, reason="redeemed by the buyer", payload={"note": "redeemed 10:02"})
    assert ticket.state == "review"
    # ruled against the merchant anyway: the agent marks the refund merchant-liable
    apply_event(ticket, "approve", staff("agent"), payload={"merchant_liable": True})
    assert charge(ticket).status == "pending" and charge(ticket).cause == "approve"
    request_payout(ticket.id, staff("finance"))
    assert merchant().deposit_cents == 500_000 - 10_000 and deductions(ticket) == 1


def test_silence_past_the_deadline_grants_the_claim_and_charges_the_merchant_once(app):
    user = setup_merchant()
    with at(cst(2026, 11, 23, 10, 0)):
        ticket = file_complaint(amount_cents=12_000)
    due = ticket.merchant_due_at
    with at(cst(2026, 11, 27, 10, 30)):  # after 75 % (36 business hours, Fri 10:00): one warning
        assert sweep_sla()["merchant_warned"] == 1
        assert sweep_sla()["merchant_warned"] == 0
    assert [n.user_id for n in notes("merchant_deadline")] == [user.id]
    with at(due - timedelta(minutes=1)):
        assert sweep_sla()["merchant_timeouts"] == 0
        assert "merchant_dispute" in allowed_events(ticket, user)
    with at(due + timedelta(minutes=1)):
        assert "merchant_dispute" not in allowed_events(ticket, user)  # too late, whether or not a sweep ran
        with pytest.raises(NotAllowed):
            apply_event(ticket, "merchant_dispute", user, reason="late", payload={"note": "sorry"})
        counts = sweep_sla()
        assert counts["merchant_timeouts"] == 1
        assert sweep_sla()["merchant_timeouts"] == 0
    db.session.refresh(ticket)
    assert ticket.state == "finance" and ticket.approved_amount_cents == 12_000
    timeout = db.session.scalar(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.event == "merchant_timeout")
    )
    assert timeout.actor_role == "system" and timeout.payload["merchant_liable"] is True
    rec = [r for r in records_of(ticket.id) if r.metric == "merchant_response"][0]
    assert rec.breached_at == due and rec.met_at is None
    # the customer hears that the claim was granted, the merchant that it lost it (app/notifications/table.py)
    told = [n.user_id for n in notes("merchant_answer") if n.params.get("event") == "merchant_timeout"]
    assert told == [ticket.customer_id]
    assert [n.user_id for n in notes("merchant_lost")] == [user.id]
    payout = request_payout(ticket.id, staff("finance"))
    assert payout.status == "succeeded"
    assert jobs.execute_payout(payout.id) == "skipped"
    assert merchant().deposit_cents == 500_000 - 12_000 and deductions(ticket) == 1
    assert verify_chains() is None


def test_finance_returning_the_ticket_reverses_the_pending_charge(app):
    user = setup_merchant()
    ticket = file_complaint()
    apply_event(ticket, "merchant_refund", user)
    apply_event(ticket, "return_to_review", staff("finance"), reason="account closed")
    assert charge(ticket).status == "reversed" and charge(ticket).reason == "account closed"
    apply_event(ticket, "approve", staff("agent"))  # the platform pays this time
    request_payout(ticket.id, staff("finance"))
    db.session.refresh(ticket)
    assert ticket.state == "paid" and deductions(ticket) == 0 and merchant().deposit_cents == 500_000
    assert db.session.scalar(select(Payout.status).where(Payout.ticket_id == ticket.id)) == "succeeded"


def test_deposit_below_the_floor_flags_the_merchant_and_tells_finance_once(app):
    app.config["MERCHANT_DEPOSIT_FLOOR_CENTS"] = 100_000
    user = setup_merchant(deposit_cents=105_000)
    finance = staff("finance")
    for _ in range(2):
        ticket = file_complaint()
        apply_event(ticket, "merchant_refund", user)
        request_payout(ticket.id, finance)
    assert merchant().deposit_cents == 85_000 and merchant().low_deposit_at is not None
    assert [n.user_id for n in notes("deposit_low")] == [finance.id]
    from app.merchants.ledger import top_up

    top_up("M1", 50_000, finance)
    assert merchant().low_deposit_at is None


def test_suspended_merchant_complaints_go_straight_to_review(app):
    from app.merchants.services import suspend

    setup_merchant()
    suspend("M1", staff("manager"), "too many unanswered complaints")
    ticket = file_complaint()
    assert ticket.state == "review"
    assert "ask_merchant" not in allowed_events(ticket, staff("agent"))


def test_agent_can_ask_the_merchant_from_review(app):
    user = setup_merchant()
    ticket = make_ticket("review", kind="other")
    apply_event(ticket, "ask_merchant", staff("agent"))
    assert ticket.state == "merchant" and ticket.merchant_due_at is not None
    assert "merchant_refund" in allowed_events(ticket, user)


def test_the_merchant_and_the_customer_are_told_of_the_merchant_step_in_their_language(app):
    from flask_babel import force_locale

    from app.notifications.messages import render

    user = setup_merchant()
    user.locale = "en"
    db.session.commit()
    with at(cst(2026, 11, 23, 10, 0)):
        ticket = file_complaint("invalid_card")
    asked = notes("merchant_complaint")
    assert [n.user_id for n in asked] == [user.id]
    with force_locale("en"):
        text = render("merchant_complaint", asked[0].params)
    assert ticket.ref in text.title and "¥100.00" in text.body and "2026-11-30 13:00" in text.body
    told = [n for n in notes("merchant_answer") if n.user_id == ticket.customer_id]
    assert [n.params["event"] for n in told] == ["ask_merchant"]
    with force_locale("zh_Hans_CN"):
        zh = render("merchant_answer", told[0].params)
    assert "已转交商家处理" in zh.title and "2026-11-30 13:00" in zh.body
    with at(cst(2026, 11, 24, 10, 0)):  # before the deadline
        apply_event(ticket, "merchant_dispute", user, reason="redeemed on 11-20", payload={"note": "log attached"})
    told = [n for n in notes("merchant_answer") if n.user_id == ticket.customer_id]
    assert [n.params["event"] for n in told] == ["ask_merchant", "merchant_dispute"]
    with force_locale("en"):
        en = render("merchant_answer", told[1].params)
    assert "disputes your complaint" in en.body and "redeemed" not in en.body  # never the merchant's reason
