"""The merchant answering while the timeout sweep runs: exactly one of them wins, per ticket
(PostgreSQL: separate sessions, real row locks)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, NotAllowed
from app.extensions import db
from app.merchants.models import MerchantCharge
from app.sla import sweep
from app.tickets.models import Ticket
from app.workflow.events import verify_chains
from app.workflow.models import TicketEvent
from app.workflow.service import apply_event
from tests.conftest import on_postgres
from tests.merchants.helpers import at, cst, file_complaint, setup_merchant

pytestmark = pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL (run by `make test`)")
N = 12


def test_merchant_answer_racing_the_timeout_sweep_has_one_winner_per_ticket(app):
    user = setup_merchant()
    with at(cst(2026, 11, 23, 10, 0)):
        ids = [file_complaint().id for _ in range(N)]
    due = db.session.get(Ticket, ids[0]).merchant_due_at
    user_id = user.id
    db.session.remove()
    barrier, outcomes, errors = threading.Barrier(2), Counter(), []

    def merchant_answers():
        from app.auth.models import User

        with app.app_context():
            me = db.session.get(User, user_id)
            barrier.wait()
            for ticket_id in ids:
                ticket = db.session.get(Ticket, ticket_id, populate_existing=True)
                try:
                    apply_event(
                        ticket,
                        "merchant_dispute",
                        me,
                        reason="delivered",
                        payload={"note": "redeemed by the buyer"},
                        now=due - timedelta(seconds=1),  # in time, by its clock
                    )
                    outcomes["answered"] += 1
                except (Conflict, NotAllowed):
                    db.session.rollback()
                    outcomes["too_late"] += 1

    def sweeper():
        with app.app_context():
            barrier.wait()
            outcomes["timeouts"] += sweep.sweep_sla(due + timedelta(seconds=1))["merchant_timeouts"]
            outcomes["timeouts"] += sweep.sweep_sla(due + timedelta(seconds=2))["merchant_timeouts"]  # next tick

    def guarded(fn):
        def run():
            try:
                fn()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(f)) for f in (merchant_answers, sweeper)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    db.session.expire_all()
    assert outcomes["answered"] + outcomes["timeouts"] == N
    assert outcomes["answered"] + outcomes["too_late"] == N
    for ticket_id in ids:
        ends = db.session.scalars(
            select(TicketEvent.event).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.event.in_(("merchant_dispute", "merchant_timeout"))
            )
        ).all()
        state = db.session.scalar(select(Ticket.state).where(Ticket.id == ticket_id))
        assert len(ends) == 1, (ticket_id, ends)
        assert state == {"merchant_dispute": "review", "merchant_timeout": "finance"}[ends[0]]
    charged = db.session.scalar(select(func.count(MerchantCharge.id)))
    assert charged == outcomes["timeouts"]  # a charge only where the silence rule won
    assert verify_chains() is None
