"""The public tracker page (/t/<token>) served from a per-process cache while it is unchanged.

A hit costs one indexed lookup (`queries.tracker_fingerprint`: the ticket's id and version, its
newest message and newest evidence file) instead of six queries and a render. The key also holds
the locale and the query string (language links), so the same HTML is never served in another
language or with other links.

What can be stale, and for how long: the ticket's own changes (state, amounts, deadlines: every
UPDATE bumps `tickets.version`), a new message and a new evidence file change the key, so they show
at once. Only what changes with the clock alone (the SLA's "due in …" text, relative times) or a
change to an existing evidence file's review status may lag, by at most `TTL_SECONDS`.
Pages are cached only for anonymous visitors without pending flash messages (a logged-in header
carries the user's name and a CSRF token); everyone else gets a fresh render.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import request, session
from flask_login import current_user

from app.i18n import current_locale
from app.tickets import queries

TTL_SECONDS = 15.0
MAX_PAGES = 2048

_pages: OrderedDict[str, tuple[tuple, float, str]] = OrderedDict()
_lock = threading.Lock()


def page(token: str, render: Callable[[], str]) -> str:
    """The tracker's HTML for `token`: cached if the fingerprint is unchanged, else `render()`."""
    if current_user.is_authenticated or session.get("_flashes"):
        return render()
    fingerprint = queries.tracker_fingerprint(token)
    if fingerprint is None:
        return render()  # no such ticket: the view raises its 404
    key = (fingerprint, str(current_locale()), request.query_string)
    now = time.monotonic()
    with _lock:
        hit = _pages.get(token)
        if hit is not None and hit[0] == key and now - hit[1] < TTL_SECONDS:
            _pages.move_to_end(token)
            return hit[2]
    html = render()
    with _lock:
        _pages[token] = (key, now, html)
        _pages.move_to_end(token)
        while len(_pages) > MAX_PAGES:
            _pages.popitem(last=False)
    return html


def clear() -> None:
    with _lock:
        _pages.clear()
