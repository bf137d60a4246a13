"""Admin without a shell, beyond accounts and tokens: merchants (deposit top-ups, suspension,
their accounts), incidents (a product-type picker where none means all) and the business
calendar — reachable from the admin tabs, every action in the audit log, and refused to the
roles without the permission."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.admin.models import AdminAction
from app.extensions import db as _db
from app.merchants.models import Merchant
from app.tickets.models import PRODUCT_TYPES
from app.workflow.models import Incident
from tests.factories import make_order, make_user, merchant_user, staff
from tests.helpers import csrf_token
from tests.tickets.test_views import login, text


def actions(action: str) -> list[AdminAction]:
    return list(_db.session.scalars(select(AdminAction).filter_by(action=action).order_by(AdminAction.id)))


def post(client, path: str, data: dict, page: str):
    return client.post(path, data={**data, "csrf_token": csrf_token(client.get(page))}, follow_redirects=True)


@pytest.fixture
def merchant(db):
    make_order()  # creates merchant M1 (Star Cards)
    return _db.session.scalar(select(Merchant).where(Merchant.code == "M1"))


@pytest.fixture
def admin(client, auth):
    return login(client, make_user("admin", email="root@example.com"), auth)


def test_admin_tabs_reach_merchants_and_incidents(client, admin):
    page = text(client.get("/admin/users"))
    tabs = page[page.index('class="tabs admin-tabs"') :]
    tabs = tabs[: tabs.index("</nav>")]
    assert 'href="/merchants"' in tabs and 'href="/finance/incidents"' in tabs and 'href="/sla/calendar"' in tabs
    assert ">商家<" in tabs and ">平台故障<" in tabs
    for href in ("/merchants", "/finance/incidents", "/sla/calendar"):
        assert client.get(href).status_code == 200, href


def test_admin_tops_up_a_deposit_and_suspends_a_merchant_audited(client, admin, merchant):
    page = text(client.get("/merchants/M1"))
    assert 'id="top-up"' in page and "standing-suspend" in page
    done = text(post(client, "/merchants/M1/deposits", {"amount": "2500.50", "note": "季度保证金"}, "/merchants/M1"))
    assert "¥2,500.50" in done
    done = text(post(client, "/merchants/M1/standing", {"action": "suspend", "reason": "多次超时"}, "/merchants/M1"))
    assert "已暂停" in done or "暂停" in done
    _db.session.expire_all()
    m = _db.session.get(Merchant, merchant.id)
    assert m.deposit_cents == 250_050 and m.suspended_at is not None
    [top_up] = actions("merchant_top_up")
    assert top_up.target_label == "M1" and top_up.detail["amount_cents"] == 250_050 and top_up.actor.role == "admin"
    [suspended] = actions("merchant_suspend")
    assert suspended.detail["reason"] == "多次超时"
    log = text(client.get("/admin/audit"))
    assert "商家保证金已充值" in log and "¥2,500.50" in log and "商家已暂停" in log and "「多次超时」" in log
    assert text(client.get("/admin/audit?action=merchant_suspend")).count("<li>") >= 1


def test_merchant_page_lists_its_accounts_and_prefills_a_new_one(client, admin, merchant):
    user = merchant_user("M1")
    page = text(client.get("/merchants/M1"))
    assert user.email in page and f"/admin/users/{user.id}" in page
    assert "/admin/users?merchant=M1" in page
    form = text(client.get("/admin/users?merchant=M1"))
    assert 'value="M1"' in form and '<option selected value="merchant">' in form


def test_finance_tops_up_but_cannot_suspend(client, auth, merchant):
    login(client, staff("finance"), auth)
    page = text(client.get("/merchants/M1"))
    assert 'id="top-up"' in page and "standing-suspend" not in page
    token = csrf_token(client.get("/merchants/M1"))
    resp = client.post("/merchants/M1/standing", data={"csrf_token": token, "action": "suspend", "reason": "x"})
    assert resp.status_code == 403
    assert _db.session.get(Merchant, merchant.id).suspended_at is None and actions("merchant_suspend") == []


def test_agents_neither_top_up_nor_suspend(client, auth, merchant):
    login(client, staff("agent"), auth)
    page = text(client.get("/merchants/M1"))
    assert 'id="top-up"' not in page and "standing-suspend" not in page
    token = csrf_token(client.get("/", follow_redirects=True))
    assert client.post("/merchants/M1/deposits", data={"csrf_token": token, "amount": "10"}).status_code == 403
    assert client.get("/finance/incidents").status_code == 403


@pytest.mark.parametrize(
    "chosen, shown",
    [([], "全部商品类型"), (["recharge"], "充值"), (["recharge", "game_card"], "游戏点卡")],
)
def test_incident_picker_takes_none_one_or_several(client, admin, chosen, shown):
    data = {"starts_at": "2026-11-20T09:00", "note": "支付通道故障", "product_types": chosen}
    page = text(post(client, "/finance/incidents", data, "/finance/incidents"))
    incident = _db.session.scalar(select(Incident))
    assert incident is not None, page
    assert incident.product_types == (list(PRODUCT_TYPES) if not chosen else [t for t in PRODUCT_TYPES if t in chosen])
    row = page[page.index(f'data-incident="{incident.id}"') :]
    assert shown in row[: row.index("</tr>")]
    [declared] = actions("incident_declared")
    assert declared.target_id == incident.id and declared.actor.email == "root@example.com"


def test_incident_columns_are_labelled_in_both_languages(client, admin):
    page = text(client.get("/finance/incidents"))
    head = page[page.index("<thead>") : page.index("</thead>")]
    for label in ("开始时间（北京时间）", "结束时间（北京时间）", "受影响的商品类型", "故障说明", "登记人"):
        assert label in head, label
    assert "首页" not in head  # "Start" is the home page's title elsewhere
    assert "勾选受影响的商品类型" in page
    page = text(client.get("/finance/incidents?lang=en"))
    head = page[page.index("<thead>") : page.index("</thead>")]
    assert "Starts (Beijing time)" in head and "Affected product types" in head


def test_ending_an_incident_is_audited(client, admin):
    post(client, "/finance/incidents", {"starts_at": "2026-11-20T09:00", "note": "outage"}, "/finance/incidents")
    incident = _db.session.scalar(select(Incident))
    post(client, f"/finance/incidents/{incident.id}/end", {"ends_at": "2026-11-20T10:00"}, "/finance/incidents")
    [ended] = actions("incident_ended")
    assert ended.target_id == incident.id and ended.detail["ends_at"].startswith("2026-11-20T02:00")
    assert "故障结束时间已设置" in text(client.get("/admin/audit"))


def test_calendar_changes_are_audited(client, admin):
    data = {"day": "2026-12-31", "kind": "holiday", "note": "公司年会"}
    post(client, "/sla/calendar", data, "/sla/calendar")
    post(client, "/sla/calendar/remove", {"day": "2026-12-31"}, "/sla/calendar")
    assert [a.target_label for a in actions("calendar_date_set")] == ["2026-12-31"]
    assert [a.detail["kind"] for a in actions("calendar_date_removed")] == ["holiday"]
    log = text(client.get("/admin/audit"))
    assert "日历日期已设置" in log and "日历日期已删除" in log
