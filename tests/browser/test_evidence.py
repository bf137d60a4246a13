"""Evidence that is easy to send, in a real browser on a phone (zh and en): the new-ticket form's slots follow
the chosen kind, the files sent show on the tracker with thumbnails, a refused upload says so next to the
upload, an iPhone photo (HEIC) goes through with a progress bar, and an item sent at filing is not asked again."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.tickets.models import Ticket
from app.workflow.service import apply_event
from tests.browser.test_journey import PASSWORD, wait_until_logged_in
from tests.evidence.helpers import fake_pe, heic_bytes
from tests.factories import make_order, make_user, staff

pytestmark = pytest.mark.browser

TEXT = {
    "zh": {
        "file": "申请退款 / 投诉",
        "submit": "提交申请",
        "payment": "付款记录",
        "files": "您已发送的文件",
        "refused": "不支持此文件类型",
        "provided": "已提供",
        "needed": "仍需提供",
        "already": "已提交：pay.png",
    },
    "en": {
        "file": "Refund / complaint",
        "submit": "Submit request",
        "payment": "Payment record",
        "files": "Files you sent",
        "refused": "This file type is not accepted",
        "provided": "Provided",
        "needed": "Still needed",
        "already": "already sent: pay.png",
    },
}


def _png() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (360, 640), "#e8f0fe")
    ImageDraw.Draw(img).text((20, 300), "Alipay  -128.00  KM-EVIDENCE", fill="black")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _phone(browser, live, email: str, lang: str):
    """Logged in on a phone-sized page (scale 1: the screenshots stay small)."""
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN" if lang == "zh" else "en-US", has_touch=True
    )
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    page.goto(live("/login"))
    if lang == "en":
        page.click("a[lang=en]")
        page.wait_for_url("**/login?lang=en")  # the English login page has the same fields
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit], form input[type=submit]")
    wait_until_logged_in(page)
    return page


def _evidence(browser, live, shots, lang: str) -> None:
    t = TEXT[lang]
    with live.app.app_context():
        live.app.config["FAST_TRACK_ENABLED"] = False
        customer = make_user("customer", email=f"slots-{lang}@example.com")
        agent = make_user("agent", email=f"slots-agent-{lang}@example.com", locale="en")
        order = make_order(customer, product_name="Steam 钱包充值卡 ¥128", amount_cents=12_800)
        order_no, agent_email = order.order_no, agent.email
        db.session.remove()

    cust = _phone(browser, live, f"slots-{lang}@example.com", lang)
    cust.locator(f"li[data-order='{order_no}']").get_by_role("link", name=t["file"]).click()
    # a click does not wait for the page it opens: no slot group on the orders page would count as hidden
    cust.wait_for_url(f"**/orders/{order_no}/ticket*")
    slots = cust.locator("[data-evidence-slots]")
    assert slots.locator("[data-slots-pick-kind]").is_visible()  # no kind yet: no slots, a hint
    assert slots.locator(".slot-group:visible").count() == 0
    cust.check("input[value=not_delivered]")
    assert slots.locator(".slot-group:visible").count() == 1
    group = slots.locator(".slot-group[data-kind=not_delivered]")
    assert group.locator("input[type=file]").count() == 2 and t["payment"] in group.inner_text()
    cust.check("input[value=duplicate_charge]")  # the slots follow the kind
    assert slots.locator(".slot-group[data-kind=duplicate_charge]").is_visible() and not group.is_visible()
    cust.check("input[value=not_delivered]")
    cust.fill("#description", "付款成功但是没有收到卡密。" if lang == "zh" else "Paid, but no card key came.")
    group.locator("input[name='evidence-not_delivered-payment_record']").set_input_files(
        {"name": "pay.png", "mimeType": "image/png", "buffer": _png()}
    )
    if lang == "zh":
        slots.screenshot(path=str(shots / "new-ticket-slots-zh.png"))
    with cust.expect_navigation():
        cust.get_by_role("button", name=t["submit"]).click()
    cust.wait_for_url(re.compile(r"/tickets/RD[\w-]+$"))
    ref = cust.url.rsplit("/", 1)[-1]

    # The tracker lists the file sent, with its thumbnail.
    files = cust.locator("section.my-files")
    assert t["files"] in files.inner_text() and "pay.png" in files.inner_text()
    files.locator("img").first.wait_for()
    assert files.locator("img").first.evaluate("i => i.complete && i.naturalWidth > 0")

    # A refused upload says so right there (the page stays, the form keeps its place).
    more = cust.locator("form#upload-more")
    more.locator("input[type=file]").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": fake_pe()}
    )
    more.locator("button[type=submit]").click()
    alert = more.locator(".upload-error[role=alert]")
    alert.wait_for()
    assert t["refused"] in alert.inner_text() and cust.locator(".flash.error").count() == 0

    # An iPhone photo goes through (progress bar, then the page shows it).
    more.locator("input[type=file]").set_input_files(
        {"name": "IMG_0042.HEIC", "mimeType": "image/heic", "buffer": heic_bytes(size=(480, 640), color="teal")}
    )
    with cust.expect_navigation():
        more.locator("button[type=submit]").click()
        cust.locator("form#upload-more progress").wait_for(state="attached")
    # the navigation waited for is the #upload-more fragment (same document); app.js then reloads the page,
    # and until the reload the old list (pay.png only) is still there
    expect(cust.locator("section.my-files")).to_contain_text("IMG_0042.HEIC")
    expect(cust.locator("section.my-files li[data-kind=image] img")).to_have_count(2)

    # The agent sees what is there; asked for both items, the customer is asked only for the missing one.
    desk = _phone(browser, live, agent_email, "en")
    desk.goto(live(f"/tickets/{ref}"))
    assert "already sent: pay.png" in desk.locator("form.event-request_evidence").inner_text()
    assert "pay.png" in desk.locator(".evidence-checklist-status li[data-item=payment_record]").inner_text()
    with live.app.app_context():
        ticket = db.session.scalar(db.select(Ticket).filter_by(ref=ref))
        apply_event(ticket, "request_evidence", staff("agent"), items=["payment_record", "delivery_status"])
        db.session.remove()
    cust.reload()
    paid = cust.locator("li.evidence-item[data-item=payment_record]")
    assert t["provided"] in paid.inner_text() and paid.locator("input[type=file]").count() == 0
    missing = cust.locator("li.evidence-item[data-item=delivery_status]")
    assert t["needed"] in missing.inner_text() and missing.locator("input[type=file]").count() == 1
    cust.locator("section.my-files").scroll_into_view_if_needed()
    cust.locator("article.tracker").screenshot(path=str(shots / f"tracker-files-{lang}.png"))

    # The public link shows no file.
    link = cust.locator("input.copy").input_value()
    anon = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    anon.goto(link)
    assert "pay.png" not in anon.content() and anon.locator("section.my-files").count() == 0
    for page in (cust, desk, anon):
        page.context.close()


def test_evidence_in_chinese(browser, live, shots):
    _evidence(browser, live, shots, "zh")


def test_evidence_in_english(browser, live, shots):
    _evidence(browser, live, shots, "en")
