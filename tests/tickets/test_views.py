"""Customer pages (test client, CSRF on): orders, the ticket form, my tickets, the tracker."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event, func, select

from app.auth.models import User
from app.extensions import db as _db
from app.tickets.models import Message, Ticket
from app.types import utcnow
from app.workflow.models import TicketEvent
from app.workflow.service import apply_event
from tests.factories import make_order, make_ticket, make_user, staff
from tests.helpers import csrf_token
from tests.translations import ensure_compiled

ensure_compiled()


# --- helpers shared by the view tests ---------------------------------------------------------


def login(client, user, auth):
    resp = auth.login(user)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return user


def token(client, path: str = "/") -> str:
    return csrf_token(client.get(path, follow_redirects=True))


def post(client, path: str, data: dict, *, csrf: bool = True, page: str = "/"):
    body = dict(data)
    if csrf:
        body["csrf_token"] = token(client, page)
    return client.post(path, data=body)


def text(resp) -> str:
    return resp.get_data(as_text=True)


def fire(client, ticket, event_name: str, **fields):
    data = {"event": event_name, "version": str(ticket.version), **fields}
    return post(client, f"/tickets/{ticket.ref}/events", data)


def count_tickets() -> int:
    return _db.session.scalar(select(func.count(Ticket.id)))


@contextmanager
def count_queries():
    seen: list[str] = []
    _db.session.remove()  # requests share the test's session: start from an empty identity map

    def before(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(_db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(_db.engine, "before_cursor_execute", before)


# --- access -----------------------------------------------------------------------------------


def test_customer_pages_need_a_login(client, app):
    for path in ("/", "/orders", "/tickets", "/queue"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.location


@pytest.mark.parametrize("role", ["agent", "finance", "manager", "platform"])
def test_customer_pages_are_403_for_other_roles(client, app, auth, role):
    order = make_order()
    login(client, make_user(role), auth)
    for path in ("/orders", "/tickets", f"/orders/{order.order_no}/ticket"):
        assert client.get(path).status_code == 403
    resp = post(
        client, f"/orders/{order.order_no}/ticket", {"kind": "other", "description": "x", "amount": "1"}, page="/login"
    )
    assert resp.status_code == 403 and count_tickets() == 0


def test_another_customers_order_and_ticket_are_404(client, app, auth):
    mine, theirs = make_user(), make_user()
    order = make_order(theirs)
    ticket = make_ticket(order=make_order(theirs))
    login(client, mine, auth)
    assert client.get(f"/orders/{order.order_no}/ticket").status_code == 404
    assert (
        post(
            client, f"/orders/{order.order_no}/ticket", {"kind": "other", "description": "x", "amount": "1"}
        ).status_code
        == 404
    )
    assert client.get(f"/tickets/{ticket.ref}").status_code == 404
    assert fire(client, ticket, "withdraw").status_code == 404
    assert post(client, f"/tickets/{ticket.ref}/messages", {"body": "hi"}).status_code == 404
    assert ticket.ref not in text(client.get("/tickets")) and order.order_no not in text(client.get("/orders"))
    assert count_tickets() == 1 and ticket.state == "submitted"


# --- my orders and the ticket form -------------------------------------------------------------


def test_my_orders_show_refundable_balance_and_the_one_click_button(client, app, auth):
    customer = make_user()
    full = make_order(customer, amount_cents=10_000, product_name="王者荣耀 点券")
    partly = make_order(customer, amount_cents=20_000)
    make_ticket("paid", order=partly, amount_cents=5_000)
    login(client, customer, auth)
    page = text(client.get("/orders"))
    assert "王者荣耀 点券" in page and "¥100.00" in page
    assert "¥150.00" in page  # 200.00 − 50.00 already refunded
    assert f"/orders/{full.order_no}/ticket" in page and "申请退款 / 投诉" in page
    assert f"/orders/{full.order_no}/ticket" in text(client.get("/"))  # the customer's home is "my orders"


def test_orders_page_has_no_n_plus_1(client, app, auth):
    customer = make_user()
    make_ticket(order=make_order(customer))
    login(client, customer, auth)
    cid = customer.id
    with count_queries() as few:
        client.get("/orders")
    customer = _db.session.get(User, cid)
    for _ in range(6):
        make_ticket("finance", order=make_order(customer))
    with count_queries() as many:
        client.get("/orders")
    assert len(many) == len(few)


def test_ticket_form_is_filled_from_the_order(client, app, auth):
    customer = make_user()
    order = make_order(customer, amount_cents=12_345, product_name="Steam 钱包卡")
    login(client, customer, auth)
    page = text(client.get(f"/orders/{order.order_no}/ticket"))
    assert order.order_no in page and "Steam 钱包卡" in page
    assert re.search(r'id="amount"[^>]*value="123.45"', page)
    assert len(re.findall(r'name="kind"', page)) == 8  # the 8 kinds, each with its hint
    assert "卡密无效/已被使用" in page and "请准备激活失败的截图" in page


@pytest.mark.parametrize("amount,cents", [("12.34", 1234), ("¥99.9", 9990), ("123.45", 12345), ("0", 0)])
def test_filing_a_ticket_converts_yuan_to_cents_exactly(client, app, auth, amount, cents):
    customer = make_user()
    order = make_order(customer, amount_cents=12_345)
    login(client, customer, auth)
    resp = post(
        client,
        f"/orders/{order.order_no}/ticket",
        {"kind": "not_as_described", "description": "与描述不符", "amount": amount},
    )
    assert resp.status_code == 302
    ticket = _db.session.scalar(select(Ticket))
    assert resp.location.endswith(f"/tickets/{ticket.ref}")
    assert ticket.requested_amount_cents == cents and ticket.state == "submitted" and ticket.kind == "not_as_described"
    assert ticket.ref in text(client.get(resp.location))  # the flash names the new request


@pytest.mark.parametrize(
    "data,message",
    [
        ({"kind": "not_delivered", "description": "x", "amount": "123.46"}, "金额不能超过可退余额 ¥123.45"),
        ({"kind": "not_delivered", "description": "x", "amount": "1.234"}, "最多保留两位小数"),
        ({"kind": "not_delivered", "description": "x", "amount": "-1"}, "请输入不小于 0 的金额"),
        ({"kind": "not_delivered", "description": "x", "amount": "abc"}, "请输入金额，例如 12.34"),
        ({"kind": "not_delivered", "description": "", "amount": "1"}, "请简单说明发生了什么"),
        ({"kind": "teleport", "description": "x", "amount": "1"}, "请选择问题类型"),
        ({"description": "x", "amount": "1"}, "请选择问题类型"),
    ],
)
def test_invalid_ticket_form_comes_back_with_the_message_and_saves_nothing(client, app, auth, data, message):
    customer = make_user()
    order = make_order(customer, amount_cents=12_345)
    login(client, customer, auth)
    resp = post(client, f"/orders/{order.order_no}/ticket", data)
    assert resp.status_code == 422
    page = text(resp)
    assert message in page and 'class="ticket-form"' in page
    assert count_tickets() == 0


def test_ticket_form_without_csrf_is_refused(client, app, auth):
    customer = make_user()
    order = make_order(customer)
    login(client, customer, auth)
    resp = post(
        client, f"/orders/{order.order_no}/ticket", {"kind": "other", "description": "x", "amount": "1"}, csrf=False
    )
    assert resp.status_code == 400 and "表单已过期" in text(resp)
    assert count_tickets() == 0


def test_my_tickets_lists_only_mine(client, app, auth):
    customer = make_user()
    mine = make_ticket(order=make_order(customer))
    other = make_ticket()
    login(client, customer, auth)
    page = text(client.get("/tickets"))
    assert mine.ref in page and other.ref not in page and "已提交" in page


# --- the tracker ---------------------------------------------------------------------------------


def steps(page: str) -> dict[str, str]:
    return {k: v for v, k in re.findall(r'<li class="step (\w+)" data-step="(\w+)"', page)}


def test_tracker_of_a_new_ticket(client, app, auth):
    ticket = make_ticket()
    login(client, ticket.customer, auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    assert steps(page) == {
        "submitted": "current",
        "evidence": "todo",
        "review": "todo",
        "finance": "todo",
        "paid": "todo",
    }
    for label in ("提交", "补充材料", "审核", "财务处理", "已到账"):
        assert f'<span class="step-label">{label}</span>' in page
    assert "我们已收到您的申请" in page and "目前不需要" in page
    assert 'class="event-form event-withdraw"' in page  # withdraw while allowed
    assert "event-approve" not in page


def test_tracker_in_evidence_says_what_is_needed_and_how(client, app, auth):
    ticket = make_ticket("evidence")
    login(client, ticket.customer, auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    assert steps(page)["evidence"] == "current" and steps(page)["submitted"] == "done"
    assert 'class="box needs open"' in page and "需要您提供" in page
    assert "payment record" in page  # the item the agent asked for
    assert 'class="event-form event-provide_evidence"' in page


def test_provide_evidence_needs_every_item_then_moves_to_review(client, app, auth):
    ticket = make_ticket("evidence")
    login(client, ticket.customer, auth)
    resp = fire(client, ticket, "provide_evidence", reason="见附件")
    assert resp.status_code == 422 and "payment record" in text(resp)
    assert _db.session.get(Ticket, ticket.id).state == "evidence"
    from app.evidence.services import answer_item, requested_items

    answer_item(ticket, requested_items(ticket)[0].code, "账单已删除，无法提供", ticket.customer)
    resp = fire(client, ticket, "provide_evidence", reason="见附件")
    assert resp.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Ticket, ticket.id).state == "review"
    page = text(client.get(resp.location))
    assert "已完成：提交材料" in page and steps(page)["review"] == "current" and steps(page)["evidence"] == "done"


def test_withdraw_ends_the_ticket_clearly(client, app, auth):
    ticket = make_ticket("review")
    login(client, ticket.customer, auth)
    assert fire(client, ticket, "withdraw", reason="已经自己解决了").status_code == 302
    page = text(client.get(f"/tickets/{ticket.ref}"))
    assert "您已撤回此申请" in page and "已经自己解决了" in page
    assert 'data-step="withdrawn"' in page and steps(page)["finance"] == "unreached"
    assert "event-withdraw" not in page


def test_rejected_shows_reason_and_appeal_while_the_window_is_open(client, app, auth):
    ticket = make_ticket("rejected")
    login(client, ticket.customer, auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    assert "申请已驳回" in page and "not covered" in page and "event-appeal" in page and "申诉一次" in page
    with time_machine.travel(utcnow() + timedelta(days=16)):
        later = text(client.get(f"/tickets/{ticket.ref}"))
    assert "申请已驳回" in later and "event-appeal" not in later
    assert fire(client, ticket, "appeal", reason="请再看看").status_code == 302
    assert _db.session.get(Ticket, ticket.id).state == "review"


@pytest.mark.parametrize("state,title", [("resolved", "已解决（无退款）"), ("closed", "申请已关闭")])
def test_other_endings_are_shown(client, app, auth, state, title):
    ticket = make_ticket(state)
    login(client, ticket.customer, auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    assert title in page and 'class="box ending' in page
    # the only action left: reopening a resolved request within its window
    reopen = state == "resolved"
    assert page.count("event-form") == int(reopen) and ("event-reopen" in page) == reopen


def test_paid_tracker_shows_every_step_done_with_its_time(client, app, auth):
    ticket = make_ticket("paid", amount_cents=4_321)
    login(client, ticket.customer, auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    s = steps(page)
    assert s == {"submitted": "done", "evidence": "skipped", "review": "done", "finance": "done", "paid": "done"}
    assert page.count("<time datetime=") >= 4 and "已退款 ¥43.21 至您的支付宝，预计" in page  # arriving (2 h window)


def test_not_allowed_and_stale_events_come_back_with_a_message(client, app, auth):
    ticket = make_ticket("review")
    login(client, ticket.customer, auth)
    stale = {"event": "withdraw", "version": str(ticket.version - 1)}
    resp = post(client, f"/tickets/{ticket.ref}/events", stale)
    assert resp.status_code == 409 and "其他人已先修改了此工单" in text(resp)
    resp = fire(client, ticket, "approve")
    assert resp.status_code == 403 and "您的角色无权执行此操作" in text(resp)
    resp = fire(client, ticket, "appeal", reason="please look again")
    assert resp.status_code == 409 and "工单当前状态下不允许此操作" in text(resp)
    resp = fire(client, ticket, "levitate")
    assert resp.status_code == 422 and "未知操作" in text(resp)
    assert _db.session.get(Ticket, ticket.id).state == "review"
    assert _db.session.scalar(select(func.count(TicketEvent.id)).where(TicketEvent.ticket_id == ticket.id)) == 2


def test_customer_messages_and_no_internal_notes(client, app, auth):
    ticket = make_ticket("review")
    agent = staff("agent")
    _db.session.add_all(
        [
            Message(ticket_id=ticket.id, author_id=agent.id, body="请稍等，正在核实", internal=False),
            Message(ticket_id=ticket.id, author_id=agent.id, body="SECRET 内部：疑似刷单", internal=True),
        ]
    )
    _db.session.commit()
    login(client, ticket.customer, auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    assert "请稍等，正在核实" in page and "SECRET" not in page
    assert post(client, f"/tickets/{ticket.ref}/messages", {"body": "好的，谢谢"}).status_code == 302
    resp = post(client, f"/tickets/{ticket.ref}/messages", {"body": "   "})
    assert resp.status_code == 422 and "请先填写消息内容" in text(resp)
    resp = post(client, f"/tickets/{ticket.ref}/messages", {"body": "sneaky", "internal": "1"})
    assert resp.status_code == 403 and "客户不能写内部备注" in text(resp)
    bodies = list(_db.session.scalars(select(Message.body).where(Message.ticket_id == ticket.id)))
    assert bodies.count("好的，谢谢") == 1 and "sneaky" not in bodies


def test_public_tracker_link_shows_only_the_progress(client, app):
    ticket = make_ticket("evidence")
    _db.session.add(Message(ticket_id=ticket.id, author_id=staff("agent").id, body="SECRET note", internal=True))
    _db.session.commit()
    page = text(client.get(f"/t/{ticket.tracker_token}"))
    assert "等待补充材料" in page and steps(page)["evidence"] == "current"
    assert "SECRET" not in page and "<form" not in page.split("</header>", 1)[1]
    assert "登录后提交" in page
    assert client.get("/t/not-a-token").status_code == 404
    assert client.get(f"/tickets/{ticket.ref}").status_code == 302  # the ticket page itself needs a login


def test_staff_reply_reaches_the_customer_tracker(client, app, auth):
    ticket = make_ticket()
    apply_event(ticket, "start_review", staff("agent"))
    _db.session.add(Message(ticket_id=ticket.id, author_id=staff("agent").id, body="已收到，马上处理"))
    _db.session.commit()
    page = text(client.get(f"/t/{ticket.tracker_token}"))
    assert "已收到，马上处理" in page and "客服" in page
