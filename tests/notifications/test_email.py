"""Notices reach people by e-mail through a real SMTP server, in their language, once."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.notifications import jobs
from app.notifications.models import Delivery, Notification
from app.workflow.service import apply_event
from tests.factories import make_order, make_ticket, make_user, staff
from tests.notifications.conftest import at, cst

WEDNESDAY_10 = cst(2026, 11, 25, 10, 0)


def body(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def customer(locale: str, email: str):
    return make_user("customer", email=email, locale=locale)


def test_evidence_request_arrives_in_each_customers_language_with_a_link_and_no_unsubscribe(app, smtp):
    zh, en = customer("zh_Hans_CN", "wang@example.com"), customer("en", "amy@example.com")
    with at(WEDNESDAY_10):
        tickets = {c.email: make_ticket("submitted", order=make_order(c)) for c in (zh, en)}
        for t in tickets.values():
            apply_event(t, "request_evidence", staff("agent"), items=["payment_record"], reason="账单截图")
    [cn], [english] = smtp.to("wang@example.com"), smtp.to("amy@example.com")
    assert str(cn["Subject"]) == f"{tickets['wang@example.com'].ref}：请补充材料"
    assert "付款记录" in body(cn) and "2026-12-02" in body(cn) and "账单截图" in body(cn)
    assert str(english["Subject"]) == f"{tickets['amy@example.com'].ref}: please send more material"
    assert "Payment record" in body(english) and "closed" in body(english)
    assert f"/tickets/{tickets['amy@example.com'].ref}" in body(english)
    assert english["List-Unsubscribe"] is None and "Unsubscribe" not in body(english)  # mandatory notice


def test_each_transition_reaches_each_recipient_once_even_when_its_job_runs_twice(app, smtp):
    cust = customer("en", "once@example.com")
    with at(WEDNESDAY_10):
        ticket = make_ticket("review", order=make_order(cust))
        apply_event(ticket, "reject", staff("agent"), reason="the key was redeemed before the report")
        seq = db.session.scalar(select(func.max(Notification.id)))
        from app.workflow.models import TicketEvent

        ev = db.session.scalar(select(TicketEvent).where(TicketEvent.event == "reject"))
        assert jobs.notify_transition(ticket.id, ev.seq) == 0  # the after-commit job did it already
        assert jobs.send_due_emails() == 0
    assert seq is not None
    [mail] = smtp.to("once@example.com")
    assert "rejected" in str(mail["Subject"]) and "the key was redeemed" in body(mail)
    assert "appeal once, until 2026-12-10" in body(mail)
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == cust.id)) == 1


def test_non_urgent_mail_at_night_waits_for_the_business_morning_urgent_goes_at_once(app, smtp):
    cust = customer("en", "night@example.com")
    manager = make_user("manager", email="boss@example.com", locale="en")
    with at(cst(2026, 11, 27, 23, 30)):  # Friday night
        ticket = make_ticket("review", order=make_order(cust))
        apply_event(ticket, "resolve", staff("agent"), reason="a new card key was sent")
        from app.notifications.services import notify_user

        notify_user(manager, "sla_breach", ticket, cause="test:breach", params={"metric": "review_decision"})
        db.session.commit()
        assert jobs.send_due_emails() == 1
    assert smtp.subjects("night@example.com") == [] and len(smtp.to("boss@example.com")) == 1
    with at(cst(2026, 11, 30, 8, 59)):
        assert jobs.send_due_emails() == 0
    with at(cst(2026, 11, 30, 9, 0)):  # Monday 09:00
        assert jobs.send_due_emails() == 1
        assert jobs.send_due_emails() == 0
    [mail] = smtp.to("night@example.com")
    assert str(mail["Subject"]) == f"{ticket.ref}: resolved" and "a new card key was sent" in body(mail)


def test_a_failed_send_is_retried_ten_minutes_later(app, smtp, monkeypatch):
    cust = customer("zh_Hans_CN", "retry@example.com")
    with at(WEDNESDAY_10):
        app.config["SMTP_PORT"], port = 1, app.config["SMTP_PORT"]  # nothing listens there
        ticket = make_ticket("review", order=make_order(cust))
        apply_event(ticket, "resolve", staff("agent"), reason="已补发")
        delivery = db.session.scalar(select(Delivery))
        assert delivery.sent_at is None and delivery.attempts == 1 and delivery.last_error
        app.config["SMTP_PORT"] = port
    with at(cst(2026, 11, 25, 10, 9)):
        assert jobs.send_due_emails() == 0
    with at(cst(2026, 11, 25, 10, 11)):
        assert jobs.send_due_emails() == 1
    assert smtp.subjects("retry@example.com") == [f"{ticket.ref}：已解决"]


def test_optional_mail_has_a_working_unsubscribe_link_per_kind(app, smtp, client):
    cust = customer("en", "unsub@example.com")
    with at(WEDNESDAY_10):
        ticket = make_ticket("review", order=make_order(cust))
        apply_event(ticket, "resolve", staff("agent"), reason="done")
    [mail] = smtp.to("unsub@example.com")
    link = re.search(r"http://localhost(/notifications/unsubscribe/\S+)", body(mail)).group(1)
    assert mail["List-Unsubscribe"] == f"<http://localhost{link}>"
    page = client.get(link + "?lang=en")
    assert page.status_code == 200 and "Stop e-mails about “Request resolved”?" in page.get_data(as_text=True)
    assert client.post(link).status_code == 200  # one click, no login, no CSRF token: the token is signed
    assert client.get(link[:-3] + "xyz").status_code == 404  # tampered
    with at(WEDNESDAY_10):
        other = make_ticket("review", order=make_order(cust))
        apply_event(other, "resolve", staff("agent"), reason="done again")
        apply_event(make_ticket("review", order=make_order(cust)), "reject", staff("agent"), reason="no")
    subjects = smtp.subjects("unsub@example.com")
    assert len(subjects) == 2 and "rejected" in subjects[1]  # resolved: no more mail; rejected: mandatory
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "resolved")) == 2


def test_a_reply_from_support_reaches_the_customer_and_the_customers_reply_reaches_the_agent(app, smtp):
    from app.tickets.services import add_message, assign_ticket

    cust = customer("en", "chat@example.com")
    agent = make_user("agent", email="agent@example.com", locale="zh_Hans_CN")
    with at(WEDNESDAY_10):
        ticket = make_ticket("review", order=make_order(cust))
        assign_ticket(ticket, agent, agent)  # claiming for oneself tells nobody
        add_message(ticket, agent, "Could you tell us the account name?")
        add_message(ticket, agent, "internal: looks like fraud", internal=True)
        add_message(ticket, cust, "It is amy_2024")
        jobs.send_due_emails()
    [reply] = smtp.to("chat@example.com")
    assert str(reply["Subject"]) == f"{ticket.ref}: a reply from support" and "account name" in body(reply)
    [wrote] = smtp.to("agent@example.com")
    assert str(wrote["Subject"]) == f"{ticket.ref}：客户发来消息" and "amy_2024" in body(wrote)
    assert "fraud" not in "".join(body(m) for m in smtp.messages)


def test_assignment_approval_and_failed_payouts_reach_agents_and_finance(app, smtp):
    from app.tickets.services import assign_ticket

    cust = customer("en", "money@example.com")
    manager = make_user("manager", email="mgr@example.com", locale="en")
    agent = make_user("agent", email="agt@example.com", locale="en")
    finance = make_user("finance", email="fin@example.com", locale="en")
    with at(WEDNESDAY_10):
        ticket = make_ticket("review", order=make_order(cust))
        assign_ticket(ticket, agent, manager)
        apply_event(ticket, "approve", agent, amount_cents=6_000, reason="the other card worked")
        jobs.send_due_emails()
    assert smtp.subjects("agt@example.com") == [f"{ticket.ref} was assigned to you"]
    assert smtp.subjects("fin@example.com") == [f"{ticket.ref}: approved refund waiting to be paid"]
    [approved] = smtp.to("money@example.com")
    assert "¥60.00" in str(approved["Subject"])
    assert "You asked for ¥100.00; the agent approved part of it: the other card worked" in body(approved)
    assert finance.id  # the desk's finance user got it, not the manager
    assert smtp.subjects("mgr@example.com") == []
