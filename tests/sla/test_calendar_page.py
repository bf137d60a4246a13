"""The business-calendar admin page (/sla/calendar): admins and managers add dates; deadlines follow."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from tests.factories import make_ticket, make_user

SH = ZoneInfo("Asia/Shanghai")


def cst(*a):
    return datetime(*a, tzinfo=SH)


def test_calendar_page_adds_and_removes_dates_and_changes_deadlines(client, auth, app):
    from tests.helpers import csrf_token

    auth.login(make_user("admin", email="admin.cal@example.com"))
    page = client.get("/sla/calendar")
    assert page.status_code == 200
    resp = client.post(
        "/sla/calendar",
        data={"day": "2026-11-24", "kind": "holiday", "note": "outing", "csrf_token": csrf_token(page)},
    )
    assert resp.status_code == 302
    assert "2026-11-24" in client.get("/sla/calendar").get_data(as_text=True)
    with time_machine.travel(cst(2026, 11, 23, 10, 0), tick=False):
        ticket = make_ticket("review")  # Mon 8h, Tue off, Wed 9h, Thu 1h
    assert ticket.sla_due_at.astimezone(SH) == cst(2026, 11, 26, 10, 0)
    page = client.get("/sla/calendar")
    assert (
        client.post("/sla/calendar/remove", data={"day": "2026-11-24", "csrf_token": csrf_token(page)}).status_code
        == 302
    )
    assert "outing" not in client.get("/sla/calendar").get_data(as_text=True)
    assert client.post("/sla/calendar", data={"day": "2026-11-25", "kind": "holiday"}).status_code == 400


def test_calendar_page_is_for_admins_and_managers(client, auth, app):
    auth.login(make_user("agent", email="agent.cal@example.com"))
    assert client.get("/sla/calendar").status_code == 403


def test_the_old_dashboard_address_redirects_to_the_calendar_page(client, auth, app):
    auth.login(make_user("manager", email="manager.cal@example.com"))
    resp = client.get("/dashboard/calendar")
    assert resp.status_code == 301 and resp.headers["Location"].endswith("/sla/calendar")
    assert client.get("/dashboard/calendar", follow_redirects=True).status_code == 200
