"""Bulk pay and retry-on-another-channel under concurrency (PostgreSQL, jobs inline): double
submits racing each other still make one payout, one charge and one `pay` per ticket."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.payouts import services
from app.payouts.models import BalanceLedger, Payout, SimulatedCharge
from app.tickets.models import Ticket
from app.workflow.models import TicketEvent
from tests.conftest import on_postgres
from tests.factories import make_order, make_ticket, staff
from tests.helpers import run_at_once

pytestmark = pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL (run by `make test`)")


def pays(db, ticket_id: int) -> tuple[int, int]:
    db.session.expire_all()
    payouts = db.session.scalar(select(func.count(Payout.id)).where(Payout.ticket_id == ticket_id))
    events = db.session.scalar(
        select(func.count(TicketEvent.id)).where(TicketEvent.ticket_id == ticket_id, TicketEvent.event == "pay")
    )
    return payouts, events


def test_racing_bulk_submits_pay_each_ticket_once(app, db):
    tickets = [make_ticket("finance") for _ in range(3)]
    refs, finance_id = [t.ref for t in tickets], staff("finance").id
    app.config["PAYOUT_SIM_LATENCY_MS"] = 20  # widens the window between claim and commit
    db.session.commit()

    def submit():
        with app.app_context():
            from app.auth.models import User
            from app.extensions import db as _db

            outcomes = services.bulk_pay(refs, _db.session.get(User, finance_id))
            return sum(o.started for o in outcomes)

    started = run_at_once([submit] * 6)
    assert all(isinstance(n, int) for n in started), started
    assert sum(started) == 3  # each ticket's payout started by exactly one submit
    for t in tickets:
        assert pays(db, t.id) == (1, 1)
        assert db.session.get(Ticket, t.id).state == "paid"
    assert db.session.scalar(select(func.count(SimulatedCharge.id))) == 3


def test_racing_retries_on_another_channel_pay_once(app, db):
    ticket = make_ticket("finance", order=make_order(payment_channel="wechat"))
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 1.0
    payout_id = services.request_payout(ticket.id, staff("finance")).id
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 0.0
    finance_id = staff("finance").id
    db.session.commit()

    def retry():
        with app.app_context():
            from app.auth.models import User
            from app.extensions import db as _db

            try:
                return services.retry_payout(payout_id, _db.session.get(User, finance_id), channel="balance").status
            except Exception as exc:  # the losers: already pending or paid
                return type(exc).__name__

    outcomes = run_at_once([retry] * 8)
    assert "succeeded" in outcomes or "pending" in outcomes, outcomes
    assert pays(db, ticket.id) == (1, 1)
    ledger = db.session.scalars(select(BalanceLedger)).all()
    assert [(r.user_id, r.amount_cents) for r in ledger] == [(ticket.customer_id, 10_000)]
    assert db.session.scalar(select(func.count(SimulatedCharge.id))) == 0
