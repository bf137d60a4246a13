"""Response headers every page and API answer carries, and the session cookie's signing.

Both run on every request, so they are written for it (bench/README.md: the per-request stack):
the headers are a list validated once and appended to the response's header list as they are
(werkzeug's `add` checks every value again; a view's own header of the same name is kept); the
session cookie's serializer is built once per secret key instead of once per request (Flask's
default interface rebuilds it each time), a request without a Cookie header skips the cookie
parser, and an empty session nobody touched is not looked at again when the response is saved.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request, Response
from itsdangerous import URLSafeTimedSerializer
from werkzeug.datastructures import Headers

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def security_headers(secure: bool) -> list[tuple[str, str]]:
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        # Tracker links carry a secret token: never leak it to other sites through Referer.
        ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", CSP),
    ]
    if secure:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


def register_security_headers(app: Flask) -> None:
    wanted = security_headers(bool(app.config.get("SESSION_COOKIE_SECURE")))
    Headers(wanted)  # werkzeug's validation of names and values, once (the hook appends them as they are)
    names = frozenset(key.lower() for key, _value in wanted)

    @app.after_request
    def headers(resp):
        items = resp.headers._list  # werkzeug's (name, value) list: add() would check each value again
        for key, _value in items:
            if key.lower() in names:  # a view that set its own (e.g. a stricter CSP) keeps it
                present = {k.lower() for k, _v in items}
                items.extend([(k, v) for k, v in wanted if k.lower() not in present])
                return resp
        items.extend(wanted)
        return resp


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the serializer cached per (secret key, fallbacks)."""

    _cache: dict[tuple[Any, ...], URLSafeTimedSerializer]

    def __init__(self) -> None:
        self._cache = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._cache.get(key)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if serializer is None:
                return None
            self._cache = {key: serializer}  # one secret at a time (a rotation replaces it)
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.environ.get("HTTP_COOKIE") and app.secret_key:  # no cookie at all: nothing to parse
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified and not session.accessed:
            return  # what Flask's save_session ends with for such a session, after reading seven settings
        super().save_session(app, session, response)
