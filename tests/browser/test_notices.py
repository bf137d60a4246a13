"""The customer is told, in a real browser (zh and en): the header badge and notices that link to
the ticket, 催一下 once the promised time passed, and the money status until it arrived."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.payouts import services as payouts
from app.tickets.models import Ticket
from app.tickets.services import assign_ticket
from app.types import utcnow
from app.workflow.service import apply_event
from tests.browser.test_journey import _login
from tests.factories import make_order, make_ticket, make_user

pytestmark = pytest.mark.browser

TEXT = {
    "zh": {
        "notice": "请补充材料",
        "urge": "催一下",
        "urged": "已提醒团队您在等待",
        "approved": "退款 ¥80.00 已批准",
        "why": "未全额退款的原因",
        "on_its_way": "预计",
        "arrived": "已到账",
    },
    "en": {
        "notice": "please send more material",
        "urge": "催一下 — remind the team",
        "urged": "We told the team that you are waiting",
        "approved": "refund of ¥80.00 approved",
        "why": "Why not the full amount",
        "on_its_way": "expected to arrive by",
        "arrived": "has arrived in your Alipay",
    },
}


def _setup(live, lang: str):
    with live.app.app_context():
        customer = make_user("customer", email=f"told-{lang}@example.com", locale="zh_Hans_CN")
        agent = make_user("agent", email=f"told-agent-{lang}@example.com", locale="en")
        order = make_order(customer, product_name="Steam ¥100", amount_cents=10_000, payment_channel="alipay")
        ticket = make_ticket("submitted", order=order)
        assign_ticket(ticket, agent, agent)
        apply_event(ticket, "request_evidence", agent, items=["payment_record"])
        ids = customer.email, agent.email, ticket.ref, ticket.id, agent.id
        db.session.remove()
    return ids


def _told(browser, live, shots, lang: str) -> None:
    t = TEXT[lang]
    customer_email, agent_email, ref, ticket_id, agent_id = _setup(live, lang)
    cust = _login(browser, live, customer_email, lang, phone=True)

    # The header says there is news; the notice is in the page's language and links to the ticket.
    badge = cust.locator("nav .badge[data-unread]")
    assert badge.inner_text() == "1"
    cust.locator("nav a[href='/notifications/']").click()
    cust.wait_for_url("**/notifications/")  # a click does not wait for the page it opens
    notice = cust.locator("ul.notifications li.unread a").first
    assert t["notice"] in notice.inner_text()
    cust.screenshot(path=str(shots / f"notices-{lang}.png"), full_page=True)
    notice.click()
    cust.wait_for_url(f"**/tickets/{ref}")  # the notices page being left still shows the badge
    assert cust.url.endswith(f"/tickets/{ref}") and cust.locator("nav .badge[data-unread]").count() == 0

    # The customer answers; the review's promised time passes (moved into the past here) → 催一下.
    with live.app.app_context():
        from app.evidence.items import current_items
        from app.evidence.services import answer_item

        ticket = db.session.get(Ticket, ticket_id)
        for item in current_items(ticket.id):
            answer_item(ticket, item.code, "the bill is attached to my e-mail", ticket.customer)
        apply_event(ticket, "provide_evidence", ticket.customer, reason="bill attached")
        db.session.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(sla_due_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
        db.session.remove()
    cust.reload()
    with cust.expect_navigation():  # the tracker again: the one being left has the button
        cust.get_by_role("button", name=t["urge"]).click()
    assert t["urged"] in cust.locator(".flash.success").inner_text()
    assert cust.get_by_role("button", name=t["urge"]).count() == 0  # once per stage per 24 h
    agent = _login(browser, live, agent_email, "en")
    assert agent.locator("nav .badge[data-unread]").count() == 1
    agent.goto(live("/notifications/"))
    assert f"{ref}: the customer is waiting" in agent.locator("ul.notifications").inner_text()

    # Approved in part, paid: the amount, the reason, the reference and when it arrives.
    with live.app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        apply_event(
            ticket,
            "approve",
            db.session.get(type(ticket.customer), agent_id),
            amount_cents=8_000,
            reason="¥20 of credit was already used",
        )
        payout = payouts.request_payout(ticket_id, make_user("finance"))
        reference = payout.gateway_reference
        db.session.remove()
    cust.reload()
    now_box = cust.locator("section.now").inner_text()
    assert t["on_its_way"] in now_box and reference in now_box and t["why"] in now_box
    assert "¥20 of credit was already used" in now_box
    cust.screenshot(path=str(shots / f"tracker-money-{lang}.png"), full_page=True)
    cust.goto(live("/notifications/"))
    assert t["approved"] in cust.locator("ul.notifications").inner_text()
    live.app.config["REFUND_ARRIVAL"] = "alipay=0m"  # the arrival window has passed
    try:
        cust.goto(live(f"/tickets/{ref}"))
        assert t["arrived"] in cust.locator("section.now").inner_text()
    finally:
        live.app.config["REFUND_ARRIVAL"] = ""
    for page in (cust, agent):
        page.context.close()


def test_customer_is_told_in_chinese(browser, live, shots):
    _told(browser, live, shots, "zh")


def test_customer_is_told_in_english(browser, live, shots):
    _told(browser, live, shots, "en")
