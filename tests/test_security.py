from tests.factories import make_ticket


def test_pages_and_api_carry_security_headers(client, app):
    ticket = make_ticket()
    for path in (f"/t/{ticket.tracker_token}", "/login", "/api/v1/openapi.json"):
        resp = client.get(path)
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "no-referrer"  # tracker tokens never leak
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_session_cookie_is_httponly(client, app):
    from tests.helpers import csrf_token

    page = client.get("/login")
    csrf_token(page)
    cookie = page.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_each_header_is_sent_once_and_a_changed_secret_key_ends_every_session(client, app, auth):
    from tests.factories import make_user

    resp = client.get("/login")
    assert len(resp.headers.getlist("Content-Security-Policy")) == 1
    assert len(resp.headers.getlist("X-Frame-Options")) == 1
    auth.login(make_user("agent"))
    assert client.get("/queue").status_code == 200
    app.secret_key = app.config["SECRET_KEY"] = "a-rotated-secret-key-for-this-test"
    resp = client.get("/queue")  # the cookie signed with the old key is not accepted any more
    assert resp.status_code == 302 and "/login" in resp.location
