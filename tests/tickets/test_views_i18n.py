"""Chinese by default, English on request: catalogs, labels, money and Asia/Shanghai times."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from app.i18n import money
from app.tickets.labels import CHANNEL_LABELS, KIND_HINTS, KIND_LABELS, PRODUCT_TYPE_LABELS
from app.workflow.labels import EVENT_LABELS, STATE_LABELS
from tests import translations
from tests.factories import make_order, make_ticket
from tests.tickets.test_views import login, text


def test_every_string_of_app_has_a_chinese_translation():
    """`make translations-check`: strings of app/ (Python and templates) against the zh catalog;
    placeholders must survive translation."""
    problems = translations.problems()
    assert problems == [], "\n".join(problems[:50])


def test_labels_are_translated(app):
    from flask_babel import force_locale

    with app.test_request_context("/"):
        with force_locale("zh_Hans_CN"):
            zh = {
                str(v)
                for d in (KIND_LABELS, KIND_HINTS, PRODUCT_TYPE_LABELS, CHANNEL_LABELS, STATE_LABELS, EVENT_LABELS)
                for v in d.values()
            }
            assert "卡密无效/已被使用" in zh and "财务处理中" in zh and "批准退款" in zh and "支付宝" in zh
        with force_locale("en"):
            assert str(KIND_LABELS["invalid_card"]) == "Invalid or used card key"


def test_money_is_yuan_with_two_decimals():
    assert money(1234) == "¥12.34" and money(5) == "¥0.05" and money(123456789) == "¥1,234,567.89"
    assert money(None) == "—"


def test_times_are_shown_in_asia_shanghai(client, app, auth):
    with time_machine.travel(datetime(2026, 11, 26, 17, 30, tzinfo=UTC), tick=False):
        ticket = make_ticket(order=make_order(paid_at=datetime(2026, 11, 26, 16, 0, tzinfo=UTC)))
    login(client, ticket.customer, auth)
    page = text(client.get(f"/tickets/{ticket.ref}"))
    assert "2026-11-27 01:30" in page  # 17:30 UTC is 01:30 the next day in Shanghai
    assert "2026-11-26 17:30" not in page


def test_pages_in_both_languages(client, app, auth):
    ticket = make_ticket("rejected")
    login(client, ticket.customer, auth)
    zh = text(client.get(f"/tickets/{ticket.ref}"))
    assert 'lang="zh-CN"' in zh and "申请已驳回" in zh and "现在的进展" in zh
    en = text(client.get(f"/tickets/{ticket.ref}?lang=en"))
    assert 'lang="en"' in en and "Request rejected" in en and "What is happening now" in en
    assert "申请已驳回" not in en


def test_error_pages_are_translated(client, app):
    page = text(client.get("/t/no-such-token"))
    assert "未找到" in page and "工单不存在" in page
    page = text(client.get("/nowhere?lang=en"))
    assert "Not found" in page and "There is nothing at this address" in page
    page = text(client.get("/nowhere?lang=zh"))
    assert "此地址没有内容" in page
