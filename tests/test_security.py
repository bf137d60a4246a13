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
