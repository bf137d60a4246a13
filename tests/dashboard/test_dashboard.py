"""Manager dashboard: managers only, breaches now (longest overdue first), stats, CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from app.extensions import db
from app.sla.clock import metric_label
from app.workflow.service import apply_event
from tests.factories import make_ticket, make_user, staff

SH = ZoneInfo("Asia/Shanghai")


def cst(*a):
    return datetime(*a, tzinfo=SH)


@pytest.mark.parametrize("role", ["customer", "agent", "finance", "admin"])
def test_dashboard_is_for_managers_only(client, auth, app, role):
    auth.login(make_user(role, email=f"{role}.dash@example.com"))
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/breaches.csv").status_code == 403


def test_dashboard_needs_login(client, app):
    assert client.get("/dashboard/").status_code in (302, 401)


def _manager():
    return make_user("manager", email="manager.dash@example.com")


def _seed():
    agent = staff("agent")
    with time_machine.travel(cst(2026, 11, 23, 10, 0), tick=False):
        late_review = make_ticket("review")  # due Wed 25 10:00
        late_review.assignee_id = agent.id
        db.session.commit()
    with time_machine.travel(cst(2026, 11, 24, 10, 0), tick=False):
        late_first = make_ticket("submitted", kind="invalid_card")  # due Tue 24 14:00
        on_time = make_ticket("review")  # due Thu 26 10:00
        apply_event(on_time, "approve", agent)  # met at once
    return late_review, late_first, on_time


def test_breaches_now_longest_overdue_first_with_metric_and_csv(client, auth, app):
    late_review, late_first, on_time = _seed()
    with time_machine.travel(cst(2026, 11, 25, 12, 0), tick=False):
        auth.login(_manager())  # a session signed "later" than the travelled-to now would be refused
        page = client.get("/dashboard/?start=2026-11-20&end=2026-11-26")
        csv_resp = client.get("/dashboard/breaches.csv")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index(late_first.ref) < html.index(late_review.ref)
    assert "<svg" in html and "stats-merchant" in html
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    assert "attachment" in csv_resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["ref"], r["metric"]) for r in rows] == [
        (late_first.ref, "first_response"),
        (late_review.ref, "review_decision"),
        (on_time.ref, "payout"),
    ]  # approved Tue, unpaid
    # first response due Tue 14:00 → Tue 4h + Wed 3h = 7 business hours overdue at Wed 12:00
    assert rows[0]["overdue_business_hours"] == "7.00" and rows[0]["due_at"] == "2026-11-24 14:00"
    assert rows[1]["overdue_business_hours"] == "2.00" and rows[1]["assignee"] == staff("agent").email


def test_stats_breach_rate_and_times_per_stage(app):
    from app.dashboard.services import stats

    _seed()
    data = stats(cst(2026, 11, 20).date(), cst(2026, 11, 26).date(), cst(2026, 11, 25, 12, 0))
    by_stage = {g.label: g for g in data["groups"]["stage"]}
    first, review = by_stage[metric_label("first_response")], by_stage[metric_label("review_decision")]
    # three first responses: two met at once (make_ticket → review), one breached and still open
    assert (first.total, first.breached) == (3, 1)
    assert (review.total, review.breached) == (2, 1)  # late review (open) + on_time (met)
    assert review.median == 0.0 and first.p90 == 0.0
    assert data["totals"].total == 6 and data["totals"].breached == 3  # + the payout, due Wed 10:00
    assert by_stage[metric_label("payout")].breached == 1
    trend = {d.isoformat(): (s, b) for d, s, b in data["trend"]}
    assert trend["2026-11-23"] == (2, 0) and trend["2026-11-24"] == (4, 1) and trend["2026-11-25"] == (0, 2)


def test_bad_range_is_a_clear_error(client, auth, app):
    auth.login(_manager())
    assert client.get("/dashboard/?start=2026-13-01").status_code == 422
    assert client.get("/dashboard/?start=2026-11-26&end=2026-11-01").status_code == 422


def test_csv_cells_cannot_start_formulas(app):
    from app.dashboard.services import _csv_safe

    assert _csv_safe("=cmd()") == "'=cmd()" and _csv_safe("RD1") == "RD1"


def test_the_breach_list_links_to_its_tickets_on_the_desktop_width(client, auth, app):
    late_review, late_first, _ = _seed()
    with time_machine.travel(cst(2026, 11, 25, 12, 0), tick=False):
        auth.login(_manager())
        html = client.get("/dashboard/?start=2026-11-20&end=2026-11-26").get_data(as_text=True)
        for t in (late_first, late_review):
            assert f'<a class="ref" href="/tickets/{t.ref}">{t.ref}</a>' in html
            assert client.get(f"/tickets/{t.ref}").status_code == 200
        assert '<main class="wide">' in html
        assert f'href="/merchants/{late_first.order.merchant.code}"' in html
