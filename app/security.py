"""Response headers every page and API answer carries, and the session cookie's signing.

Both run on every request, so they are written for it (bench/README.md: the per-request stack):
the headers are a precomputed list appended when absent (werkzeug's `setdefault` rescans and
rewrites the header list per call), and the session cookie's serializer is built once per secret
key instead of once per request (Flask's default interface rebuilds it each time).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

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

    @app.after_request
    def headers(resp):
        present = {k.lower() for k, _v in resp.headers.items()}
        for key, value in wanted:
            if key.lower() not in present:  # a view that set its own (e.g. a stricter CSP) keeps it
                resp.headers.add(key, value)
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
