"""Admin without a shell, through the pages as an admin uses them (real log-in, CSRF on).

Requests of a second person run in their own app context (`as_other`), so one login cannot
leak into another's request through `g` while the fixtures hold a context.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.admin import services
from app.admin.models import AdminAction
from app.auth.models import ApiToken, User
from app.extensions import db as _db
from tests.factories import PASSWORD, make_ticket, make_user
from tests.helpers import csrf_token
from tests.tickets.test_views import login, text


def actions(**where) -> list[AdminAction]:
    q = select(AdminAction).filter_by(**where).order_by(AdminAction.id)
    return list(_db.session.scalars(q))


def post(client, path: str, data: dict | None = None, page: str = "/admin/users"):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client.get(page))})


def shown_secret(resp) -> str:
    m = re.search(r'<code id="secret">([^<]+)</code>', text(resp))
    assert m, "no secret on the page"
    return m.group(1)


def as_other(app, fn):
    """Run `fn(client)` with a fresh client in its own app context (its own `g` and session)."""
    with app.app_context():
        result = fn(app.test_client())
        _db.session.remove()
        return result


def try_login(client, email: str, password: str):
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(page)})


@pytest.fixture
def admin(client, auth):
    return login(client, make_user("admin", email="root@example.com"), auth)


def test_admin_creates_an_account_with_a_password_shown_once(client, app, admin):
    resp = post(
        client, "/admin/users", {"email": "New.Agent@example.com", "name": "小王", "role": "agent", "locale": "en"}
    )
    assert resp.status_code == 201 and resp.headers["Cache-Control"] == "no-store"
    password = shown_secret(resp)
    user = _db.session.scalar(select(User).where(User.email == "new.agent@example.com"))
    assert user.role == "agent" and user.name == "小王" and user.locale == "en" and user.check_password(password)
    [row] = actions(action="user_created")
    assert row.actor_id == admin.id and row.target_id == user.id and row.detail == {"role": "agent"}
    assert password not in str(row.detail) and password not in text(client.get(f"/admin/users/{user.id}"))
    assert "new.agent@example.com" in text(client.get("/admin/users?q=agent"))

    def new_user_logs_in(c):
        resp = try_login(c, "new.agent@example.com", password)
        return resp.status_code, resp.location

    assert as_other(app, new_user_logs_in) == (302, "/queue")


def test_a_taken_e_mail_or_bad_role_creates_nothing(client, app, admin):
    make_user("customer", email="taken@example.com")
    resp = post(client, "/admin/users", {"email": "taken@example.com", "role": "agent", "locale": "en"})
    assert resp.status_code == 409 and "该邮箱已注册" in text(resp)
    resp = post(client, "/admin/users", {"email": "x@example.com", "role": "superuser", "locale": "en"})
    assert resp.status_code == 422
    assert actions() == [] and _db.session.scalar(select(User).where(User.email == "x@example.com")) is None


def test_disabling_stops_log_in_the_open_session_and_api_tokens(client, app, admin, api):
    agent = make_user("agent")
    ticket = make_ticket()
    token = as_other(
        app, lambda c: c.post("/api/v1/auth/tokens", json={"email": agent.email, "password": PASSWORD}).json
    )
    session_client = app.test_client()
    with app.app_context():
        assert try_login(session_client, agent.email, PASSWORD).status_code == 302
        assert session_client.get("/queue").status_code == 200
        _db.session.remove()

    resp = post(client, f"/admin/users/{agent.id}/disable", page=f"/admin/users/{agent.id}")
    assert resp.status_code == 302 and "已停用" in text(client.get(resp.location))
    [row] = actions(action="user_disabled")
    assert row.target_id == agent.id and row.actor_id == admin.id

    def open_session_and_token(c):
        with app.app_context():
            queue = session_client.get("/queue")
            _db.session.remove()
        api_call = c.get(f"/api/v1/tickets/{ticket.ref}", headers={"Authorization": f"Bearer {token['token']}"})
        return queue.status_code, queue.location, api_call.status_code, try_login(c, agent.email, PASSWORD).status_code

    status, location, api_status, login_status = as_other(app, open_session_and_token)
    assert status == 302 and location.startswith("/login") and api_status == 401 and login_status == 401

    assert post(client, f"/admin/users/{agent.id}/enable", page=f"/admin/users/{agent.id}").status_code == 302
    assert as_other(app, lambda c: try_login(c, agent.email, PASSWORD).status_code) == 302
    assert [a.action for a in actions(target_id=agent.id)] == ["user_disabled", "user_enabled"]


def test_changing_a_role_changes_what_the_user_may_open(client, app, admin):
    user = make_user("agent")
    resp = post(client, f"/admin/users/{user.id}/role", {"role": "finance"}, page=f"/admin/users/{user.id}")
    assert resp.status_code == 302
    assert _db.session.get(User, user.id).role == "finance"
    [row] = actions(action="role_changed")
    assert row.detail == {"old": "agent", "new": "finance"} and row.target_label == user.email

    def lands(c):
        resp = try_login(c, user.email, PASSWORD)
        return resp.location, c.get("/finance/").status_code

    assert as_other(app, lands) == ("/finance/", 200)


def test_an_admin_cannot_lock_themselves_out(client, app, admin):
    page = text(client.get(f"/admin/users/{admin.id}"))
    assert f"/admin/users/{admin.id}/disable" not in page and f"/admin/users/{admin.id}/role" not in page
    assert post(client, f"/admin/users/{admin.id}/disable").status_code == 409
    assert post(client, f"/admin/users/{admin.id}/role", {"role": "agent"}).status_code == 409
    me = _db.session.get(User, admin.id)
    assert me.role == "admin" and me.is_active and actions() == []


def test_reset_password_replaces_the_old_one(client, app, admin):
    user = make_user("manager")
    resp = post(client, f"/admin/users/{user.id}/password", page=f"/admin/users/{user.id}")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    new = shown_secret(resp)
    assert as_other(app, lambda c: try_login(c, user.email, PASSWORD).status_code) == 401
    assert as_other(app, lambda c: try_login(c, user.email, new).status_code) == 302
    [row] = actions(action="password_reset")
    assert row.target_id == user.id and new not in str(row.detail)


def test_api_tokens_for_platform_clients_are_shown_once_and_revoked(client, app, admin):
    platform = make_user("platform", email="shop@example.com")
    agent = make_user("agent")
    ticket = make_ticket()
    page = text(client.get("/admin/tokens"))
    assert "shop@example.com" in page and agent.email not in page

    resp = post(
        client, "/admin/tokens", {"user": platform.id, "label": "shop production", "days": "90"}, page="/admin/tokens"
    )
    assert resp.status_code == 201 and resp.headers["Cache-Control"] == "no-store"
    token = shown_secret(resp)
    row = _db.session.scalar(select(ApiToken).where(ApiToken.label == "shop production"))
    assert row.user_id == platform.id and token not in row.token_hash
    assert timedelta(days=89) < row.expires_at - datetime.now(UTC) <= timedelta(days=90)
    listing = text(client.get("/admin/tokens"))
    assert "shop production" in listing and token not in listing

    def call(c):
        return c.get(f"/api/v1/tickets/{ticket.ref}", headers={"Authorization": f"Bearer {token}"}).status_code

    assert as_other(app, call) == 200
    row_id = row.id  # the row is deleted by the revoke (and the test's session sees that)
    assert post(client, f"/admin/tokens/{row_id}/revoke", page="/admin/tokens").status_code == 302
    assert as_other(app, call) == 401
    created, revoked = actions(target_type="token")
    assert (created.action, created.detail) == ("token_created", {"label": "shop production", "days": 90})
    assert (revoked.action, revoked.target_id, revoked.detail) == (
        "token_revoked",
        row_id,
        {"label": "shop production"},
    )

    resp = post(client, "/admin/tokens", {"user": agent.id, "label": "x", "days": "90"}, page="/admin/tokens")
    assert resp.status_code == 422 and "仅可发给有效的平台账号" in text(resp)
    assert len(actions(target_type="token")) == 2


def test_the_audit_log_filters_by_who_what_and_local_day_and_pages(client, app, admin):
    other = make_user("admin", email="second@example.com")
    target = make_user("agent", email="target@example.com")
    # 2026-11-30 17:30 UTC is 2026-12-01 01:30 in Beijing.
    late = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)
    for i in range(55):
        row = services.record(admin, "password_reset", "user", target.id, target.email)
        row.at = late - timedelta(days=2, minutes=i)
    services.record(other, "role_changed", "user", target.id, target.email, old="agent", new="manager").at = late
    _db.session.commit()

    page1 = text(client.get("/admin/audit"))
    assert page1.count("<time ") == 50 and "第 1 / 2 页" in page1
    assert text(client.get("/admin/audit?page=2")).count("<time ") == 6

    by_other = text(client.get(f"/admin/audit?actor={other.id}"))
    assert by_other.count("<time ") == 1 and "second@example.com" in by_other and "角色已更改" in by_other
    assert text(client.get("/admin/audit?action=password_reset")).count("<time ") == 50
    day = text(client.get("/admin/audit?start=2026-12-01&end=2026-12-01"))
    assert day.count("<time ") == 1 and "2026-12-01 01:30" in day
    assert text(client.get("/admin/audit?start=2026-11-30&end=2026-11-30")).count("<time ") == 0
    assert client.get("/admin/audit?start=2026-12-02&end=2026-12-01").status_code == 422


def test_a_merchant_account_is_created_with_its_merchant_and_never_converted(client, app, admin):
    from app.merchants.models import Merchant

    resp = post(client, "/admin/users", {"email": "shop@example.com", "role": "merchant", "locale": "en"})
    assert resp.status_code == 422 and "商家账号需要填写其商家编码" in text(resp)
    assert _db.session.scalar(select(User).where(User.email == "shop@example.com")) is None
    resp = post(
        client, "/admin/users", {"email": "shop@example.com", "role": "merchant", "locale": "en", "merchant": " M7 "}
    )
    assert resp.status_code == 201
    user = _db.session.scalar(select(User).where(User.email == "shop@example.com"))
    assert user.merchant_id == _db.session.scalar(select(Merchant.id).where(Merchant.code == "M7"))
    assert actions(action="user_created")[0].detail == {"role": "merchant", "merchant": "M7"}
    resp = post(client, "/admin/users", {"email": "a2@example.com", "role": "agent", "locale": "en", "merchant": "M7"})
    assert resp.status_code == 422  # only a merchant account takes a merchant
    agent = make_user("agent")
    for target, role in ((agent, "merchant"), (user, "agent")):
        resp = post(client, f"/admin/users/{target.id}/role", {"role": role}, page=f"/admin/users/{target.id}")
        assert resp.status_code == 409
    assert _db.session.get(User, agent.id).role == "agent" and _db.session.get(User, user.id).role == "merchant"


def test_macros_refund_policies_and_webhook_hosts_are_in_the_audit_log(client, app, admin, api):
    page = client.get("/macros")
    data = {
        "csrf_token": csrf_token(page),
        "name": "卡密核对",
        "language": "zh",
        "kind": "",
        "body": "您好 {customer_name}",
    }
    assert client.post("/macros", data=data).status_code == 302
    macro_id = actions(action="macro_saved")[0].target_id
    assert client.post(f"/macros/{macro_id}/delete", data={"csrf_token": csrf_token(page)}).status_code == 302
    form = client.get("/help/invalid_card/zh/edit")
    saved = client.post(
        "/help/invalid_card/zh/edit",
        data={"csrf_token": csrf_token(form), "title": "卡密无效", "body": "兑换失败请截图。", "base": "0"},
    )
    assert saved.status_code == 302
    hosts = client.post("/api/v1/webhooks/hosts", json={"host": "hooks.internal"}, headers=api.headers(admin))
    assert hosts.status_code == 201

    log = text(client.get("/admin/audit"))
    for label, target in (
        ("快捷回复已保存", "卡密核对"),
        ("快捷回复已删除", "卡密核对"),
        ("退款政策已保存", "invalid_card/zh v"),
        ("Webhook 主机已放行", "hooks.internal"),
    ):
        assert re.search(rf"<span>{label}</span>\s*<span>{re.escape(target)}", log), label
    assert "<span>kb_page_saved</span>" not in log  # a label, never the code
    for action, n in (("macro_saved", 1), ("macro_deleted", 1), ("kb_page_saved", 1), ("webhook_host_allowed", 1)):
        assert text(client.get(f"/admin/audit?action={action}")).count("<time ") == n, action
