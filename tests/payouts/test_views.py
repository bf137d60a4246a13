"""The finance desk pages: who may see them, Pay / Retry / Return to review, reports, CSV, incidents."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.payouts import checks, services
from app.tickets.models import Ticket
from app.workflow.models import Incident
from app.workflow.service import apply_event
from tests.factories import make_order, make_ticket, make_user, staff
from tests.helpers import csrf_token

DESK_PAGES = ("/finance/", "/finance/reports", "/finance/reports.csv")


@pytest.mark.parametrize("role", ["customer", "agent", "admin", "platform"])
def test_desk_is_403_for_everyone_but_finance_and_managers(client, auth, role):
    auth.login(make_user(role))
    for page in DESK_PAGES:
        assert client.get(page).status_code == 403, page
    assert client.get("/finance/incidents").status_code == (200 if role == "admin" else 403)  # admins declare too


@pytest.mark.parametrize("role", ["customer", "agent", "manager"])
def test_only_finance_may_press_pay(client, auth, role):
    ticket = make_ticket("finance")
    user = ticket.customer if role == "customer" else staff(role)
    auth.login(user)
    token = csrf_token(client.get("/", follow_redirects=True))
    resp = client.post(f"/finance/tickets/{ticket.ref}/pay", data={"csrf_token": token})
    assert resp.status_code == 403
    assert checks.payout_for(ticket.id) is None


def test_anonymous_goes_to_login(client):
    resp = client.get("/finance/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_incidents_are_for_managers(client, auth):
    auth.login(staff("finance"))
    assert client.get("/finance/incidents").status_code == 403


def test_queue_shows_approved_tickets_and_who_approved_them(client, auth, db):
    manager = make_user("manager", name="Wang Manager")
    ticket = make_ticket("review", order=make_order(amount_cents=80_000))
    apply_event(ticket, "approve", manager, amount_cents=60_000)  # above the agents' limit
    make_ticket("review")  # not approved: not on the desk
    auth.login(staff("finance"))
    page = client.get("/finance/").get_data(as_text=True)
    assert ticket.ref in page and "¥600.00" in page and "Wang Manager" in page
    assert page.count('data-ref="') == 1
    assert f'action="/finance/tickets/{ticket.ref}/pay"' in page


def test_manager_sees_the_queue_without_pay_buttons(client, auth):
    ticket = make_ticket("finance")
    auth.login(staff("manager"))
    page = client.get("/finance/").get_data(as_text=True)
    assert ticket.ref in page and "/pay" not in page


def test_pay_button_pays_the_ticket(client, auth, db):
    ticket = make_ticket("finance")
    auth.login(staff("finance"))
    token = csrf_token(client.get("/finance/"))
    resp = client.post(
        f"/finance/tickets/{ticket.ref}/pay", data={"csrf_token": token, "channel": "alipay"}, follow_redirects=True
    )
    assert resp.status_code == 200
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "paid"
    assert checks.payout_for(ticket.id).status == "succeeded"
    # a second click (stale page) changes nothing
    again = client.post(f"/finance/tickets/{ticket.ref}/pay", data={"csrf_token": token})
    assert again.status_code == 409


def test_pay_without_csrf_is_refused(client, auth):
    ticket = make_ticket("finance")
    auth.login(staff("finance"))
    assert client.post(f"/finance/tickets/{ticket.ref}/pay", data={}).status_code == 400
    assert checks.payout_for(ticket.id) is None


def test_failed_payout_shows_the_reason_with_retry_and_return(client, auth, app, db):
    ticket = make_ticket("finance")
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 1.0
    payout = services.request_payout(ticket.id, staff("finance"))
    auth.login(staff("finance"))
    page = client.get("/finance/")
    html = page.get_data(as_text=True)
    assert "已拒绝：收款账户拒绝了这笔转账。" in html  # the gateway's code, in the reader's language
    assert f"/finance/payouts/{payout.id}/retry" in html and f"/finance/tickets/{ticket.ref}/return" in html
    token = csrf_token(page)
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 0.0
    same = client.post(f"/finance/payouts/{payout.id}/retry", data={"csrf_token": token, "channel": "alipay"})
    assert same.status_code == 422 and "另一个渠道" in same.get_data(as_text=True)
    client.post(f"/finance/payouts/{payout.id}/retry", data={"csrf_token": token, "channel": "balance"})
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "paid"
    assert checks.payout_for(ticket.id).channel == "balance"


def test_return_to_review_needs_a_reason(client, auth, app, db):
    ticket = make_ticket("finance")
    app.config["PAYOUT_SIM_DECLINE_RATE"] = 1.0
    services.request_payout(ticket.id, staff("finance"))
    auth.login(staff("finance"))
    token = csrf_token(client.get("/finance/"))
    assert (
        client.post(f"/finance/tickets/{ticket.ref}/return", data={"csrf_token": token, "reason": " "}).status_code
        == 422
    )
    client.post(f"/finance/tickets/{ticket.ref}/return", data={"csrf_token": token, "reason": "account closed"})
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "review"


def test_reports_and_csv_export(client, auth, db):
    paid = make_ticket("finance", order=make_order(amount_cents=12_345))
    services.request_payout(paid.id, staff("finance"))
    sneaky = make_ticket("finance", order=make_order(amount_cents=5_000, payment_channel="wechat"))
    apply_event(sneaky, "pay", staff("finance"), payload={"reference": '=HYPERLINK("http://x")'})
    auth.login(staff("manager"))
    page = client.get("/finance/reports").get_data(as_text=True)
    assert "¥123.45" in page and "¥50.00" in page and "¥173.45" in page
    resp = client.get("/finance/reports.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert list(rows[0])[:4] == ["打款编号", "工单", "订单号", "支付渠道"]  # headers in the reader's language
    by_ref = {r["工单"]: r for r in rows}
    assert set(by_ref) == {paid.ref, sneaky.ref}
    row = by_ref[paid.ref]
    shown = (row["金额（元）"], row["金额（分）"], row["状态"], row["支付渠道"])
    assert shown == ("123.45", "12345", "已打款", "支付宝")
    assert row["订单号"] == paid.order.order_no and row["渠道流水号"].startswith("ALI-")
    assert by_ref[sneaky.ref]["渠道流水号"].startswith("'=")  # no formula runs in a spreadsheet
    assert by_ref[sneaky.ref]["手工打款"] == "是"
    english = client.get("/finance/reports.csv?lang=en").get_data(as_text=True).lstrip("\ufeff")
    en_rows = list(csv.DictReader(io.StringIO(english)))
    assert list(en_rows[0])[:4] == ["Payout no.", "Ticket", "Order no.", "Channel"]
    en = {r["Ticket"]: r for r in en_rows}[paid.ref]
    assert (en["Amount (yuan)"], en["Status"], en["Channel"], en["Paid by hand"]) == ("123.45", "Paid", "Alipay", "no")


def test_report_range_outside_the_payouts_is_empty(client, auth):
    ticket = make_ticket("finance")
    services.request_payout(ticket.id, staff("finance"))
    auth.login(staff("finance"))
    resp = client.get("/finance/reports.csv?start=2020-01-01&end=2020-01-31")
    assert resp.get_data(as_text=True).lstrip("\ufeff").strip().count("\n") == 0  # header only
    page = client.get("/finance/reports?start=2020-01-01&end=2020-01-31").get_data(as_text=True)
    assert "¥100.00" not in page


def test_manager_declares_an_incident_in_beijing_time(client, auth, db):
    auth.login(staff("manager"))
    token = csrf_token(client.get("/finance/incidents"))
    resp = client.post(
        "/finance/incidents",
        data={
            "csrf_token": token,
            "starts_at": "2026-11-20T09:00",
            "ends_at": "2026-11-20T11:30",
            "product_types": ["recharge", "game_card"],
            "note": "话费充值通道故障",
        },
        follow_redirects=True,
    )
    assert resp.status_code == 200 and "话费充值通道故障" in resp.get_data(as_text=True)
    incident = db.session.scalar(select(Incident))
    assert incident.starts_at == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert incident.ends_at == datetime(2026, 11, 20, 3, 30, tzinfo=UTC)
    assert incident.product_types == ["game_card", "recharge"]


def test_incident_form_errors_are_shown(client, auth, db):
    auth.login(staff("manager"))
    token = csrf_token(client.get("/finance/incidents"))
    resp = client.post(
        "/finance/incidents",
        data={"csrf_token": token, "starts_at": "2026-11-20T09:00", "ends_at": "2026-11-20T08:00", "note": "x"},
    )
    assert resp.status_code == 422
    assert db.session.scalar(select(Incident)) is None


def test_ending_an_ongoing_incident(client, auth, db):
    auth.login(staff("manager"))
    token = csrf_token(client.get("/finance/incidents"))
    client.post(
        "/finance/incidents",
        data={"csrf_token": token, "starts_at": "2026-11-20T09:00", "product_types": ["recharge"], "note": "outage"},
    )
    incident = db.session.scalar(select(Incident))
    assert incident.ends_at is None
    client.post(f"/finance/incidents/{incident.id}/end", data={"csrf_token": token, "ends_at": "2026-11-20T10:00"})
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).ends_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_pay_api_is_idempotent_and_finance_only(client, api, db):
    ticket = make_ticket("finance")
    assert client.post(f"/api/v1/tickets/{ticket.ref}/payout", headers=api.headers(staff("agent"))).status_code == 403
    headers = api.headers(staff("finance"))
    first = client.post(f"/api/v1/tickets/{ticket.ref}/payout", headers=headers, json={})
    assert first.status_code == 202 and first.json["status"] == "succeeded"
    shown = client.get(f"/api/v1/tickets/{ticket.ref}/payout", headers=headers).json
    assert shown["id"] == first.json["id"] and shown["reference"] == first.json["reference"]
