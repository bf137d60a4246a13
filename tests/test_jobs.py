"""`flask jobs list` / `flask jobs run NAME|--all`: the periodic-job table, run once by hand."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from app import jobs
from app.jobs import PERIODIC
from app.sla.models import SlaRecord
from tests.factories import make_ticket


def test_jobs_list_shows_every_periodic_job_with_its_schedule(runner):
    result = runner.invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == len(PERIODIC)
    for name, func, cron in PERIODIC:
        line = next(line for line in lines if line.split()[0] == name)
        assert func in line and cron in line


def test_jobs_run_name_runs_that_job_once_now(runner, app, db):
    ticket = make_ticket("review")
    record = db.session.query(SlaRecord).filter_by(ticket_id=ticket.id, metric="review_decision").one()
    assert record.breached_at is None
    with time_machine.travel(ticket.sla_due_at + timedelta(minutes=1), tick=False):
        result = runner.invoke(args=["jobs", "run", "sla_sweep"])
    assert result.exit_code == 0, result.output
    assert "sla_sweep: done" in result.output and "'breached': 1" in result.output
    db.session.expire_all()
    assert db.session.get(SlaRecord, record.id).breached_at is not None


def test_jobs_run_all_runs_every_job_and_reports_failures(runner, monkeypatch):
    ran = []

    def fake_run(name):
        ran.append(name)
        if name == "reconcile_payouts":
            raise RuntimeError("gateway down")
        return 0

    monkeypatch.setattr(jobs, "run_periodic", fake_run)
    result = runner.invoke(args=["jobs", "run", "--all"])
    assert ran == [job.name for job in PERIODIC]  # the others still ran
    assert result.exit_code == 1
    assert "reconcile_payouts: FAILED" in result.output and "gateway down" in result.output


def test_jobs_run_refuses_unknown_names_and_ambiguous_calls(runner):
    unknown = runner.invoke(args=["jobs", "run", "make_coffee"])
    assert unknown.exit_code == 2 and "sla_sweep" in unknown.output
    assert runner.invoke(args=["jobs", "run"]).exit_code == 2
    assert runner.invoke(args=["jobs", "run", "sla_sweep", "--all"]).exit_code == 2
