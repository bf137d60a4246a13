"""Staff pages (test client, CSRF on): the queue, claim/assign, the agent ticket page, finance."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db as _db
from app.tickets.models import Message, Ticket
from app.types import utcnow
from app.workflow.models import TicketEvent
from tests.factories import make_order, make_ticket, make_user, staff
from tests.tickets.test_views import count_queries, fire, login, post, text


def events_of(ticket) -> int:
    return _db.session.scalar(select(func.count(TicketEvent.id)).where(TicketEvent.ticket_id == ticket.id))


def forms_on(page: str) -> set[str]:
    return set(re.findall(r'class="event-form event-(\w+)"', page))


# --- the queue ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["customer", "platform"])
def test_queue_is_403_for_non_staff(client, app, auth, role):
    login(client, make_user(role), auth)
    assert client.get("/queue").status_code == 403


def test_queue_counts_filters_and_oldest_first(client, app, auth):
    agent = staff("agent")
    now = utcnow()
    with time_machine.travel(now - timedelta(hours=3), tick=False):
        old = make_ticket(kind="invalid_card")
    with time_machine.travel(now - timedelta(hours=1), tick=False):
        new = make_ticket(kind="not_delivered")
    make_ticket("review")
    make_ticket("finance")
    login(client, agent, auth)
    page = text(client.get("/queue"))  # agents start on new tickets
    assert page.index(old.ref) < page.index(new.ref)
    assert re.search(r'data-state="submitted"[^>]*>已提交 <span class="count">2</span>', page)
    assert re.search(r'data-state="review"[^>]*>审核中 <span class="count">1</span>', page)
    assert re.search(r'data-state="finance"[^>]*>财务处理中 <span class="count">1</span>', page)
    page = text(client.get("/queue?state=submitted&kind=invalid_card"))
    assert old.ref in page and new.ref not in page
    page = text(client.get("/queue?state="))
    assert all(t in page for t in (old.ref, new.ref))
    assert client.get("/queue?state=bogus").status_code == 422
    assert client.get("/queue?cursor=%%%").status_code == 422


def test_queue_pages_by_cursor(client, app, auth, monkeypatch):
    app.config["PAGE_SIZE"] = 2
    now = utcnow()
    refs = []
    for i in range(5):
        with time_machine.travel(now - timedelta(minutes=50 - i), tick=False):
            refs.append(make_ticket().ref)
    login(client, staff("agent"), auth)
    seen, url = [], "/queue"
    for _ in range(5):
        if not url:
            break
        page = text(client.get(url))
        seen += re.findall(r'<tr data-ref="([\w-]+)"', page)
        m = re.search(r'<a class="button" href="(/queue\?[^"]*cursor=[^"]+)"', page)  # "next page"
        url = m.group(1).replace("&amp;", "&") if m else None
    assert seen == refs and url is None


def test_queue_has_no_n_plus_1(client, app, auth):
    make_ticket()
    agent = staff("agent")
    login(client, agent, auth)
    with count_queries() as few:
        client.get("/queue")
    for _ in range(5):
        make_ticket()
    with count_queries() as many:
        client.get("/queue")
    assert len(many) == len(few)


def test_claim_from_the_queue_and_mine_filter(client, app, auth):
    ticket, other = make_ticket(), make_ticket()
    agent = staff("agent")
    login(client, agent, auth)
    resp = post(
        client,
        f"/tickets/{ticket.ref}/assign?next=/queue%3Fwho%3Dunassigned",
        {"assignee": str(agent.id), "version": str(ticket.version)},
    )
    assert resp.status_code == 302 and resp.location.startswith("/queue")
    assert _db.session.get(Ticket, ticket.id).assignee_id == agent.id
    mine = text(client.get("/queue?who=mine"))
    assert ticket.ref in mine and other.ref not in mine
    unassigned = text(client.get("/queue?who=unassigned"))
    assert other.ref in unassigned and ticket.ref not in unassigned
    resp = post(client, f"/tickets/{other.ref}/assign", {"assignee": str(agent.id), "version": "0"})
    assert resp.status_code == 409 and "其他人已先修改了此工单" in text(resp)
    assert _db.session.get(Ticket, other.id).assignee_id is None


def test_agents_claim_only_for_themselves_and_managers_assign(client, app, auth):
    ticket = make_ticket()
    a1, a2 = make_user("agent", name="甲"), make_user("agent", name="乙")
    login(client, a1, auth)
    resp = post(client, f"/tickets/{ticket.ref}/assign", {"assignee": str(a2.id), "version": str(ticket.version)})
    assert resp.status_code == 403 and "客服只能为自己认领工单" in text(resp)
    assert _db.session.get(Ticket, ticket.id).assignee_id is None
    auth.logout()
    login(client, make_user("manager"), auth)
    assert 'name="assignee"' in text(client.get(f"/tickets/{ticket.ref}"))
    resp = post(
        client,
        f"/tickets/{ticket.ref}/assign",
        {"assignee": str(a2.id), "version": str(ticket.version)},
        page=f"/tickets/{ticket.ref}",
    )
    assert resp.status_code == 302 and _db.session.get(Ticket, ticket.id).assignee_id == a2.id
    auth.logout()
    login(client, staff("finance"), auth)
    assert post(client, f"/tickets/{ticket.ref}/assign", {"assignee": "0"}).status_code == 403


# --- the agent ticket page ---------------------------------------------------------------------


def test_agent_page_shows_order_facts_history_and_only_allowed_events(client, app, auth):
    customer = make_user(name="老王")
    now = utcnow()
    with time_machine.travel(now - timedelta(days=100), tick=False):
        ancient = make_ticket(order=make_order(customer))
    refunded = make_ticket("paid", order=make_order(customer), amount_cents=3_000)
    order = make_order(
        customer,
        product_type="membership",
        product_name="爱奇艺 黄金会员 年卡",
        amount_cents=19_800,
        payment_channel="wechat",
        card_key_revealed_at=now - timedelta(hours=1),
        membership_activated_at=now - timedelta(days=30),
        membership_term_days=365,
        membership_benefits_used_cents=1_200,
    )
    ticket = make_ticket(order=order, kind="membership_refund")
    _db.session.add(Message(ticket_id=ticket.id, author_id=staff("agent").id, body="内部：老客户", internal=True))
    _db.session.commit()
    login(client, staff("agent"), auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    for fact in ("爱奇艺 黄金会员 年卡", "¥198.00", "微信支付", "已发货", "卡密已查看", "365 天", "¥12.00", "已激活"):
        assert fact in page, fact
    assert refunded.ref in page and ancient.ref not in page  # the last 90 days only
    assert "近 90 天：申请 2 个，已退款 1 笔（¥30.00）" in page
    assert "内部：老客户" in page and "内部备注（客户永远看不到）" in page
    assert forms_on(page) == {"request_evidence", "start_review", "merge"}
    assert "时间线" in page and "提交" in page


def test_a_busy_customers_history_counts_every_ticket_and_lists_the_newest(client, app, auth):
    customer = make_user(name="常客")
    tickets = [make_ticket(order=make_order(customer)) for _ in range(11)]
    paid = make_ticket("paid", order=make_order(customer), amount_cents=2_500)
    login(client, staff("agent"), auth)
    page = text(client.get(f"/tickets/{tickets[0].ref}"))
    assert "近 90 天：申请 12 个，已退款 1 笔（¥25.00）" in page  # totals over all twelve
    assert paid.ref in page and tickets[-1].ref in page and tickets[1].ref not in page  # the newest ten
    assert "列出最新的 10 个" in page


def test_request_evidence_through_the_form(client, app, auth):
    ticket = make_ticket(kind="not_as_described")
    login(client, staff("agent"), auth)
    resp = fire(client, ticket, "request_evidence", items="")
    assert resp.status_code == 422 and "请至少列出一项需要客户提供的材料" in text(resp)
    assert _db.session.get(Ticket, ticket.id).state == "submitted" and events_of(ticket) == 1
    resp = post(
        client,
        f"/tickets/{ticket.ref}/events",
        {
            "event": "request_evidence",
            "version": str(ticket.version),
            "checklist": "screenshot_or_recording",
            "items": "商品页截图\n收到的商品照片",
        },
    )
    assert resp.status_code == 302
    ev = _db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.seq.desc())
    ).first()
    assert ev.event == "request_evidence" and ev.payload["items"] == [
        "screenshot_or_recording",
        "商品页截图",
        "收到的商品照片",
    ]


def test_approve_amount_in_yuan_and_its_errors(client, app, auth):
    ticket = make_ticket("review", order=make_order(amount_cents=20_000), amount_cents=12_000)
    login(client, staff("agent"), auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    assert re.search(r'id="approve-amount"[^>]*value="120.00"', page)
    assert forms_on(page) == {"request_evidence", "approve", "reject", "resolve", "merge"}
    resp = fire(client, ticket, "approve", amount="100.005")
    assert resp.status_code == 422 and "最多保留两位小数" in text(resp)
    resp = fire(client, ticket, "approve", amount="100000")
    assert resp.status_code == 422 and "金额必须大于 0" in text(resp)
    resp = fire(client, ticket, "reject", reason="")
    assert resp.status_code == 422 and "必填" in text(resp)
    assert _db.session.get(Ticket, ticket.id).state == "review" and events_of(ticket) == 2
    resp = fire(client, ticket, "approve", amount="99.5")
    assert resp.status_code == 302
    t = _db.session.get(Ticket, ticket.id)
    assert t.state == "finance" and t.approved_amount_cents == 9_950


def test_agent_above_the_approval_limit_is_told_and_nothing_changes(client, app, auth):
    order = make_order(amount_cents=80_000)
    ticket = make_ticket("review", order=order)
    login(client, make_user("agent"), auth)
    resp = fire(client, ticket, "approve", amount="600")
    assert resp.status_code == 403 and "超过审批额度的金额需要主管批准" in text(resp)
    assert _db.session.get(Ticket, ticket.id).state == "review"


def test_stale_page_gets_a_clear_conflict(client, app, auth):
    ticket = make_ticket("review")
    login(client, staff("agent"), auth)
    stale = ticket.version
    assert fire(client, ticket, "request_evidence", items="付款记录").status_code == 302
    resp = post(client, f"/tickets/{ticket.ref}/events", {"event": "reject", "reason": "x", "version": str(stale)})
    assert resp.status_code == 409 and "其他人已先修改了此工单" in text(resp)
    assert _db.session.get(Ticket, ticket.id).state == "evidence"


def test_reply_and_internal_note(client, app, auth):
    ticket = make_ticket()
    login(client, staff("agent"), auth)
    assert (
        post(client, f"/tickets/{ticket.ref}/messages", {"body": "您好，正在处理", "internal": "0"}).status_code == 302
    )
    assert post(client, f"/tickets/{ticket.ref}/messages", {"body": "商家说已发货", "internal": "1"}).status_code == 302
    resp = post(client, f"/tickets/{ticket.ref}/messages", {"body": "", "internal": "1"})
    assert resp.status_code == 422 and "请先填写消息内容" in text(resp)
    rows = {m.body: m.internal for m in _db.session.scalars(select(Message).where(Message.ticket_id == ticket.id))}
    assert rows == {"您好，正在处理": False, "商家说已发货": True}
    tracker = text(client.get(f"/t/{ticket.tracker_token}"))
    assert "您好，正在处理" in tracker and "商家说已发货" not in tracker


def test_finance_sees_the_page_read_only_except_pay(client, app, auth):
    ticket = make_ticket("finance")
    fin = staff("finance")
    login(client, fin, auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    assert forms_on(page) == {"return_to_review", "pay"}
    assert 'id="reply-body"' not in page and 'id="note-body"' not in page
    assert post(client, f"/tickets/{ticket.ref}/messages", {"body": "x"}).status_code == 403
    resp = fire(client, ticket, "pay", reference="")
    assert resp.status_code == 422 and "请输入支付渠道的打款流水号" in text(resp)
    resp = fire(client, ticket, "pay", reference="ALI-20261126-0001")
    assert resp.status_code == 302
    assert _db.session.get(Ticket, ticket.id).state == "paid"
    ev = _db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.seq.desc())
    ).first()
    assert ev.event == "pay" and ev.reason == "ALI-20261126-0001" and ev.payload["reference"] == "ALI-20261126-0001"


def test_login_sends_each_role_to_its_desk_and_home_is_a_desk_page(client, app, auth):
    for role, _where in (("agent", "/queue"), ("manager", "/queue"), ("finance", "/")):
        user = make_user(role)
        resp = login(client, user, auth)
        assert client.get("/").status_code == 200
        assert (
            "财务台" in text(client.get("/")) if role in ("finance", "manager") else "工单队列" in text(client.get("/"))
        )
        auth.logout()
    resp = auth.login(make_user("agent"))
    assert resp.location.endswith("/queue")


def test_platform_account_has_no_pages(client, app, auth):
    ticket = make_ticket()
    login(client, make_user("platform"), auth)
    assert client.get(f"/tickets/{ticket.ref}").status_code == 403
    assert "通过 API 使用" in text(client.get("/"))
