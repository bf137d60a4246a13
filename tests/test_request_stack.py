"""The lean per-request hooks (app/request_stack.py): each library hook runs where it has work and
what every response carries is unchanged — rate-limit headers and deductions on limited routes,
CSRF on unsafe methods, the remember-me cookie, the security headers, the session cookie."""

from __future__ import annotations

import pytest

from tests.factories import make_user
from tests.helpers import csrf_token

LIMITED = pytest.mark.settings(RATELIMIT_ENABLED=True)


@pytest.fixture
def limited_app(app):
    from app.extensions import limiter

    limiter.reset()
    yield app
    limiter.reset()


@LIMITED
def test_the_library_hooks_are_replaced_in_place(app):
    from app.extensions import limiter, login

    names = [getattr(f, "__qualname__", repr(f)) for f in app.after_request_funcs[None]]
    assert names[:2] == [
        "_lean_remember_cookie.<locals>.lean.<locals>.update_remember_cookie",
        "_lean_limiter.<locals>.lean_after.<locals>.limiter_after_request",
    ]  # the order Flask-Login and Flask-Limiter registered them in
    assert login._update_remember_cookie not in app.after_request_funcs[None]
    assert limiter._check_request_limit not in app.before_request_funcs[None]
    assert limiter._Limiter__release_context not in app.teardown_request_funcs[None]


@LIMITED
def test_a_limited_answer_carries_the_rate_limit_headers_and_a_page_without_limits_none(limited_app, client):
    page = client.get("/login")  # GET /login: its limits are for POST only
    assert "X-RateLimit-Limit" not in page.headers
    resp = client.post("/login", data={"email": "a@example.test", "password": "x", "csrf_token": csrf_token(page)})
    assert resp.status_code == 401
    assert resp.headers["X-RateLimit-Limit"] and resp.headers["X-RateLimit-Remaining"]
    assert resp.headers["X-RateLimit-Reset"] and "Retry-After" in resp.headers
    assert "X-RateLimit-Limit" not in client.get("/login").headers  # nothing left over from the POST


@LIMITED
def test_failed_logins_count_and_successful_ones_do_not(limited_app):
    """`deduct_when=failed_login`: the deduction is made by the after-request hook."""
    user = make_user()

    def login(password, n):
        client = limited_app.test_client()
        page = client.get("/login")
        return client.post(
            "/login",
            data={"email": user.email, "password": password, "csrf_token": csrf_token(page)},
            environ_base={"REMOTE_ADDR": f"10.7.0.{n}"},
        )

    for n in range(6):
        assert login("password123", n).status_code == 302  # successes: nothing deducted
    for n in range(5):
        assert login("wrong-guess", 10 + n).status_code == 401
    assert login("password123", 20).status_code == 429


def test_a_post_without_the_csrf_token_is_refused(client):
    assert client.post("/login", data={"email": "a@example.test", "password": "x"}).status_code == 400


def test_vary_cookie_goes_with_the_responses_that_read_the_session(client, app):
    static = client.get("/static/app.css")
    assert static.status_code == 200 and "Cookie" not in static.headers.get("Vary", "")
    assert static.headers["X-Content-Type-Options"] == "nosniff"  # security headers on every response
    assert "frame-ancestors 'none'" in static.headers["Content-Security-Policy"]
    page = client.get("/login")  # a form: its CSRF token is in the session
    assert "Cookie" in page.headers["Vary"]


def test_the_remember_cookie_is_still_set_and_cleared(client, app):
    user = make_user()
    with client.session_transaction() as s:
        s["_user_id"] = user.get_id()
        s["_remember"] = "set"
    resp = client.get("/static/app.css")
    assert "remember_token=" in resp.headers.get("Set-Cookie", "")
    with client.session_transaction() as s:
        assert "_remember" not in s
        s["_remember"] = "clear"
    resp = client.get("/static/app.css")
    cleared = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    assert cleared and "Expires=Thu, 01 Jan 1970" in cleared[0]


def test_a_request_without_a_cookie_gets_no_session_cookie_and_one_with_a_session_keeps_it(client, app, auth):
    resp = client.get("/static/app.css")
    assert "Set-Cookie" not in resp.headers
    auth.login(make_user("agent"))
    assert client.get("/queue").status_code == 200  # the session from the cookie still works
