"""Staff tables on a phone (Chromium, zh, 390 px): the merchants list and the incidents table are
one card per row (table.card-rows), so the page does not scroll sideways and the row's link or
action is on the screen. UPDATE_SCREENSHOTS=1 writes docs/screenshots/merchants-phone.png and
incidents-phone.png."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.types import utcnow
from app.workflow import incidents
from tests.browser.test_journey import _login
from tests.factories import make_order, make_user

pytestmark = pytest.mark.browser

LABEL = "el => getComputedStyle(el, '::before').content"


def _on_screen(locator) -> bool:
    box = locator.bounding_box()
    return bool(box) and box["x"] >= 0 and box["x"] + box["width"] <= 390


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[1] == 390 and width[0] <= width[1], width
    assert page.locator("table.rows thead").is_hidden()


def test_merchants_list_on_a_phone_does_not_scroll_sideways(browser, live, shots):
    with live.app.app_context():
        make_user("admin", email="phone-merchants@example.com")
        make_order()  # merchant M1, Star Cards
        db.session.remove()
    page = _login(browser, live, "phone-merchants@example.com", "zh", phone=True)
    page.goto(live("/merchants"))
    _no_sideways_scroll(page)
    row = page.locator('tr[data-merchant="M1"]')
    assert row.locator("td.num").nth(3).evaluate(LABEL) == '"保证金"'  # each cell a labelled line
    link = row.get_by_role("link", name="Star Cards")
    assert _on_screen(link)
    page.screenshot(path=str(shots / "merchants-phone.png"), full_page=True)
    with page.expect_navigation():
        link.click()
    assert page.url.endswith("/merchants/M1")
    page.context.close()


def test_incidents_table_on_a_phone_does_not_scroll_sideways(browser, live, shots):
    with live.app.app_context():
        admin = make_user("admin", email="phone-incidents@example.com")
        incident = incidents.declare_incident(
            utcnow() - timedelta(hours=2), None, ["game_card"], "点卡供应商故障，充值未到账", admin
        )
        incident_id = incident.id
        db.session.remove()
    page = _login(browser, live, "phone-incidents@example.com", "zh", phone=True)
    page.goto(live("/finance/incidents"))
    _no_sideways_scroll(page)
    row = page.locator(f'tr[data-incident="{incident_id}"]')
    assert "游戏点卡" in row.inner_text()
    assert row.locator("td").nth(3).evaluate(LABEL) == '"受影响的商品类型"'
    button = row.locator("form button[type=submit]")
    assert _on_screen(button) and _on_screen(row.locator("input[name=ends_at]"))
    page.screenshot(path=str(shots / "incidents-phone.png"), full_page=True)
    page.context.close()
