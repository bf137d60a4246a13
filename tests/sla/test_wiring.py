"""Wiring: the periodic table, the inline runner of `make run`, the calendar commands."""

from __future__ import annotations

import threading

from app import jobs
from app.jobs import PERIODIC, schedule_periodic
from tests.conftest import make_app


def test_sweep_and_mail_jobs_are_in_the_periodic_table(app):
    names = {n: (path, cron) for n, path, cron in PERIODIC}
    assert names["sla_sweep"] == ("app.sla.sweep.sweep_sla", "* * * * *")
    assert names["send_due_emails"][0] == "app.notifications.jobs.send_due_emails"
    assert schedule_periodic() is None  # no Redis: nothing to schedule, the web process runs them inline


def _join_runners() -> None:
    for t in threading.enumerate():
        if t.name == "periodic-inline":
            t.join(5)


def test_inline_periodic_jobs_start_once_with_the_first_request_without_redis(monkeypatch):
    started = []
    monkeypatch.setattr(jobs, "_run_forever", lambda app: started.append(app))

    app = make_app(REFUNDESK_ENV="development")  # a serving process, not the test suite
    client = app.test_client()
    client.get("/login")
    client.get("/login")
    _join_runners()
    assert started == [app]

    started.clear()
    make_app(REFUNDESK_ENV="development", REDIS_URL="redis://127.0.0.1:6379/0").test_client().get("/login")
    make_app().test_client().get("/login")
    _join_runners()
    assert started == []


def test_calendar_check_command(runner):
    assert "day off" in runner.invoke(args=["calendar", "check", "2026-10-01"]).output  # 国庆
    assert "workday" in runner.invoke(args=["calendar", "check", "2026-10-10"]).output  # 调休 Saturday
