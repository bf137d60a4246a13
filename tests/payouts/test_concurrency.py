"""Exactly-once payouts under concurrency: PostgreSQL, real Redis and a real rq worker."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.payouts import checks, jobs, services
from app.payouts.models import Payout, SimulatedCharge
from app.tickets.models import Ticket
from app.types import utcnow
from app.workflow.models import TicketEvent
from tests.conftest import on_postgres
from tests.factories import make_ticket, staff
from tests.helpers import run_at_once

pytestmark = [
    pytest.mark.skipif(
        not (on_postgres() and os.environ.get("REDIS_TEST_URL")),
        reason="needs PostgreSQL and real Redis (REDIS_TEST_URL; run by `make test`)",
    ),
    pytest.mark.redis,
]


def _clear(queue) -> None:
    queue.empty()
    for registry in (
        queue.scheduled_job_registry,
        queue.failed_job_registry,
        queue.finished_job_registry,
        queue.started_job_registry,
        queue.deferred_job_registry,
    ):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)


@pytest.fixture
def queue(app):
    from redis import Redis
    from rq import Queue

    url = os.environ["REDIS_TEST_URL"]
    app.config["REDIS_URL"] = url  # enqueue() now goes to the real Redis
    q = Queue("default", connection=Redis.from_url(url))
    _clear(q)
    yield q
    _clear(q)


def work(queue) -> None:
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def counts(db, ticket) -> tuple[int, int, int]:
    db.session.expire_all()
    payouts = db.session.scalar(select(func.count(Payout.id)).where(Payout.ticket_id == ticket.id))
    paid = db.session.scalar(
        select(func.count(TicketEvent.id)).where(TicketEvent.ticket_id == ticket.id, TicketEvent.event == "pay")
    )
    charged = db.session.scalar(select(func.count(SimulatedCharge.id)))
    return payouts, paid, charged


def test_fifty_concurrent_pays_make_one_payout_and_one_paid_event(app, db, api, queue):
    ticket = make_ticket("finance")
    headers, path = api.headers(staff("finance")), f"/api/v1/tickets/{ticket.ref}/payout"
    db.session.commit()

    def pay():
        with app.test_client() as c:
            resp = c.post(path, headers=headers, json={})
            return resp.status_code, resp.json.get("id")

    results = run_at_once([pay] * 50)
    assert set(results) == {(202, results[0][1])}, results
    payout_jobs = [j for j in queue.jobs if j.args[0].endswith(".execute_payout")]
    assert len(payout_jobs) == 1  # one job: only the request that created the row enqueues
    work(queue)
    assert counts(db, ticket) == (1, 1, 1)
    assert db.session.get(Ticket, ticket.id).state == "paid"


def test_duplicate_jobs_racing_charge_once(app, db, queue, monkeypatch):
    ticket = make_ticket("finance")
    monkeypatch.setattr(services, "_enqueue_execute", lambda payout_id: None)
    payout_id = services.request_payout(ticket.id, staff("finance")).id
    app.config["PAYOUT_SIM_LATENCY_MS"] = 20  # widens the window between claim and commit

    def execute():
        with app.app_context():
            return jobs.execute_payout(payout_id)

    outcomes = run_at_once([execute] * 10)
    assert sorted(outcomes) == ["skipped"] * 9 + ["succeeded"], outcomes
    assert counts(db, ticket) == (1, 1, 1)


def test_crash_between_gateway_and_commit_recovers_with_one_charge(app, db, queue, monkeypatch):
    ticket = make_ticket("finance")

    def crash(req, result):
        raise RuntimeError("worker killed between the gateway's success and the commit")

    monkeypatch.setattr(jobs, "record_result", crash)
    services.request_payout(ticket.id, staff("finance"))
    work(queue)  # the job fails after the gateway paid
    assert counts(db, ticket) == (1, 0, 1)
    monkeypatch.undo()
    with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
        assert jobs.reconcile_payouts() == 1  # the periodic job finds it and queues it again
    work(queue)
    assert counts(db, ticket) == (1, 1, 1)
    payout = checks.payout_for(ticket.id)
    assert payout.status == "succeeded" and db.session.get(Ticket, ticket.id).state == "paid"


def test_two_approvals_on_one_order_then_pays_never_exceed_it(app, db, queue):
    from app.errors import Invalid
    from app.workflow.service import apply_event

    first = make_ticket("review", amount_cents=7_000)
    second = make_ticket("review", order=first.order, amount_cents=7_000, kind="invalid_card")
    db.session.commit()
    ids = (first.id, second.id)

    def approve(i):
        with app.app_context():
            from app.extensions import db as _db

            ticket = _db.session.get(Ticket, ids[i])
            try:
                apply_event(ticket, "approve", staff("manager"), amount_cents=7_000)
                services.request_payout(ticket.id, staff("finance"))
                return "paid-queued"
            except Invalid:
                return "refused"

    counter = iter(range(2))
    lock = threading.Lock()

    def next_approve():
        with lock:
            i = next(counter)
        return approve(i)

    outcomes = run_at_once([next_approve] * 2)
    assert sorted(outcomes) == ["paid-queued", "refused"], outcomes
    work(queue)
    db.session.expire_all()
    total = db.session.scalar(select(func.sum(Payout.amount_cents)).where(Payout.status == "succeeded"))
    assert total == 7_000
