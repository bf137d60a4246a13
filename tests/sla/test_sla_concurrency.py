"""Two sweeps at once notify once per threshold (PostgreSQL, separate sessions; real Redis)."""

from __future__ import annotations

import os
import threading
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.notifications.models import Notification
from app.sla import sweep as sla_jobs
from app.tickets.models import Ticket
from tests.conftest import on_postgres
from tests.factories import make_ticket, staff

SH = ZoneInfo("Asia/Shanghai")
START, LATER = datetime(2026, 11, 23, 10, 0, tzinfo=SH), datetime(2026, 11, 26, 10, 0, tzinfo=SH)
N = 24


def _seed() -> list[int]:
    managers = [staff("manager")]
    with time_machine.travel(START, tick=False):
        ids = [make_ticket("review").id for _ in range(N)]
    return ids, managers


def _in_threads(app, fn, n=2) -> list:
    barrier, results, errors = threading.Barrier(n), [None] * n, []

    def run(i):
        try:
            with app.app_context():
                barrier.wait()
                results[i] = fn()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def _next_tick() -> dict:
    """The next periodic sweep. Concurrent sweeps skip rows the other has locked (SKIP LOCKED),
    possibly for another threshold, so a row may be left to the next tick: never marked twice."""
    db.session.expire_all()
    return sla_jobs.sweep_sla(LATER)


def _assert_once(ids, managers) -> None:
    db.session.expire_all()
    got = Counter((n.kind, n.ticket_id, n.user_id) for n in db.session.scalars(select(Notification)))
    for tid in ids:
        for m in managers:
            assert got[("sla_warning", tid, m.id)] == 1
            assert got[("sla_breach", tid, m.id)] == 1
    assert set(got.values()) == {1}
    assert {t.priority for t in db.session.scalars(select(Ticket).where(Ticket.id.in_(ids)))} == {1}


@pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL (run by `make test`)")
def test_two_concurrent_sweeps_on_postgres_notify_once(app, monkeypatch):
    ids, managers = _seed()
    monkeypatch.setattr(sla_jobs, "BATCH", 5)  # many small batches interleave
    results = _in_threads(app, lambda: sla_jobs.sweep_sla(LATER))
    results.append(_next_tick())
    assert sum(r["warned"] for r in results) == N and sum(r["breached"] for r in results) == N
    _assert_once(ids, managers)


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_TEST_URL"), reason="needs real Redis (REDIS_TEST_URL)")
def test_two_sweep_jobs_through_real_redis_notify_once(app, monkeypatch):
    from rq import Queue
    from rq.job import Job

    from app.jobs import enqueue, get_queue, redis_connection

    monkeypatch.setitem(app.config, "REDIS_URL", os.environ["REDIS_TEST_URL"])
    get_queue().empty()
    ids, managers = _seed()
    jobs = [enqueue("app.sla.sweep.sweep_sla") for _ in range(2)]
    conn = redis_connection()
    assert Queue("default", connection=conn).count == 2
    with time_machine.travel(LATER, tick=False):
        fetched = [Job.fetch(j.id, connection=conn) for j in jobs]
        it = iter(fetched)
        lock = threading.Lock()

        def perform():
            with lock:
                job = next(it)
            return job.perform()

        # two workers at once need separate connections: PostgreSQL (SQLite in memory shares one)
        results = _in_threads(app, perform) if on_postgres() else [perform(), perform()]
    get_queue().empty()
    results.append(_next_tick())
    assert sum(r["breached"] for r in results) == N
    _assert_once(ids, managers)


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_TEST_URL"), reason="needs real Redis (REDIS_TEST_URL)")
def test_two_schedulers_enqueue_each_cron_slot_once(app, monkeypatch):
    from datetime import timedelta

    from app.jobs import PERIODIC, enqueue_due_periodic, get_queue, redis_connection, schedule_periodic

    monkeypatch.setitem(app.config, "REDIS_URL", os.environ["REDIS_TEST_URL"])
    conn = redis_connection()
    get_queue().empty()
    for key in conn.scan_iter("refundesk:periodic:*"):
        conn.delete(key)
    a, b = schedule_periodic(conn, start_thread=False), schedule_periodic(conn, start_thread=False)
    assert {j.name for j in a.get_jobs()} >= {"sla_sweep", "send_due_emails"}
    slot = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    for s in (a, b):
        for job in s.get_jobs():
            job.next_enqueue_time = slot
    first, second = enqueue_due_periodic(a), enqueue_due_periodic(b)
    assert sorted(first) == sorted(n for n, _, _ in PERIODIC) and second == []
    assert get_queue().count == len(PERIODIC)
    assert all(j.next_enqueue_time > slot for j in a.get_jobs())
    get_queue().empty()
