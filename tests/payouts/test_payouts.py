"""Paying approved refunds exactly once (inline queue; SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, Invalid, NotAllowed
from app.notifications.models import Notification
from app.payouts import checks, jobs, services
from app.payouts.models import BalanceLedger, Payout, PayoutDecline, SimulatedCharge
from app.types import utcnow
from app.workflow.models import TicketEvent
from app.workflow.service import apply_event
from tests.factories import make_order, make_ticket, staff


def events(db, ticket, name):
    return db.session.scalar(
        select(func.count(TicketEvent.id)).where(TicketEvent.ticket_id == ticket.id, TicketEvent.event == name)
    )


def charges(db):
    return db.session.scalar(select(func.count(SimulatedCharge.id)))


def test_pay_sends_the_money_once_and_closes_the_ticket(app, db):
    ticket = make_ticket("finance")
    payout = services.request_payout(ticket.id, staff("finance"))
    db.session.refresh(ticket)
    assert ticket.state == "paid"
    assert payout.status == "succeeded" and payout.amount_cents == 10_000 and payout.channel == "alipay"
    assert payout.gateway_reference.startswith("ALI-") and payout.attempts == 1
    paid = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.event == "pay"))
    assert paid.actor_role == "system" and paid.payload["reference"] == payout.gateway_reference
    note = db.session.scalar(
        select(Notification).where(Notification.user_id == ticket.customer_id, Notification.kind == "paid")
    )
    assert note is not None and note.params["ref"] == ticket.ref
    assert charges(db) == 1


def test_double_click_converges_on_one_payout(app, db):
    ticket = make_ticket("finance")
    finance = staff("finance")
    first = services.request_payout(ticket.id, finance)
    with pytest.raises(NotAllowed):  # already paid: the ticket left finance
        services.request_payout(ticket.id, finance)
    assert db.session.scalar(select(func.count(Payout.id))) == 1
    assert events(db, ticket, "pay") == 1 and charges(db) == 1 and first.status == "succeeded"


def test_only_finance_presses_pay(app, db):
    ticket = make_ticket("finance")
    for role in ("agent", "manager", "customer"):
        with pytest.raises(Forbidden):
            services.request_payout(ticket.id, staff(role) if role != "customer" else ticket.customer)
    assert db.session.scalar(select(func.count(Payout.id))) == 0


def test_balance_refund_credits_the_ledger_in_the_same_commit(app, db):
    ticket = make_ticket("finance", order=make_order(payment_channel="wechat"))
    payout = services.request_payout(ticket.id, staff("finance"), channel="balance")
    ledger = db.session.scalars(select(BalanceLedger)).all()
    assert [(r.user_id, r.amount_cents, r.payout_id) for r in ledger] == [(ticket.customer_id, 10_000, payout.id)]
    assert ticket.state == "paid" and payout.gateway_reference.startswith("BAL-")
    assert charges(db) == 0


def test_other_channels_than_original_or_balance_are_refused(app, db):
    ticket = make_ticket("finance")
    with pytest.raises(Invalid):
        services.request_payout(ticket.id, staff("finance"), channel="bank_card")


def test_a_decline_closes_its_channel_and_the_retry_on_another_pays_with_a_fresh_key(app, db):
    ticket = make_ticket("finance", order=make_order(payment_channel="wechat"))
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 1.0
    payout = services.request_payout(ticket.id, staff("finance"))
    db.session.refresh(payout)
    assert payout.status == "failed" and "refused" in payout.last_error and ticket.state == "finance"
    assert payout.decline_code == "account_refused"
    old_key = payout.idempotency_key
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 0.0
    with pytest.raises(Invalid) as refused:  # a decline is permanent on that channel
        services.retry_payout(payout.id, staff("finance"))
    assert refused.value.fields == {"channel": ["balance"]}
    with pytest.raises(Invalid):
        services.request_payout(ticket.id, staff("finance"), channel="wechat")
    services.retry_payout(payout.id, staff("finance"), channel="balance")
    db.session.expire_all()
    payout = db.session.get(Payout, payout.id)
    assert payout.status == "succeeded" and payout.idempotency_key != old_key and payout.channel == "balance"
    assert payout.decline_code is None and payout.gateway_reference.startswith("BAL-")
    assert db.session.get(type(ticket), ticket.id).state == "paid" and charges(db) == 0
    declines = db.session.scalars(select(PayoutDecline)).all()
    assert [(d.ticket_id, d.channel, d.code, d.idempotency_key) for d in declines] == [
        (ticket.id, "wechat", "account_refused", old_key)
    ]
    assert db.session.scalar(select(func.count(Payout.id))) == 1  # still the ticket's one payout
    ledger = db.session.scalars(select(BalanceLedger)).all()
    assert [(r.user_id, r.amount_cents) for r in ledger] == [(ticket.customer_id, 10_000)]


def test_return_to_review_after_a_failure_then_pay_again(app, db):
    ticket = make_ticket("finance")
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 1.0
    payout = services.request_payout(ticket.id, staff("finance"))
    services.return_to_review(ticket.id, staff("finance"), "the account is closed, ask for another")
    db.session.refresh(payout)
    assert ticket.state == "review" and payout.status == "cancelled"
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 0.0
    apply_event(ticket, "approve", staff("agent"), amount_cents=8_000)
    services.request_payout(ticket.id, staff("finance"))
    db.session.refresh(payout)
    assert ticket.state == "paid" and payout.status == "succeeded" and payout.amount_cents == 8_000


def test_return_to_review_is_refused_while_a_payout_is_under_way(app, db, monkeypatch):
    ticket = make_ticket("finance")
    monkeypatch.setattr(services, "_enqueue_execute", lambda payout_id: None)  # queued, not yet run
    services.request_payout(ticket.id, staff("finance"))
    with pytest.raises(Conflict):
        services.return_to_review(ticket.id, staff("finance"), "wrong account")
    with pytest.raises(Conflict):  # and no manual pay on top of a queued payout
        apply_event(ticket, "pay", staff("finance"), payload={"reference": "ALI-MANUAL"})
    assert ticket.state == "finance"


def test_manual_pay_records_a_payout_and_blocks_a_second_one(app, db):
    ticket = make_ticket("finance")
    apply_event(ticket, "pay", staff("finance"), payload={"reference": "ALI-2026-0001"})
    payout = checks.payout_for(ticket.id)
    assert payout.manual and payout.status == "succeeded" and payout.gateway_reference == "ALI-2026-0001"
    with pytest.raises(NotAllowed):
        services.request_payout(ticket.id, staff("finance"))
    assert charges(db) == 0 and events(db, ticket, "pay") == 1


def test_the_paths_factory_still_pays(app, db):
    ticket = make_ticket("paid")
    assert checks.payout_for(ticket.id).status == "succeeded"


def test_transient_errors_retry_then_give_up_for_finance(app, db, monkeypatch):
    ticket = make_ticket("finance")
    app.config["PAYOUT_SIM_FAILURE_RATE"] = 1.0
    app.config["PAYOUT_MAX_ATTEMPTS"] = 2
    payout = services.request_payout(ticket.id, staff("finance"))  # inline: the error is logged
    db.session.refresh(payout)
    assert payout.status == "pending" and "timeout" in payout.last_error and payout.attempts == 1
    assert jobs.execute_payout(payout.id) == "failed"
    db.session.refresh(payout)
    assert payout.status == "failed" and payout.failure_kind == "exhausted" and "2 attempts" in payout.last_error
    app.config["PAYOUT_SIM_FAILURE_RATE"] = 0.0
    services.retry_payout(payout.id, staff("finance"))
    assert db.session.get(type(ticket), ticket.id).state == "paid" and charges(db) == 1


def test_crash_after_the_gateway_is_recovered_without_paying_twice(app, db, monkeypatch):
    ticket = make_ticket("finance")
    original = jobs.record_result

    def crash(req, result):
        raise RuntimeError("worker killed after the gateway answered")

    monkeypatch.setattr(jobs, "record_result", crash)
    payout = services.request_payout(ticket.id, staff("finance"))
    db.session.refresh(payout)
    assert payout.status == "pending" and "killed" in payout.last_error and charges(db) == 1
    monkeypatch.setattr(jobs, "record_result", original)
    assert jobs.reconcile_payouts() == 0  # not stuck yet
    with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
        assert jobs.reconcile_payouts() == 1
    db.session.refresh(payout)
    assert payout.status == "succeeded" and payout.attempts == 2
    assert charges(db) == 1 and events(db, ticket, "pay") == 1


def test_a_killed_worker_left_in_processing_is_reconciled(app, db, monkeypatch):
    ticket = make_ticket("finance")
    monkeypatch.setattr(services, "_enqueue_execute", lambda payout_id: None)
    payout = services.request_payout(ticket.id, staff("finance"))
    req = jobs.claim_payout(payout.id)  # the worker claims ...
    from app.payouts.gateways import get_gateway

    get_gateway(req.channel).pay(req)  # ... the gateway pays ... and it dies
    assert jobs.execute_payout(payout.id) == "skipped"  # a duplicate job leaves it alone
    monkeypatch.undo()
    with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
        jobs.reconcile_payouts()
    db.session.refresh(payout)
    assert payout.status == "succeeded" and charges(db) == 1 and events(db, ticket, "pay") == 1


def test_refunds_of_two_tickets_never_exceed_the_order(app, db):
    order = make_order(amount_cents=10_000)
    first = make_ticket("finance", order=order, amount_cents=7_000)
    second = make_ticket("review", order=order, amount_cents=3_000, kind="invalid_card")
    with pytest.raises(Invalid):
        apply_event(second, "approve", staff("agent"), amount_cents=3_001)
    apply_event(second, "approve", staff("agent"), amount_cents=3_000)
    for ticket in (first, second):
        services.request_payout(ticket.id, staff("finance"))
    paid = db.session.scalar(select(func.sum(Payout.amount_cents)).where(Payout.status == "succeeded"))
    assert paid == 10_000


def test_fast_track_cannot_overdraw_the_order_either(app, db):
    order = make_order(amount_cents=4_000)
    make_ticket("finance", order=order, amount_cents=3_000)
    ticket = make_ticket("submitted", order=order, amount_cents=1_000, kind="invalid_card")
    with pytest.raises(Invalid):
        apply_event(ticket, "fast_track", None, amount_cents=1_001, payload={"rule": "small_amount"})
    assert ticket.state == "submitted"


def test_above_the_agents_limit_a_manager_approves_and_it_shows(app, db):
    ticket = make_ticket("review", order=make_order(amount_cents=80_000))
    with pytest.raises(Forbidden):
        apply_event(ticket, "approve", staff("agent"), amount_cents=50_001)
    manager = staff("manager")
    apply_event(ticket, "approve", manager, amount_cents=60_000)
    from app.payouts.reports import queue_rows

    row = next(r for r in queue_rows() if r.ticket.id == ticket.id)
    assert (row.decided_by.actor_id, row.decided_by.actor_role) == (manager.id, "manager")
    assert row.decided_by.payload["amount_cents"] == 60_000


def test_agents_approve_up_to_the_limit(app, db):
    ticket = make_ticket("review", order=make_order(amount_cents=80_000))
    apply_event(ticket, "approve", staff("agent"), amount_cents=50_000)
    assert ticket.state == "finance" and ticket.approved_amount_cents == 50_000


def test_nothing_else_touches_a_payout_while_the_gateway_is_being_asked(app, db, monkeypatch):
    ticket = make_ticket("finance")
    monkeypatch.setattr(services, "_enqueue_execute", lambda payout_id: None)
    payout = services.request_payout(ticket.id, staff("finance"))
    assert jobs.claim_payout(payout.id) is not None  # a worker holds it (processing)
    assert jobs.claim_payout(payout.id) is None  # a second worker does not
    with pytest.raises(Conflict):
        services.return_to_review(ticket.id, staff("finance"), "wrong account")
    with pytest.raises(Conflict):
        apply_event(ticket, "pay", staff("finance"), payload={"reference": "BANK-123"})
    with pytest.raises(NotAllowed):
        services.retry_payout(payout.id, staff("finance"))
    assert ticket.state == "finance" and checks.payout_for(ticket.id).status == "processing"
