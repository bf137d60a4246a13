"""Finance and admin in a real browser (Chromium, zh): finance filters the desk, pays two tickets
in one bulk submit and retries a declined payout on the platform balance, and pays from a phone;
an admin tops up a merchant's deposit, suspends it and declares an incident for all product types
— then finds it all in the audit log and filters it. UPDATE_SCREENSHOTS=1 writes
docs/screenshots/finance-desk.png, finance-desk-phone.png, admin-merchant.png,
admin-incidents.png, admin-audit.png and admin-users.png."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.payouts import services as payouts
from app.payouts.models import Payout
from app.tickets.models import Ticket
from tests.browser.test_journey import _login
from tests.factories import make_order, make_ticket, make_user

pytestmark = pytest.mark.browser


def test_finance_bulk_pays_and_retries_a_decline_on_the_balance(browser, live, shots):
    with live.app.app_context():
        finance = make_user("finance", email="desk-finance@example.com")
        declined = make_ticket("finance", order=make_order(amount_cents=8_800, product_name="Steam ¥88"))
        live.app.config["PAYOUT_SIM_DECLINE_RATE"] = 1.0
        payouts.request_payout(declined.id, finance)
        live.app.config["PAYOUT_SIM_DECLINE_RATE"] = 0.0
        first = make_ticket("finance", order=make_order(amount_cents=12_000, payment_channel="wechat"))
        second = make_ticket("finance", order=make_order(amount_cents=30_050))
        refs = declined.ref, first.ref, second.ref
        ids = declined.id, first.id, second.id
        db.session.remove()
    page = _login(browser, live, "desk-finance@example.com", "zh")
    with page.expect_navigation():  # finance lands on the desk: the link opens the same page again
        page.click("header nav >> text=财务台")
    assert "待付 3 个工单，共 ¥508.50" in page.locator("#desk-totals").inner_text()
    row = page.locator(f'tr[data-ref="{refs[0]}"]')
    assert "已拒绝：收款账户拒绝了这笔转账。" in row.inner_text()
    assert row.locator("input[name=ref]").count() == 0  # a failed payout is retried on its own
    assert row.locator("select[name=channel] option").all_inner_texts() == ["平台余额"]  # alipay declined it

    page.select_option("#filter-channel", "wechat")
    page.click("#desk-filters button[type=submit]")
    page.wait_for_url("**/finance/?channel=wechat*")  # a click does not wait: the desk before it has 3 rows
    assert page.locator("tr[data-ref]").count() == 1 and "共 ¥120.00" in page.locator("#desk-totals").inner_text()
    page.click("#desk-filters >> text=清除")
    page.wait_for_url("**/finance/")
    assert page.locator("tr[data-ref]").count() == 3

    for ref in refs[1:]:
        page.check(f'tr[data-ref="{ref}"] input[name=ref]')
    page.screenshot(path=str(shots / "finance-desk.png"), full_page=True)
    sent = page.evaluate("() => new URLSearchParams(new FormData(document.getElementById('bulk-pay'))).toString()")
    with page.expect_navigation():  # the desk again
        page.click("#bulk-pay-button")
    flash = page.locator(".flash").first.inner_text()
    assert "已为 2 个工单发起打款" in flash and refs[1] in flash and refs[2] in flash
    # the same form sent again (a double submit from a stale tab): nothing is paid twice
    status = page.evaluate(
        """body => fetch('/finance/bulk-pay', {method: 'POST', body, redirect: 'manual',
             headers: {'Content-Type': 'application/x-www-form-urlencoded'}}).then(r => r.type)""",
        sent,
    )
    assert status == "opaqueredirect"
    page.goto(live("/finance/"))
    flashes = page.locator(".flash").all_inner_texts()
    assert sum("未发起打款" in f for f in flashes) == 2 and not [f for f in flashes if "已为" in f]

    with page.expect_navigation():  # the desk again: the one being left has flashes of its own
        page.locator(f'tr[data-ref="{refs[0]}"] .retry-form button').click()
    assert "已打款" in page.locator(".flash").first.inner_text()
    assert page.locator("tr[data-ref]").count() == 0 and "待付 0 个工单" in page.locator("#desk-totals").inner_text()
    with live.app.app_context():
        assert db.session.scalar(select(func.count(Payout.id)).where(Payout.ticket_id.in_(ids))) == 3
        assert {db.session.get(Ticket, i).state for i in ids} == {"paid"}
        assert db.session.scalar(select(Payout.channel).where(Payout.ticket_id == ids[0])) == "balance"
        db.session.remove()
    page.context.close()


def test_admin_tops_up_suspends_and_declares_an_incident(browser, live, shots):
    with live.app.app_context():
        make_user("admin", email="desk-admin@example.com")
        make_order()  # merchant M1, Star Cards
        db.session.remove()
    page = _login(browser, live, "desk-admin@example.com", "zh")
    # a click does not wait for the page it opens: each step waits for its page
    page.click("header nav >> text=用户")
    page.wait_for_url("**/admin/users")
    page.click(".admin-tabs >> text=商家")
    page.wait_for_url("**/merchants")
    page.click("text=Star Cards")
    page.wait_for_url("**/merchants/*")
    page.fill("#top-up input[name=amount]", "2000")
    page.fill("#top-up input[name=note]", "季度保证金")
    with page.expect_navigation():  # the same merchant page again
        page.click("#top-up button")
    assert "保证金已充值。" in page.locator(".flash").inner_text() and "¥2,000.00" in page.locator("main").inner_text()
    page.fill("form.standing-suspend input[name=reason]", "多次超时未答复")
    with page.expect_navigation():
        page.click("form.standing-suspend button")
    assert "多次超时未答复" in page.locator("main").inner_text()
    page.screenshot(path=str(shots / "admin-merchant.png"), full_page=True)

    page.click(".admin-tabs >> text=平台故障")
    page.wait_for_url("**/finance/incidents")  # the merchant page has a table.rows too
    head = page.locator("table.rows thead").inner_text()
    assert "开始时间（北京时间）" in head and "受影响的商品类型" in head and "首页" not in head
    page.fill("#starts_at", "2026-11-20T09:00")
    page.fill("#note", "支付通道故障，全部商品受影响")
    with page.expect_navigation():  # the incidents page again
        page.click("form.event-form button[type=submit]")  # no box ticked: all product types
    assert "全部商品类型" in page.locator("tr[data-incident]").first.inner_text()
    page.fill("#starts_at", "2026-11-21T09:00")
    page.fill("#note", "点卡供应商故障")
    page.check("input[value=game_card]")
    page.check("input[value=card_key]")
    with page.expect_navigation():  # the page being left lists the first incident on top
        page.click("form.event-form button[type=submit]")
    newest = page.locator("tr[data-incident]").first.inner_text()
    assert "游戏点卡" in newest and "全部商品类型" not in newest
    page.screenshot(path=str(shots / "admin-incidents.png"), full_page=True)

    page.click(".admin-tabs >> text=审计日志")
    page.wait_for_url("**/admin/audit*")
    log = page.locator(".admin-list").inner_text()
    assert "商家保证金已充值" in log and "¥2,000.00" in log and "商家已暂停" in log and log.count("故障已登记") == 2
    page.select_option("select[name=action]", label="商家已暂停")  # filter: one kind of action
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/admin/audit?*action=merchant_suspend*")
    rows = page.locator(".admin-list li").all_inner_texts()
    assert len(rows) == 1 and "多次超时未答复" in rows[0] and "M1" in rows[0]
    page.select_option("select[name=action]", index=0)
    page.click("form.filters button[type=submit]")
    page.wait_for_url(lambda url: "action=&" in url or url.endswith("action="))
    assert page.locator(".admin-list li").count() >= 4  # every action again: a top-up, a suspension, 2 incidents
    page.screenshot(path=str(shots / "admin-audit.png"), full_page=True)
    page.click(".admin-tabs >> text=用户")
    page.wait_for_url("**/admin/users")
    page.screenshot(path=str(shots / "admin-users.png"), full_page=True)
    page.context.close()


def test_finance_pays_from_a_phone_without_scrolling_sideways(browser, live, shots):
    with live.app.app_context():
        make_user("finance", email="phone-finance@example.com")
        tickets = [
            make_ticket("finance", order=make_order(amount_cents=c, product_name="王者荣耀 点券 1000"))
            for c in (9_900, 4_550)
        ]
        refs = [t.ref for t in tickets]
        db.session.remove()
    page = _login(browser, live, "phone-finance@example.com", "zh", phone=True)
    page.goto(live("/finance/"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # was 672: the table ran off the screen
    row = page.locator(f'tr[data-ref="{refs[0]}"]')
    assert "¥99.00" in row.locator("td.num").inner_text() and page.locator("table.rows thead").is_hidden()
    label = "el => getComputedStyle(el, '::before').content"
    assert row.locator("td.num").evaluate(label) == '"批准金额"'  # each cell a labelled line
    pay = row.locator("form[action$='/pay'] button")
    box = pay.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390  # the button is on the screen
    page.screenshot(path=str(shots / "finance-desk-phone.png"), full_page=True)
    with page.expect_navigation():
        pay.click()
    assert "已打款" in page.locator(".flash").first.inner_text()
    assert page.locator(f'tr[data-ref="{refs[0]}"]').count() == 0
    page.context.close()
