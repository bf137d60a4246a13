"""URLs leaving the app: the one redirect-safety check and links built from the public base URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, url_for


def safe_next(value: str | None, default: str | None = None) -> str | None:
    """`value` when it is a path on this site, else `default` (no open redirects).

    Browsers drop tabs and newlines anywhere in a URL and read a backslash as a slash, so
    `/\\t/evil.example` becomes `//evil.example`: any control character, backslash or
    whitespace refuses the value outright instead of being cleaned up.
    """
    if not value or len(value) > 2000:
        return default
    if any(c == "\\" or c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value):
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute link for e-mails and API answers: PUBLIC_BASE_URL + the route's path.

    Never built from the request's Host header (which a client chooses). Without a configured
    base (development only: production refuses to start without it) Flask's own external URL is used.
    """
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base:
        return url_for(endpoint, _external=True, **values)
    return base + url_for(endpoint, _external=False, **values)
