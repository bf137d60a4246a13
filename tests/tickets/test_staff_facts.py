"""Facts right on the agent's ticket page (issue 14): yuan in messages, the approval limit before
trying, the membership pro-rata proposal as the approve default, readable sizes, OCR warnings."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from app.evidence import services as evidence
from app.extensions import db as _db
from app.tickets.services import create_ticket
from app.types import utcnow
from tests.factories import make_order, make_ticket, make_user, staff
from tests.tickets.test_views import fire, login, text


def test_balance_error_names_the_amount_in_yuan(client, app, auth):
    ticket = make_ticket("review", order=make_order(amount_cents=9_850), amount_cents=5_000)
    login(client, staff("agent"), auth)
    resp = fire(client, ticket, "approve", amount="100")
    body = text(resp)
    assert resp.status_code == 422 and "不超过可退余额（¥98.50）" in body
    assert "9850" not in body and " 分" not in body


def test_agent_sees_the_approval_limit_and_a_warning_when_the_request_is_above_it(client, app, auth):
    small = make_ticket("review", order=make_order(amount_cents=80_000), amount_cents=20_000)
    big = make_ticket("review", order=make_order(amount_cents=80_000), amount_cents=60_000)
    login(client, make_user("agent"), auth)
    page = text(client.get(f"/tickets/{small.ref}"))
    assert "您的审批限额为 ¥500.00。" in page and "over-limit" not in page
    page = text(client.get(f"/tickets/{big.ref}"))
    assert "您的审批限额为 ¥500.00。" in page
    assert re.search(r'class="warning over-limit"[^>]*>¥600.00 超出您的审批限额：最多批准 ¥500.00', page)


def test_manager_has_no_limit_shown(client, app, auth):
    ticket = make_ticket("review", order=make_order(amount_cents=80_000), amount_cents=60_000)
    login(client, make_user("manager"), auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    assert 'class="event-form event-approve"' in page and "审批限额" not in page


def test_pro_rata_proposal_is_shown_and_is_the_approve_default(client, app, auth):
    order = make_order(
        product_type="membership",
        amount_cents=30_000,
        membership_term_days=30,
        membership_activated_at=utcnow() - timedelta(days=10, hours=-1),
        membership_benefits_used_cents=2_500,
    )
    ticket = create_ticket(order.order_no, "membership_refund", "please refund", order.customer)
    assert ticket.state == "review"
    login(client, staff("agent"), auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    # 20 unused days of 30 = ¥200.00, minus ¥25.00 of benefits used; the customer was told ¥175.00
    assert "按比例退款建议（已告知客户的金额）：¥175.00" in page
    assert re.search(r'id="approve-amount"[^>]*value="175.00"', page)
    assert 'class="small fast-track-words"' in page and "¥175.00" in page


def test_small_files_in_bytes_and_ocr_mismatch_as_a_warning(client, app, auth):
    ticket = make_ticket("review")
    ev = evidence.attach_evidence(ticket, io.BytesIO(b"order KM1 paid twice"), "note.txt", ticket.customer)
    ev.match = {"order_no": "mismatch"}
    _db.session.commit()
    login(client, staff("agent"), auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    assert "20 字节" in page and "0.0 KB" not in page
    assert 'class="evidence-match bad warning"' in page
