"""Wire the SLA feature into the app: periodic jobs, template helpers, notifications page,
`flask calendar ...` commands and, without Redis, an in-process sweep thread.

Templates call `sla_view(ticket)` (see app/templates/sla/_badge.html and _tracker_eta.html).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime

import click
from flask import Flask
from flask_babel import format_datetime
from flask_babel import gettext as _

from app.jobs import PERIODIC, register_periodic, run_in_app
from app.sla import clock as sla
from app.types import utcnow

log = logging.getLogger(__name__)

SWEEP_JOBS = (
    ("sla_sweep", "app.sla.sweep.sweep_sla", "* * * * *"),
    ("send_due_emails", "app.notifications.jobs.send_due_emails", "* * * * *"),
)


def duration_text(seconds: int | None) -> str:
    seconds = max(0, int(seconds or 0))
    h, m = seconds // 3600, (seconds % 3600) // 60
    return _("%(h)dh %(m)02dm", h=h, m=m) if h else _("%(m)dm", m=m)


def short_time(dt: datetime | None) -> str:
    return format_datetime(dt, _("MMM d, HH:mm")) if dt else ""


@dataclass
class SlaView:
    status: str  # none | ok | warning | breached
    metric: str | None
    metric_label: str
    paused: bool
    due_at: datetime | None
    evidence_due_at: datetime | None
    left: str  # business time left, e.g. "3h 20m" ("" when none / overdue)
    overdue: str  # business time overdue ("" unless breached)


def sla_view(ticket, now: datetime | None = None) -> SlaView:
    now = now or utcnow()
    st = sla.sla_status(ticket, now)
    paused = st["paused"]
    return SlaView(
        status=st["status"],
        metric=ticket.sla_metric,
        metric_label=sla.metric_label(ticket.sla_metric),
        paused=paused,
        due_at=ticket.sla_due_at,
        evidence_due_at=ticket.evidence_due_at if paused else None,
        left=duration_text(st["business_seconds_left"]) if st["business_seconds_left"] is not None else "",
        overdue=duration_text(st["business_seconds_overdue"]) if st["business_seconds_overdue"] is not None else "",
    )


# ---------------------------------------------------------------- calendar CLI

calendar_cli = click.Group("calendar", help="Business calendar: dates an admin adds on top of the holiday data.")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD")


@calendar_cli.command("add-holiday")
@click.argument("day")
@click.option("--note", default="")
def add_holiday_cmd(day: str, note: str) -> None:
    """Declare DAY (YYYY-MM-DD) a day off."""
    row = sla.set_business_date(_day(day), "holiday", note)
    click.echo(f"{row.day} is now a holiday")


@calendar_cli.command("add-workday")
@click.argument("day")
@click.option("--note", default="")
def add_workday_cmd(day: str, note: str) -> None:
    """Declare DAY (YYYY-MM-DD) a working day (e.g. a 调休 Saturday the packages do not know)."""
    row = sla.set_business_date(_day(day), "workday", note)
    click.echo(f"{row.day} is now a working day")


@calendar_cli.command("remove")
@click.argument("day")
def remove_cmd(day: str) -> None:
    """Forget an admin date (the holiday packages decide again)."""
    click.echo("removed" if sla.remove_business_date(_day(day)) else "no such date")


@calendar_cli.command("list")
def list_cmd() -> None:
    """List the admin dates."""
    from sqlalchemy import select

    from app.extensions import db
    from app.sla.models import BusinessDate

    for row in db.session.scalars(select(BusinessDate).order_by(BusinessDate.day)):
        click.echo(f"{row.day} {row.kind} {row.note}")


@calendar_cli.command("check")
@click.argument("day")
def check_cmd(day: str) -> None:
    """Say whether DAY is a working day for the SLA clock."""
    d = _day(day)
    click.echo(f"{d} {'workday' if sla.get_calendar().is_workday(d) else 'day off'}")


# ---------------------------------------------------------------- in-process sweep


def _sweep_forever(app: Flask) -> None:
    interval = max(5, app.config["SLA_SWEEP_SECONDS"])
    while True:
        for name, path, _cron in list(PERIODIC):
            try:
                with app.app_context():
                    run_in_app(path)
            except Exception:  # keep sweeping; the next round retries
                log.exception("in-process periodic job %s failed", name)
        time.sleep(interval)


def _install_inprocess_sweep(app: Flask) -> None:
    """Without Redis (`make run`), sweep from a daemon thread of the serving process.

    Started by the first request, so CLI commands and workers never start it; several web
    processes sweeping at once is safe (every mark is a conditional UPDATE).
    """
    if app.config.get("REDIS_URL") or app.config.get("TESTING") or not app.config.get("SLA_INPROCESS_SWEEP"):
        return
    guard = threading.Lock()
    started: list[threading.Thread] = []

    @app.before_request
    def _start_sla_sweep():
        if started:
            return
        with guard:
            if not started:
                started.append(threading.Thread(target=_sweep_forever, args=(app,), name="sla-sweep", daemon=True))
                started[0].start()
                log.info("in-process SLA sweep every %ss (REDIS_URL unset)", app.config["SLA_SWEEP_SECONDS"])


def init_app(app: Flask) -> None:
    for name, path, cron in SWEEP_JOBS:
        register_periodic(name, path, cron)
    app.jinja_env.globals.update(sla_view=sla_view, sla_short_time=short_time)
    if "notifications" not in app.blueprints:
        from app.notifications.views import bp as notifications_bp

        app.register_blueprint(notifications_bp)
    if "calendar" not in app.cli.commands:
        app.cli.add_command(calendar_cli)
    _install_inprocess_sweep(app)
