"""`flask calendar …`: the admin dates of the business calendar (wired in create_app)."""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy import select

from app.extensions import db
from app.sla.clock import get_calendar, remove_business_date, set_business_date
from app.sla.models import BusinessDate

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
    row = set_business_date(_day(day), "holiday", note)
    click.echo(f"{row.day} is now a holiday")


@calendar_cli.command("add-workday")
@click.argument("day")
@click.option("--note", default="")
def add_workday_cmd(day: str, note: str) -> None:
    """Declare DAY (YYYY-MM-DD) a working day (e.g. a 调休 Saturday the packages do not know)."""
    row = set_business_date(_day(day), "workday", note)
    click.echo(f"{row.day} is now a working day")


@calendar_cli.command("remove")
@click.argument("day")
def remove_cmd(day: str) -> None:
    """Forget an admin date (the holiday packages decide again)."""
    click.echo("removed" if remove_business_date(_day(day)) else "no such date")


@calendar_cli.command("list")
def list_cmd() -> None:
    """List the admin dates."""
    for row in db.session.scalars(select(BusinessDate).order_by(BusinessDate.day)):
        click.echo(f"{row.day} {row.kind} {row.note}")


@calendar_cli.command("check")
@click.argument("day")
def check_cmd(day: str) -> None:
    """Say whether DAY is a working day for the SLA clock."""
    d = _day(day)
    click.echo(f"{d} {'workday' if get_calendar().is_workday(d) else 'day off'}")
