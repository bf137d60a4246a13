"""Wiring: the periodic table, the inline runner of `make run`, the calendar commands."""

from __future__ import annotations

import threading

from app import create_app, jobs
from app.config import TestConfig
from app.jobs import PERIODIC, schedule_periodic


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

    class ServeConfig(TestConfig):
        TESTING = False

    app = create_app(ServeConfig)
    client = app.test_client()
    client.get("/login")
    client.get("/login")
    _join_runners()
    assert started == [app]

    class RedisConfig(ServeConfig):
        REDIS_URL = "redis://127.0.0.1:6379/0"

    started.clear()
    create_app(RedisConfig).test_client().get("/login")
    create_app(TestConfig).test_client().get("/login")
    _join_runners()
    assert started == []


def test_calendar_check_command(runner):
    assert "day off" in runner.invoke(args=["calendar", "check", "2026-10-01"]).output  # 国庆
    assert "workday" in runner.invoke(args=["calendar", "check", "2026-10-10"]).output  # 调休 Saturday
