"""Register, log in, log out and the language switch (test client, CSRF on)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db as _db
from tests.factories import make_user
from tests.helpers import csrf_token
from tests.tickets.test_views import login, text

STRONG = "Violet-harbour-lantern-42"
REGISTER = {"email": "new.buyer@example.com", "name": "新用户", "password": STRONG, "confirm": STRONG}


def users() -> int:
    return _db.session.scalar(select(func.count(User.id)))


def register(client, data: dict, *, csrf: bool = True, path: str = "/register"):
    body = dict(data)
    if csrf:
        body["csrf_token"] = csrf_token(client.get(path))
    return client.post(path, data=body)


def test_register_creates_a_customer_then_the_login_page(client, app, auth):
    resp = register(client, REGISTER)
    assert resp.status_code == 303 and resp.location == "/login"
    user = _db.session.scalar(select(User).where(User.email == "new.buyer@example.com"))
    assert user.role == "customer" and user.name == "新用户" and user.locale == "zh_Hans_CN"
    assert user.check_password(STRONG)
    assert "账户已经创建好了" in text(client.get("/login"))
    auth.login(user, STRONG)
    assert "我的订单" in text(client.get("/", follow_redirects=True))


def test_register_in_english_keeps_the_language(client, app):
    client.get("/register?lang=en")
    assert register(client, REGISTER).status_code == 303
    assert _db.session.scalar(select(User.locale).where(User.email == REGISTER["email"])) == "en"


def test_register_can_never_make_staff(client, app):
    assert register(client, dict(REGISTER, role="admin")).status_code == 303
    assert _db.session.scalar(select(User.role).where(User.email == REGISTER["email"])) == "customer"


def test_invalid_registration_shows_the_form_again_and_saves_nothing(client, app):
    make_user(email="taken@example.com")
    before = users()
    cases = [
        (dict(REGISTER, confirm="different-1"), 422, "两次输入的密码不一致"),
        (dict(REGISTER, password="short", confirm="short"), 422, "请使用 10 到 200 个字符"),
        (dict(REGISTER, password="1234567890", confirm="1234567890"), 422, "这个密码太容易被猜到"),
        (dict(REGISTER, email="not-an-email"), 422, "请输入有效的邮箱地址"),
        (dict(REGISTER, email=""), 422, "必填"),
    ]
    for data, status, message in cases:
        resp = register(client, data)
        assert resp.status_code == status and message in text(resp) and 'name="confirm"' in text(resp), data
    assert users() == before
    assert register(client, REGISTER, csrf=False).status_code == 400 and users() == before


def test_login_wrong_password_and_empty_fields(client, app):
    user = make_user()
    page = client.get("/login")
    resp = client.post("/login", data={"email": user.email, "password": "nope-nope", "csrf_token": csrf_token(page)})
    assert resp.status_code == 401 and "邮箱或密码错误" in text(resp)
    resp = client.post("/login", data={"email": "", "password": "", "csrf_token": csrf_token(page)})
    assert resp.status_code == 422 and "必填" in text(resp)
    assert client.post("/login", data={"email": user.email, "password": "password123"}).status_code == 400


def test_login_follows_a_safe_next_only(client, app):
    user = make_user()
    page = client.get("/login")
    ok = client.post(
        "/login?next=/tickets", data={"email": user.email, "password": "password123", "csrf_token": csrf_token(page)}
    )
    assert ok.location == "/tickets"
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/"))})
    for evil in ("https://evil.example/x", "//evil.example", "/\\evil.example"):
        page = client.get("/login")
        resp = client.post(
            f"/login?next={evil}", data={"email": user.email, "password": "password123", "csrf_token": csrf_token(page)}
        )
        assert resp.location == "/", evil
        client.post("/logout", data={"csrf_token": csrf_token(client.get("/"))})


def test_a_page_needing_login_says_so_in_chinese(client, app):
    resp = client.get("/orders", follow_redirects=True)
    assert "请登录后查看此页面" in text(resp)


def test_logout_needs_post_with_csrf(client, app, auth):
    login(client, make_user(), auth)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/orders").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/orders").status_code == 302


def test_language_switch_is_kept_in_the_session_and_on_the_account(client, app, auth):
    user = login(client, make_user(), auth)
    assert "我的订单" in text(client.get("/orders"))  # Simplified Chinese by default
    assert "My orders" in text(client.get("/orders?lang=en"))
    assert "My orders" in text(client.get("/tickets")) and "My requests" in text(client.get("/tickets"))
    assert _db.session.get(User, user.id).locale == "en"
    assert "我的订单" in text(client.get("/orders?lang=zh"))
    assert _db.session.get(User, user.id).locale == "zh_Hans_CN"


def test_a_users_saved_language_applies_on_a_new_session(app, auth):
    user = make_user(locale="en")
    fresh = app.test_client()
    from tests.conftest import WebAuth

    WebAuth(fresh).login(user)
    assert "My orders" in text(fresh.get("/orders"))
