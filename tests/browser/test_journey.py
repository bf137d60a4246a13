"""The whole journey in a real browser: file → evidence asked → answered → approved → paid → 已到账."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.factories import make_order, make_user

pytestmark = pytest.mark.browser

PASSWORD = "password123"

TEXT = {
    "zh": {
        "file": "申请退款 / 投诉",
        "submit": "提交申请",
        "submitted": "已提交",
        "request_evidence": "要求补充材料",
        "provide": "提交材料",
        "approve": "批准退款",
        "pay": "登记打款",
        "paid": "已退款",
        "arrived": "已到账",
        "claim": "认领",
        "steps": ["提交", "补充材料", "审核", "财务处理", "已到账"],
        "needs": "需要您提供",
        "on_its_way": "已退款，预计",
    },
    "en": {
        "file": "Refund / complaint",
        "submit": "Submit request",
        "submitted": "Submitted",
        "request_evidence": "Request evidence",
        "provide": "Send evidence",
        "approve": "Approve refund",
        "pay": "Record payout",
        "paid": "Refunded",
        "arrived": "Money arrived",
        "claim": "Claim",
        "steps": ["Filed", "More material", "Review", "Payout", "Money arrived"],
        "needs": "What we need from you",
        "on_its_way": "Refunded, arriving by",
    },
}


def _png() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (320, 120), "white")
    ImageDraw.Draw(img).text((10, 50), "payment KM-BROWSER 128.00", fill="black")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _people(live, lang: str):
    with live.app.app_context():
        customer = make_user("customer", email=f"buyer-{lang}@example.com", name="小王" if lang == "zh" else "Wang")
        agent = make_user("agent", email=f"agent-{lang}@example.com", name="客服小李" if lang == "zh" else "Agent Li")
        finance = make_user(
            "finance", email=f"finance-{lang}@example.com", name="财务老张" if lang == "zh" else "Zhang"
        )
        order = make_order(
            customer,
            product_name="Steam 钱包充值卡 ¥128",
            amount_cents=12_800,
            payment_channel="alipay",
            product_type="card_key",
        )
        ids = customer.email, agent.email, finance.email, order.order_no
        db.session.remove()
    return ids


def _login(browser, live, email: str, lang: str, *, phone: bool = False):
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900},
        device_scale_factor=2 if phone else 1,
        locale="zh-CN" if lang == "zh" else "en-US",
    )
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    page.goto(live("/login"))
    if lang == "en":
        page.click("a[lang=en]")  # the language switch, kept in the session
        # a click does not wait for the page it opens: the English login page has the same fields
        page.wait_for_url("**/login?lang=en")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit], form input[type=submit]")
    wait_until_logged_in(page)
    return page


def wait_until_logged_in(page) -> None:
    """The page the log-in lands on (a click does not wait for it: the login page would still be read)."""
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")


def _fire(page, event: str, label: str, **fields) -> None:
    form = page.locator(f"form.event-{event}")
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    with page.expect_navigation():  # the ticket page again: the old one may have a flash of its own
        form.get_by_role("button", name=label).click()
    assert page.locator(".flash.success").count() == 1, page.content()


def _journey(browser, live, shots, lang: str) -> None:
    t = TEXT[lang]
    customer_email, agent_email, finance_email, order_no = _people(live, lang)

    # The customer files a ticket from the order (on a phone).
    cust = _login(browser, live, customer_email, lang, phone=True)
    cust.locator(f"li[data-order='{order_no}']").get_by_role("link", name=t["file"]).click()
    cust.wait_for_url(f"**/orders/{order_no}/ticket*")
    expect(cust.locator("#amount")).to_have_value("128.00")  # the refundable balance, already filled
    cust.check("input[value=not_delivered]")
    cust.fill(
        "#description", "付款成功但是卡密一直没有发给我。" if lang == "zh" else "Paid, but the card key never came."
    )
    cust.get_by_role("button", name=t["submit"]).click()
    cust.wait_for_url(re.compile(r"/tickets/RD[\w-]+$"))  # cust.url is the form's until then
    ref = re.search(r"/tickets/(RD[\w-]+)", cust.url).group(1)
    assert cust.locator("h1.state-title").inner_text() == t["submitted"]
    assert cust.locator("li.step.current").get_attribute("data-step") == "submitted"

    # The agent claims it from the queue and asks for evidence.
    agent = _login(browser, live, agent_email, lang)
    row = agent.locator(f"tr[data-ref='{ref}']")
    with agent.expect_navigation():  # back to the queue: its link is on the old page too
        row.get_by_role("button", name=t["claim"]).click()
    agent.locator(f"tr[data-ref='{ref}'] a.ref").click()
    agent.wait_for_url(f"**/tickets/{ref}")
    items = "付款记录截图" if lang == "zh" else "Screenshot of the payment"
    _fire(agent, "request_evidence", t["request_evidence"], items=items)

    # The customer sees what is needed, answers right there, and sends it.
    cust.reload()
    assert cust.locator("section.needs.open").count() == 1
    assert items in cust.locator("section.needs").inner_text()
    cust.screenshot(path=str(shots / f"tracker-evidence-{lang}.png"), full_page=True)
    upload = cust.locator("form.evidence-upload")
    if upload.count():
        upload.first.locator("input[type=file]").set_input_files(
            {"name": "payment.png", "mimeType": "image/png", "buffer": _png()}
        )
        with cust.expect_navigation():  # sent with a progress bar (app.js), then the page reloads
            upload.first.locator("button[type=submit]").click()
        # that navigation is only to the form's #fragment (same document): the reload comes after it, and
        # the evidence form filled next is on the old page too
        expect(cust.locator(".flash.success")).to_contain_text("payment.png")
    _fire(
        cust,
        "provide_evidence",
        t["provide"],
        reason="这是付款记录截图。" if lang == "zh" else "Here is the payment screenshot.",
    )

    # The agent answers the customer, notes something internal, and approves (default: the amount asked).
    agent.reload()
    agent.locator("#reply-body").fill(
        "材料已收到，审核通过后财务会尽快退款。" if lang == "zh" else "Got it. Once approved, finance pays it quickly."
    )
    with agent.expect_navigation():  # the same ticket page again: the note box is on the old one too
        agent.locator("form.reply button[type=submit]").click()
    agent.locator("#note-body").fill("付款记录与订单一致。" if lang == "zh" else "Payment record matches the order.")
    with agent.expect_navigation():
        agent.locator("form.note button[type=submit]").click()
    assert agent.locator("#approve-amount").input_value() == "128.00"
    agent.screenshot(path=str(shots / f"agent-ticket-{lang}.png"), full_page=True)
    _fire(agent, "approve", t["approve"])

    # Finance pays it: from the finance desk when the Payouts package is installed (finance lands
    # there), else by recording the payout with its reference on the ticket page.
    fin = _login(browser, live, finance_email, lang)
    desk_pay = fin.locator(f"tr[data-ref='{ref}'] form[action$='/pay']")
    if desk_pay.count():
        with fin.expect_navigation():  # paid once the desk is back (the tracker is read next)
            desk_pay.locator("button[type=submit]").click()
    else:
        fin.goto(live(f"/tickets/{ref}"))
        _fire(fin, "pay", t["pay"], reference="ALI-2026-000128")

    # The customer's tracker: 已到账, every step done with its time.
    cust.reload()
    assert cust.locator("h1.state-title").inner_text() == t["paid"]
    steps = cust.locator("ol.steps li.step")
    assert steps.count() == 5
    labels = [s.strip() for s in cust.locator("ol.steps .step-label").all_inner_texts()]
    assert labels[:4] == t["steps"][:4] and labels[4].startswith(t["on_its_way"])  # until the arrival window ends
    for i in range(5):
        assert "done" in steps.nth(i).get_attribute("class")
        assert steps.nth(i).locator("time").count() == 1
    assert "¥128.00" in cust.locator("section.now").inner_text()
    page = cust.content()
    assert ("财务会尽快退款" in page) if lang == "zh" else ("finance pays it quickly" in page)
    assert "付款记录与订单一致" not in page and "Payment record matches" not in page  # internal notes stay inside
    cust.screenshot(path=str(shots / f"tracker-{lang}.png"), full_page=True)

    # The tracker link works without logging in and shows only the progress page.
    link = cust.locator("input.copy").input_value()
    anon = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    anon.goto(link)
    assert anon.locator("h1.state-title").inner_text() == TEXT["zh"]["paid"]
    assert anon.locator("form.event-form").count() == 0 and anon.locator("#reply-body").count() == 0
    for page in (cust, agent, fin, anon):
        page.context.close()


def test_journey_in_chinese(browser, live, shots):
    _journey(browser, live, shots, "zh")


def test_journey_in_english(browser, live, shots):
    _journey(browser, live, shots, "en")
