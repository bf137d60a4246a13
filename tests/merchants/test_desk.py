"""The merchant desk (HTML): answers within the deadline, upload, messages; staff pages; reports."""

from __future__ import annotations

import io

from app.extensions import db
from app.merchants.models import MerchantAction
from app.payouts.services import request_payout
from app.workflow.service import apply_event
from tests.factories import staff
from tests.helpers import csrf_token
from tests.merchants.helpers import charge, file_complaint, merchant, setup_merchant


def test_merchant_answers_on_the_desk_in_each_of_the_three_ways(app, client, auth):
    user = setup_merchant()
    refund, reissue, dispute = file_complaint(), file_complaint(), file_complaint()
    auth.login(user)
    desk = client.get("/merchant?lang=en").get_data(as_text=True)
    assert all(t.ref in desk for t in (refund, reissue, dispute)) and "Answer by" in desk

    page = client.get(f"/merchant/tickets/{refund.ref}")
    resp = client.post(
        f"/merchant/tickets/{refund.ref}/answer",
        data={"event": "merchant_refund", "amount": "60.00", "csrf_token": csrf_token(page)},
    )
    assert resp.status_code == 302
    db.session.refresh(refund)
    assert refund.state == "finance" and refund.approved_amount_cents == 6_000

    page = client.get(f"/merchant/tickets/{reissue.ref}")
    resp = client.post(
        f"/tickets/{reissue.ref}/evidence",
        data={
            "file": (io.BytesIO(b"Replacement key: QQ7D-88LM-KX2P\n"), "key.txt"),
            "note": "replacement key",
            "next": f"/merchant/tickets/{reissue.ref}",
            "csrf_token": csrf_token(page),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    page = client.get(f"/merchant/tickets/{reissue.ref}")
    assert "key.txt" in page.get_data(as_text=True)
    resp = client.post(
        f"/merchant/tickets/{reissue.ref}/answer",
        data={"event": "merchant_reissue", "reason": "sent a new key", "csrf_token": csrf_token(page)},
    )
    assert resp.status_code == 302
    db.session.refresh(reissue)
    assert reissue.state == "review"

    page = client.get(f"/merchant/tickets/{dispute.ref}")
    resp = client.post(
        f"/merchant/tickets/{dispute.ref}/answer",
        data={"event": "merchant_dispute", "reason": "the buyer redeemed it", "csrf_token": csrf_token(page)},
    )
    assert resp.status_code == 422  # no evidence, no note: shown again, nothing saved
    db.session.refresh(dispute)
    assert dispute.state == "merchant"
    resp = client.post(
        f"/merchant/tickets/{dispute.ref}/answer",
        data={
            "event": "merchant_dispute",
            "reason": "the buyer redeemed it",
            "note": "redeemed 10:02 from the buyer's account",
            "csrf_token": csrf_token(page),
        },
    )
    assert resp.status_code == 302
    db.session.refresh(dispute)
    assert dispute.state == "review"

    page = client.get(f"/merchant/tickets/{dispute.ref}")
    resp = client.post(
        f"/merchant/tickets/{dispute.ref}/messages",
        data={"body": "Please check your account history.", "csrf_token": csrf_token(page)},
    )
    assert resp.status_code == 302
    assert dispute.messages[-1].internal is False


def test_customer_tracker_shows_the_merchant_step_in_plain_words(app, client, auth):
    user = setup_merchant()
    ticket = file_complaint()
    auth.login(ticket.customer)
    page = client.get(f"/tickets/{ticket.ref}?lang=en").get_data(as_text=True)
    assert "Merchant responding" in page and "The merchant must answer by" in page
    apply_event(ticket, "merchant_dispute", user, reason="internal merchant reasoning", payload={"note": "secret"})
    page = client.get(f"/tickets/{ticket.ref}?lang=en").get_data(as_text=True)
    assert "The merchant disputes your complaint" in page
    assert "internal merchant reasoning" not in page and "secret" not in page
    zh = client.get(f"/tickets/{ticket.ref}?lang=zh").get_data(as_text=True)
    assert "商家处理中" in zh


def test_staff_see_scores_suspend_with_a_reason_and_top_up(app, client, auth):
    setup_merchant()
    ticket = file_complaint()
    manager = staff("manager")
    auth.login(manager)
    page = client.get(f"/tickets/{ticket.ref}?lang=en").get_data(as_text=True)
    assert "Score" in page and "/100" in page
    listing = client.get("/merchants?lang=en").get_data(as_text=True)
    assert "M1" in listing
    page = client.get("/merchants/M1")
    resp = client.post(
        "/merchants/M1/standing", data={"action": "suspend", "reason": "", "csrf_token": csrf_token(page)}
    )
    assert merchant().suspended_at is None
    resp = client.post(
        "/merchants/M1/standing",
        data={"action": "suspend", "reason": "ignores complaints", "csrf_token": csrf_token(page)},
    )
    assert resp.status_code == 302 and merchant().suspended_reason == "ignores complaints"
    assert db.session.query(MerchantAction).filter_by(action="suspend").one().actor_id == manager.id
    assert file_complaint().state == "review"  # the platform handles its complaints now
    auth.logout()
    finance = staff("finance")
    auth.login(finance)
    page = client.get("/merchants/M1")
    client.post("/merchants/M1/deposits", data={"amount": "100.00", "csrf_token": csrf_token(page)})
    assert merchant().deposit_cents == 510_000


def test_finance_report_of_deductions_per_merchant_and_day_as_csv(app, client, auth):
    user = setup_merchant()
    for amount in (3_000, 4_500):
        ticket = file_complaint()
        apply_event(ticket, "merchant_refund", user, amount_cents=amount)
        request_payout(ticket.id, staff("finance"))
    assert charge(ticket).status == "charged"
    auth.login(staff("finance"))
    resp = client.get("/merchants/reports/deductions?format=csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    lines = resp.get_data(as_text=True).lstrip("\ufeff").strip().splitlines()
    assert lines[0] == "日期（北京时间）,商户编号,商家,扣款笔数,金额（分）"  # headers in the reader's language
    assert lines[1].endswith(",M1,M1,2,7500")
    english = client.get("/merchants/reports/deductions?format=csv&lang=en").get_data(as_text=True)
    header = english.lstrip("\ufeff").splitlines()[0]
    assert header == "Day (Beijing time),Merchant code,Merchant,Deductions,Amount (fen)"


def test_the_customer_sees_the_new_delivery_and_says_whether_it_works(app, client, auth):
    from sqlalchemy import select

    from app.notifications.models import Notification
    from app.tickets.models import Message
    from app.workflow.models import TicketEvent
    from tests.factories import make_user

    user = setup_merchant()
    ticket = file_complaint()
    agent = staff("agent")
    ticket.assignee_id = agent.id
    db.session.commit()
    apply_event(ticket, "merchant_reissue", user, reason="sent again", payload={"note": "NEW-KEY-7Q2M"})
    public = client.get(f"/t/{ticket.tracker_token}?lang=en").get_data(as_text=True)
    assert "The merchant delivered again" in public and "NEW-KEY-7Q2M" not in public  # a key is money
    other = make_user("customer")
    auth.login(other)
    page = client.get("/tickets")
    resp = client.post(f"/tickets/{ticket.ref}/reissue-feedback", data={"works": "no", "csrf_token": csrf_token(page)})
    assert resp.status_code == 404  # someone else's ticket does not exist for them
    auth.logout()
    auth.login(ticket.customer)
    page = client.get(f"/tickets/{ticket.ref}?lang=en")
    html = page.get_data(as_text=True)
    assert "NEW-KEY-7Q2M" in html and "Does the replacement work?" in html
    resp = client.post(f"/tickets/{ticket.ref}/reissue-feedback", data={"csrf_token": csrf_token(page)})
    assert resp.status_code == 303  # nothing chosen: back with the message, nothing recorded
    assert db.session.scalar(select(TicketEvent).where(TicketEvent.event == "reissue_feedback")) is None
    resp = client.post(
        f"/tickets/{ticket.ref}/reissue-feedback",
        data={"works": "no", "note": "says already redeemed", "csrf_token": csrf_token(page)},
    )
    assert resp.status_code == 302
    entry = db.session.scalar(select(TicketEvent).where(TicketEvent.event == "reissue_feedback"))
    assert entry.payload == {"works": False} and entry.actor_id == ticket.customer_id
    said = db.session.scalar(
        select(Message).where(Message.ticket_id == ticket.id, Message.author_id == ticket.customer_id)
    )
    assert "already redeemed" in said.body and not said.internal
    told = db.session.scalars(select(Notification).where(Notification.user_id == agent.id).order_by(Notification.id))
    assert [n.kind for n in told] == ["merchant_answered", "customer_reply"]  # the reissue, then the answer
    html = client.get(f"/tickets/{ticket.ref}?lang=en").get_data(as_text=True)
    assert "Does the replacement work?" not in html  # answered once per reissue
    again = client.post(
        f"/tickets/{ticket.ref}/reissue-feedback", data={"works": "yes", "csrf_token": csrf_token(page)}
    )
    assert again.status_code == 303
    assert len(db.session.scalars(select(TicketEvent).where(TicketEvent.event == "reissue_feedback")).all()) == 1
    auth.logout()
    auth.login(agent)
    staff_page = client.get(f"/tickets/{ticket.ref}?lang=en").get_data(as_text=True)
    assert "already redeemed" in staff_page and "Said whether the replacement works" in staff_page


def test_the_deductions_report_counts_todays_beijing_day_after_midnight(app, client, auth):
    from tests.merchants.helpers import at, cst

    user = setup_merchant()
    with at(cst(2026, 11, 24, 0, 30)):  # 00:30 in Beijing is still the 23rd in UTC
        ticket = file_complaint()
        apply_event(ticket, "merchant_refund", user, amount_cents=2_000)
        request_payout(ticket.id, staff("finance"))
        auth.login(staff("finance"))
        csv = client.get("/merchants/reports/deductions?format=csv&lang=en").get_data(as_text=True)
    assert "2026-11-24,M1,M1,1,2000" in csv
