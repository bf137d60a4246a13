"""The merchant desk in a real browser, on a phone, in zh and en: the merchant sees its own
complaints with their deadlines (never another merchant's), answers by reissuing and by refunding;
the customer sees the merchant step on the tracker, the new delivery, and says whether it works."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.merchants.ledger import top_up
from tests.browser.test_journey import _login
from tests.factories import make_order, make_user, merchant_user, staff
from tests.merchants.helpers import file_complaint

pytestmark = pytest.mark.browser

TEXT = {
    "zh": {"desk": "商家工作台", "step": "商家处理中", "due": "前答复", "works": "补发的商品能用吗？", "no": "不能用"},
    "en": {
        "desk": "Merchant desk",
        "step": "Merchant responding",
        "due": "Answer by",
        "works": "Does the replacement work?",
        "no": "No, it does not work",
    },
}


def _setup(live, lang: str):
    with live.app.app_context():
        code = f"SHOP-{lang}"
        merchant = merchant_user(code, email=f"shop-{lang}@example.com", merchant_name=f"星辰卡券 {lang}")
        merchant.locale = "zh_Hans_CN" if lang == "zh" else "en"
        top_up(code, 500_000, staff("finance"), note="initial deposit")
        customer = make_user("customer", email=f"buyer-{lang}@example.com")
        reissue = file_complaint("invalid_card", merchant_code=code, customer=customer)
        refund = file_complaint("not_delivered", merchant_code=code, customer=customer)
        merchant_user(f"OTHER-{lang}", email=f"other-{lang}@example.com")
        other_order = make_order(make_user("customer"))
        from app.merchants.models import Merchant

        other_order.merchant = db.session.query(Merchant).filter_by(code=f"OTHER-{lang}").one()
        db.session.commit()
        from app.tickets.services import create_ticket

        foreign = create_ticket(other_order.order_no, "invalid_card", "not yours", other_order.customer)
        assert reissue.state == refund.state == foreign.state == "merchant"
        ids = merchant.email, customer.email, reissue.ref, refund.ref, foreign.ref
        db.session.remove()
    return ids


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_merchant_answers_on_a_phone_and_the_customer_sees_it(browser, live, shots, lang):
    t = TEXT[lang]
    merchant_email, customer_email, reissue_ref, refund_ref, foreign_ref = _setup(live, lang)

    buyer = _login(browser, live, customer_email, lang, phone=True)
    buyer.goto(live(f"/tickets/{reissue_ref}"))
    assert t["step"] in buyer.locator("h1").inner_text()  # the merchant step, with its deadline
    buyer.screenshot(path=str(shots / f"tracker-merchant-step-{lang}.png"), full_page=True)
    buyer.context.close()

    shop = _login(browser, live, merchant_email, lang, phone=True)
    assert shop.url.endswith("/merchant")  # a merchant lands on its desk
    assert t["desk"] in shop.locator("h1").inner_text()
    desk = shop.locator("ul.complaints").inner_text()
    assert reissue_ref in desk and refund_ref in desk and foreign_ref not in desk and t["due"] in desk
    assert shop.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing cut off
    shop.screenshot(path=str(shots / f"merchant-desk-{lang}.png"), full_page=True)
    assert shop.goto(live(f"/merchant/tickets/{foreign_ref}")).status == 404

    shop.goto(live(f"/merchant/tickets/{reissue_ref}"))
    form = shop.locator("form.answer-merchant_reissue")
    form.locator("[name=note]").fill("NEW-KEY-7Q2M-9XKD")
    with shop.expect_navigation():  # the same page again: a click does not wait for it
        form.locator("button[type=submit]").click()
    assert shop.locator(".flash.success").count() == 1, shop.content()

    shop.goto(live(f"/merchant/tickets/{refund_ref}"))
    form = shop.locator("form.answer-merchant_refund")
    form.locator("[name=amount]").fill("60.00")
    with shop.expect_navigation():
        form.locator("button[type=submit]").click()
    assert shop.locator(".flash.success").count() == 1, shop.content()
    shop.screenshot(path=str(shots / f"merchant-answered-{lang}.png"), full_page=True)
    shop.context.close()

    buyer = _login(browser, live, customer_email, lang, phone=True)
    buyer.goto(live(f"/tickets/{reissue_ref}"))
    body = buyer.locator("article.tracker").inner_text()
    assert "NEW-KEY-7Q2M-9XKD" in body and t["works"] in body
    buyer.get_by_label(t["no"]).check()
    buyer.locator("#reissue-note").fill("already redeemed")
    with buyer.expect_navigation():  # the tracker again: the one being left still asks the question
        buyer.locator("form.reissue-feedback button[type=submit]").click()
    assert buyer.locator(".flash.success").count() == 1, buyer.content()
    assert t["works"] not in buyer.locator("article.tracker").inner_text()  # answered once
    buyer.screenshot(path=str(shots / f"tracker-reissue-{lang}.png"), full_page=True)
    buyer.goto(live(f"/tickets/{refund_ref}"))
    assert t["step"] not in buyer.locator("h1").inner_text()  # moved on: the refund is with finance
    buyer.context.close()
