"""An admin on a phone (Chromium, 390 px wide): creates an account, disables it, issues a token,
reads the audit log — and no page scrolls sideways."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import browser, live, shots  # noqa: F401  (the live server and Chromium)
from tests.factories import PASSWORD, make_user


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_admin_works_from_a_phone(browser, live, shots):  # noqa: F811
    with live.app.app_context():
        admin = make_user("admin", email="phone-admin@example.com")
        make_user("platform", email="shop-client@example.com")
        email = admin.email
        db.session.remove()
    ctx = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(live("/login"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")

    page.click("header nav >> text=用户")
    page.fill("#new-email", "phone-made@example.com")
    page.select_option("#new-role", "finance")
    page.click("#new-user input[type=submit]")
    expect(page.locator("h1")).to_have_text("账号已创建")
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", page.locator("#secret").inner_text())
    assert no_sideways_scroll(page)
    page.click("text=完成")
    expect(page.locator(".facts")).to_contain_text("财务")

    page.once("dialog", lambda d: d.accept())
    page.click("text=停用账号")
    expect(page.locator(".flash")).to_contain_text("已停用")
    assert no_sideways_scroll(page)
    page.screenshot(path=str(shots / "admin-user-phone.png"), full_page=True)

    page.click(".admin-tabs >> text=API 令牌")
    page.fill("#label", "商城正式环境")
    page.click("#new-token input[type=submit]")
    expect(page.locator("h1")).to_have_text("API 令牌已创建")
    page.click("text=完成")
    expect(page.locator("body")).to_contain_text("商城正式环境")
    assert no_sideways_scroll(page)

    page.click(".admin-tabs >> text=审计日志")
    # a click does not wait for the page it opens: the token list is also an .admin-list
    page.wait_for_url("**/admin/audit*")
    rows = page.locator(".admin-list li").all_inner_texts()
    assert [r for r in rows if "API 令牌已创建" in r] and [r for r in rows if "账号已停用" in r]
    assert [r for r in rows if "账号已创建" in r and "phone-made@example.com" in r]
    assert no_sideways_scroll(page)
    page.screenshot(path=str(shots / "admin-audit-phone.png"), full_page=True)
    for path in ("/admin/users", "/admin/tokens"):
        page.goto(live(path))
        assert no_sideways_scroll(page), path
    ctx.close()
