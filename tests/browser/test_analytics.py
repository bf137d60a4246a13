"""The managers' analytics page in a real browser: KPI tiles, and charts drawn by ECharts served
from static/ (never a CDN) — a chart that failed to load would leave its box empty."""

from __future__ import annotations

import pytest

from app.analytics.jobs import rollup_analytics
from app.extensions import db
from tests.browser.test_journey import _login
from tests.factories import make_order, make_ticket, make_user

pytestmark = pytest.mark.browser


def test_the_analytics_page_draws_its_charts(browser, live, shots):
    with live.app.app_context():
        manager = make_user("manager", email="analytics-manager@example.com")
        for kind in ("invalid_card", "invalid_card", "not_delivered", "duplicate_charge"):
            make_ticket("submitted", order=make_order(make_user("customer")), kind=kind)
        rollup_analytics()
        email = manager.email
        db.session.remove()
    page = _login(browser, live, email, "zh")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(live("/analytics/"))
    page.wait_for_function("document.querySelectorAll('#trend-chart canvas, #trend-chart svg').length > 0")
    assert int(page.locator(".kpis li").first.locator(".kpi-value").inner_text()) >= 4  # open now
    drawn = page.evaluate(
        "[...document.querySelectorAll('[data-breakdown]')].filter(e => e.querySelector('canvas, svg')).length"
    )
    assert drawn >= 1
    tables = page.locator("main").inner_text()
    assert "支付宝" in tables and "卡密" in tables and "alipay" not in tables  # values by their names, not codes
    assert all(u.startswith(live.url) for u in requests), [u for u in requests if not u.startswith(live.url)]
    page.screenshot(path=str(shots / "analytics-zh.png"), full_page=True)
    page.context.close()
