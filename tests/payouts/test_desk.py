"""The finance desk as finance meets it: filters and totals, bulk pay (each ticket its own
exactly-once payout, double submits included), retry on another channel after a decline, decline
reasons in the reader's language, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.payouts import checks, services
from app.payouts.labels import decline_label
from app.payouts.models import BalanceLedger, Payout, PayoutDecline, SimulatedCharge
from app.tickets.models import Ticket
from app.types import utcnow
from tests.factories import make_order, make_ticket, staff
from tests.helpers import csrf_token


def payouts(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Payout.id))) or 0


def desk(client, query: str = "") -> str:
    resp = client.get("/finance/" + query)
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def rows(page: str) -> list[str]:
    import re

    return re.findall(r'<tr data-ref="([^"]+)"', page)


def test_filters_and_totals(client, auth, db):
    small = make_ticket("finance", order=make_order(amount_cents=3_000, payment_channel="wechat"))
    mid = make_ticket("finance", order=make_order(amount_cents=12_000))
    big = make_ticket("finance", order=make_order(amount_cents=45_050))
    old = db.session.get(Ticket, big.id)
    old.state_changed_at = utcnow() - timedelta(days=5)  # waiting for finance for five days
    db.session.commit()
    auth.login(staff("finance"))
    page = desk(client)
    assert set(rows(page)) == {small.ref, mid.ref, big.ref}
    assert "待付 3 个工单，共 ¥600.50" in page
    page = desk(client, "?channel=wechat")
    assert rows(page) == [small.ref] and "待付 1 个工单，共 ¥30.00" in page
    page = desk(client, "?min_yuan=100&max_yuan=200")
    assert rows(page) == [mid.ref] and "共 ¥120.00" in page
    page = desk(client, "?age=3")
    assert rows(page) == [big.ref] and "共 ¥450.50" in page
    assert rows(desk(client, "?channel=alipay&min_yuan=500")) == [] and "待付 0 个工单" in desk(client, "?min_yuan=500")


@pytest.mark.parametrize("query", ["?channel=paypal", "?min_yuan=abc", "?min_yuan=50&max_yuan=10", "?age=2"])
def test_a_bad_filter_is_a_clear_422(client, auth, query):
    auth.login(staff("finance"))
    assert client.get("/finance/" + query).status_code == 422


def test_bulk_pay_pays_each_selected_ticket_once_even_when_submitted_twice(client, auth, db):
    first, second = make_ticket("finance"), make_ticket("finance", order=make_order(payment_channel="wechat"))
    review = make_ticket("review")  # not approved: refused, the others go on
    auth.login(staff("finance"))
    page = desk(client)
    assert f'value="{first.ref}" form="bulk-pay"' in page and "为所选工单打款" in page
    refs = [first.ref, second.ref, review.ref]
    form = {"csrf_token": csrf_token(client.get("/finance/")), "ref": refs, "channel": "original"}
    done = client.post("/finance/bulk-pay", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已为 2 个工单发起打款" in done and f"{review.ref}：未发起打款。" in done
    assert payouts(db) == 2 and db.session.scalar(select(func.count(SimulatedCharge.id))) == 2
    assert {checks.payout_for(first.id).channel, checks.payout_for(second.id).channel} == {"alipay", "wechat"}
    again = client.post("/finance/bulk-pay", data=form, follow_redirects=True).get_data(as_text=True)  # double submit
    assert "已为" not in again and f"{first.ref}：未发起打款。" in again
    assert payouts(db) == 2 and db.session.scalar(select(func.count(SimulatedCharge.id))) == 2
    assert {db.session.get(Ticket, t.id).state for t in (first, second)} == {"paid"}


def test_bulk_pay_to_the_balance_and_failed_payouts_are_left_for_a_retry(client, auth, app, db):
    declined = make_ticket("finance")
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 1.0
    services.request_payout(declined.id, staff("finance"))
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 0.0
    fresh = make_ticket("finance")
    auth.login(staff("finance"))
    page = desk(client)
    assert f'value="{declined.ref}" form="bulk-pay"' not in page  # a failed payout is retried on its own
    form = {"csrf_token": csrf_token(client.get("/finance/")), "ref": [fresh.ref, declined.ref], "channel": "balance"}
    done = client.post("/finance/bulk-pay", data=form, follow_redirects=True).get_data(as_text=True)
    assert "已为 1 个工单发起打款" in done and "该工单的打款失败了：请单独重试。" in done
    assert checks.payout_for(fresh.id).channel == "balance" and checks.payout_for(declined.id).status == "failed"
    assert db.session.scalar(select(func.count(BalanceLedger.id))) == 1


@pytest.mark.parametrize("role", ["agent", "manager", "admin"])
def test_only_finance_bulk_pays(client, auth, db, role):
    ticket = make_ticket("finance")
    auth.login(staff(role))
    token = csrf_token(client.get("/", follow_redirects=True))
    resp = client.post("/finance/bulk-pay", data={"csrf_token": token, "ref": [ticket.ref], "channel": "original"})
    assert resp.status_code == 403 and payouts(db) == 0
    if role == "manager":  # sees the desk, without checkboxes or the bulk button
        page = desk(client)
        assert ticket.ref in page and 'form="bulk-pay"' not in page and "/finance/bulk-pay" not in page


def test_bulk_pay_needs_a_selection(client, auth):
    auth.login(staff("finance"))
    make_ticket("finance")
    token = csrf_token(client.get("/finance/"))
    assert client.post("/finance/bulk-pay", data={"csrf_token": token, "channel": "original"}).status_code == 422
    assert client.post("/finance/bulk-pay", data={"ref": ["X"], "channel": "original"}).status_code == 400  # no CSRF


def test_retry_on_the_balance_after_a_decline_in_english(client, auth, app, db):
    ticket = make_ticket("finance")
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 1.0
    payout = services.request_payout(ticket.id, staff("finance"))
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 0.0
    auth.login(staff("finance"))
    page = desk(client, "?lang=en")
    assert "Declined: The receiving account refused the transfer." in page
    retry_form = page[page.index(f"/finance/payouts/{payout.id}/retry") :]
    retry_form = retry_form[: retry_form.index("</form>")]
    assert 'value="balance"' in retry_form and 'value="alipay"' not in retry_form  # the declined channel is closed
    token = csrf_token(client.get("/finance/"))
    form = {"csrf_token": token, "channel": "balance"}
    client.post(f"/finance/payouts/{payout.id}/retry", data=form)
    again = client.post(f"/finance/payouts/{payout.id}/retry", data=form)  # a double submit
    assert again.status_code == 409  # nothing left to retry: it is paid
    db.session.expire_all()
    assert payouts(db) == 1 and db.session.get(Ticket, ticket.id).state == "paid"
    assert db.session.scalar(select(func.count(BalanceLedger.id))) == 1
    assert db.session.scalar(select(func.count(SimulatedCharge.id))) == 0


def test_a_returned_ticket_may_use_a_declined_channel_again(app, db):
    ticket = make_ticket("finance")
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 1.0
    services.request_payout(ticket.id, staff("finance"))
    assert checks.declined_channels(ticket.id) == {"alipay"}
    services.return_to_review(ticket.id, staff("finance"), "ask the customer for another Alipay account")
    assert checks.declined_channels(ticket.id) == set()
    assert db.session.scalar(select(PayoutDecline.cleared_at)) is not None  # the history stays


def test_decline_codes_have_labels_in_both_languages(app):
    from flask_babel import force_locale

    with app.test_request_context():
        with force_locale("en"):
            assert decline_label("account_closed") == "The receiving account is closed."
            assert decline_label("PAYEE_WEIRD") == "Declined by the gateway (code PAYEE_WEIRD)."
        with force_locale("zh_Hans_CN"):
            assert decline_label("account_closed") == "收款账户已注销。"
            assert decline_label("PAYEE_WEIRD") == "支付渠道已拒绝（代码 PAYEE_WEIRD）。"
