"""Accounts and sessions (issue 10, point 6): timing-safe log-in, sign-up that confirms nothing,
a password policy, sessions revoked server-side, per-account throttling, ProxyFix by setting."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth import services
from app.auth.models import User
from app.errors import Invalid
from app.extensions import db as _db
from tests.factories import make_user
from tests.helpers import csrf_token

STRONG = "Violet-harbour-lantern-42"


class Browser:
    """A test client for tests with several browsers: the `app` fixture's app context is shared by
    every request, so what Flask-Login and Flask-WTF cache in `g` is dropped before each request."""

    def __init__(self, app):
        self._client = app.test_client()

    def _fresh(self):
        from flask import g

        g.__dict__.clear()
        return self._client

    def get(self, *args, **kw):
        return self._fresh().get(*args, **kw)

    def post(self, *args, **kw):
        return self._fresh().post(*args, **kw)

    def __getattr__(self, name):
        return getattr(self._client, name)


def _login(client, email: str, password: str = "password123", **kw):
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client.get("/login"))}, **kw
    )


def test_unknown_email_costs_a_password_hash_check_too(app, monkeypatch):
    checked = []
    real = services.check_password_hash
    monkeypatch.setattr(services, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    user = make_user()
    assert services.authenticate("nobody@example.test", "password123") is None
    assert services.authenticate(user.email, "wrong-password") is None
    assert services.authenticate(user.email, "password123") == user
    assert len(checked) == 3  # one hash check each, whether the account exists or not
    assert checked[0].split("$")[0] == services._dummy_password_hash().split("$")[0]  # same method as real hashes


@pytest.mark.parametrize("password", ["12345678", "1234567890", "password123", "qwertyuiop", "short"])
def test_weak_passwords_are_refused(app, password):
    with pytest.raises(Invalid):
        services.check_password_policy(password)


def test_a_password_made_of_the_users_own_email_is_refused(app):
    with pytest.raises(Invalid):
        services.check_password_policy("zhangwei.buyer2026", email="zhangwei.buyer2026@example.com")
    services.check_password_policy(STRONG, email="zhangwei@example.com")


def test_registration_says_the_same_for_new_and_existing_addresses(app):
    client = Browser(app)
    owner = make_user(email="taken@example.com")
    answers = []
    for email in ("taken@example.com", "fresh@example.com"):
        page = client.get("/register")
        resp = client.post(
            "/register",
            data={"email": email, "password": STRONG, "confirm": STRONG, "name": "", "csrf_token": csrf_token(page)},
        )
        answers.append(
            (resp.status_code, resp.location, client.get(resp.location).get_data(as_text=True).count("error"))
        )
    assert answers[0] == answers[1] and answers[0][0] == 303
    _db.session.expire_all()
    assert _db.session.get(User, owner.id).check_password("password123")  # the existing account is untouched
    assert _db.session.scalar(select(func.count(User.id)).where(User.email == "fresh@example.com")) == 1


def test_registration_refuses_a_common_password(app):
    client = Browser(app)
    page = client.get("/register")
    resp = client.post(
        "/register",
        data={
            "email": "a@example.com",
            "password": "1234567890",
            "confirm": "1234567890",
            "csrf_token": csrf_token(page),
        },
    )
    assert resp.status_code == 422
    assert _db.session.scalar(select(func.count(User.id))) == 0


def test_a_session_cookie_saved_before_logout_no_longer_works(app):
    user = make_user()
    client = Browser(app)
    assert _login(client, user.email).status_code == 302
    saved = client.get_cookie("session").value
    assert client.get("/orders").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/orders"))})
    thief = Browser(app)
    thief.set_cookie("session", saved, domain="localhost")
    assert thief.get("/orders").status_code == 302  # back to the login page


def test_password_change_ends_every_session(app):
    user = make_user()
    laptop, phone = Browser(app), Browser(app)
    _login(laptop, user.email)
    _login(phone, user.email)
    page = laptop.get("/account/password")
    resp = laptop.post(
        "/account/password",
        data={"current": "password123", "password": STRONG, "confirm": STRONG, "csrf_token": csrf_token(page)},
    )
    assert resp.status_code == 303
    assert phone.get("/orders").status_code == 302 and laptop.get("/orders").status_code == 302
    assert _login(phone, user.email, STRONG).status_code == 302
    assert phone.get("/orders").status_code == 200


def test_password_change_checks_the_current_password_and_the_policy(app):
    client = Browser(app)
    user = make_user()
    _login(client, user.email)
    for current, new, status in (("wrong-one-1", STRONG, 422), ("password123", "1234567890", 422)):
        page = client.get("/account/password")
        resp = client.post(
            "/account/password",
            data={"current": current, "password": new, "confirm": new, "csrf_token": csrf_token(page)},
        )
        assert resp.status_code == status
    assert client.get("/orders").status_code == 200


LIMITED = pytest.mark.settings(RATELIMIT_ENABLED=True)  # in-memory limits (no REDIS_URL in tests)


@pytest.fixture
def limited_app(app):
    from app.extensions import limiter

    limiter.reset()
    yield app
    limiter.reset()


@LIMITED
def test_failed_logins_are_throttled_per_account_with_retry_after(limited_app):
    target = make_user()
    for n in range(5):  # five clients (addresses) guessing one account's password
        client = Browser(limited_app)
        resp = _login(client, target.email, "wrong-guess", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
        assert resp.status_code == 401
    late = Browser(limited_app)
    resp = _login(late, target.email, "password123", environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    other = make_user()
    assert _login(late, other.email, environ_base={"REMOTE_ADDR": "10.0.0.99"}).status_code == 302


@LIMITED
def test_token_creation_is_throttled_per_account_too(limited_app):
    target = make_user()
    for n in range(5):
        resp = Browser(limited_app).post(
            "/api/v1/auth/tokens",
            json={"email": target.email, "password": "wrong"},
            environ_base={"REMOTE_ADDR": f"10.1.0.{n}"},
        )
        assert resp.status_code == 401
    resp = Browser(limited_app).post(
        "/api/v1/auth/tokens",
        json={"email": target.email, "password": "password123"},
        environ_base={"REMOTE_ADDR": "10.1.0.9"},
    )
    assert resp.status_code == 429 and resp.headers["Retry-After"] and resp.json["error"]["code"] == "too_many_requests"


@LIMITED
def test_successful_logins_do_not_use_up_the_account_budget(limited_app):
    user = make_user()
    for n in range(8):
        client = Browser(limited_app)
        assert _login(client, user.email, environ_base={"REMOTE_ADDR": f"10.2.0.{n}"}).status_code == 302


@pytest.mark.parametrize(
    "trusted",
    [
        pytest.param(0, marks=pytest.mark.settings(RATELIMIT_ENABLED=True, PROXY_FIX_X_FOR=0)),
        pytest.param(1, marks=pytest.mark.settings(RATELIMIT_ENABLED=True, PROXY_FIX_X_FOR=1)),
    ],
)
def test_proxy_fix_setting_decides_whose_address_is_limited(limited_app, trusted):
    """Behind one proxy (PROXY_FIX_X_FOR=1) clients are told apart by X-Forwarded-For; without it, not."""
    statuses = []
    for n in range(21):  # the per-IP limit is 20 a minute; every request from the proxy's address
        resp = _login(
            Browser(limited_app),
            f"u{n}@example.test",
            "x",
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
            environ_base={"REMOTE_ADDR": "10.9.9.9"},
        )
        statuses.append(resp.status_code)
    assert (statuses[-1] == 429) is (trusted == 0)
