"""The agent queue by urgency (API and the SLA partials)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from flask import render_template_string

from tests.factories import make_ticket, staff
from tests.helpers import walk_pages

SH = ZoneInfo("Asia/Shanghai")


def cst(*a):
    return datetime(*a, tzinfo=SH)


def _seed():
    """Tickets with different deadlines, created in an order unlike their urgency."""
    out = {}
    with time_machine.travel(cst(2026, 11, 23, 9, 0), tick=False):
        out["no_clock"] = make_ticket("withdrawn")  # no clock: last
        out["review_mon"] = make_ticket("review")  # due Wed 25 09:00
    with time_machine.travel(cst(2026, 11, 24, 9, 0), tick=False):
        out["first_tue"] = make_ticket("submitted")  # due Tue 24 13:00 (breached first)
        out["evidence"] = make_ticket("evidence")  # paused: no deadline, with the rest
    with time_machine.travel(cst(2026, 11, 25, 11, 0), tick=False):
        out["first_wed"] = make_ticket("submitted")  # due Wed 25 15:00
        out["review_wed"] = make_ticket("review")  # due Fri 27 11:00
    return out


def test_queue_is_ordered_by_urgency_and_breached_filter_returns_breached_only(client, api, app):
    t = _seed()
    h = api.headers(staff("agent"))
    with time_machine.travel(cst(2026, 11, 25, 12, 0), tick=False):
        items = client.get("/api/v1/tickets", headers=h).json["items"]
        breached = client.get("/api/v1/tickets?sla=breached", headers=h).json["items"]
    with time_machine.travel(cst(2026, 11, 25, 14, 30), tick=False):  # first_wed passed 75 % at 14:00
        warning = client.get("/api/v1/tickets?sla=warning", headers=h).json["items"]
    assert [i["ref"] for i in items] == [
        t[k].ref for k in ("first_tue", "review_mon", "first_wed", "review_wed", "no_clock", "evidence")
    ]
    assert [i["ref"] for i in breached] == [t["first_tue"].ref, t["review_mon"].ref]
    assert all(i["sla"]["status"] == "breached" for i in breached)
    assert [i["ref"] for i in warning] == [t["first_wed"].ref]
    assert warning[0]["sla"]["status"] == "warning"


def test_cursor_walks_every_ticket_once_across_deadlines_and_no_deadline(client, api, app):
    t = _seed()
    h = api.headers(staff("agent"))
    with time_machine.travel(cst(2026, 11, 25, 12, 0), tick=False):
        seen, _pages = walk_pages(client, h, limit=2)
    assert len(seen) == len(set(seen)) == len(t)
    assert seen[:4] == [t[k].ref for k in ("first_tue", "review_mon", "first_wed", "review_wed")]


def test_cursor_with_equal_deadlines_and_creation_times(client, api, app):
    with time_machine.travel(cst(2026, 11, 24, 9, 0), tick=False):
        same = [make_ticket("submitted").ref for _ in range(5)] + [make_ticket("withdrawn").ref for _ in range(3)]
    h = api.headers(staff("agent"))
    seen, _pages = walk_pages(client, h, limit=3)
    assert seen == same  # equal deadline and time: by id; then the ones without a clock
    assert client.get("/api/v1/tickets?cursor=WyJ4Il0", headers=h).status_code == 422


def test_badge_and_tracker_partials(app):
    with time_machine.travel(cst(2026, 11, 25, 11, 0), tick=False):
        first = make_ticket("submitted")
        ev = make_ticket("evidence")
    badge = "{% include 'sla/_badge.html' %}"
    eta = "{% include 'sla/_tracker_eta.html' %}"
    with app.test_request_context("/?lang=en"), time_machine.travel(cst(2026, 11, 25, 12, 0), tick=False):
        assert "3h 00m left" in render_template_string(badge, ticket=first)
        assert "First response" in render_template_string(badge, ticket=first)
        assert "Expected to be done by Nov 25, 15:00" in render_template_string(eta, ticket=first)
        assert "clock is paused" in render_template_string(eta, ticket=ev)
        assert "Dec 2, 11:00" in render_template_string(eta, ticket=ev)
    with app.test_request_context("/?lang=en"), time_machine.travel(cst(2026, 11, 26, 10, 0), tick=False):
        html = render_template_string(badge, ticket=first)
        assert "overdue by 4h 00m" in html and "sla-breached" in html
        assert "late" in render_template_string(eta, ticket=first)
