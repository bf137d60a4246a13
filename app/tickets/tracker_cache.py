"""The public tracker page (/t/<token>) served from a per-process cache while it is unchanged.

A hit costs one indexed lookup (`queries.tracker_fingerprint`: the ticket's id and version, its
newest message and newest evidence file) instead of six queries and a render. The key also holds
the locale and the query string (language links), so the same HTML is never served in another
language or with other links.

What can be stale, and for how long: the ticket's own changes (state, amounts, deadlines: every
UPDATE bumps `tickets.version`), a new message and a new evidence file change the key, so they show
within `TRACKER_FRESH_SECONDS` (below). Only what changes with the clock alone (the SLA's "due in
…" text, relative times) or a change to an existing evidence file's review status may lag, by at
most `TTL_SECONDS`. A page rendered or checked less than `TRACKER_FRESH_SECONDS` (default 1 s) ago
is served without even that lookup: the link has no actions, so whoever changed the ticket did it
on another page, which shows the change at once; here it shows within that second.
Pages are cached only for anonymous visitors without pending flash messages (a logged-in header
carries the user's name and a CSRF token); everyone else gets a fresh render.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, request, session
from flask_login import current_user

from app.i18n import current_locale
from app.tickets import queries

TTL_SECONDS = 15.0
MAX_PAGES = 2048

# token -> (key, rendered at, html, last checked at)
_pages: OrderedDict[str, tuple[tuple, float, str, float]] = OrderedDict()
_lock = threading.Lock()


def page(token: str, render: Callable[[], str]) -> str:
    """The tracker's HTML for `token`: cached if the fingerprint is unchanged, else `render()`."""
    if current_user.is_authenticated or session.get("_flashes"):
        return render()
    view = (str(current_locale()), request.query_string)
    now = time.monotonic()
    fresh = current_app.config["TRACKER_FRESH_SECONDS"]
    with _lock:
        hit = _pages.get(token)
        if hit is not None and hit[0][1:] == view and now - hit[3] < fresh and now - hit[1] < TTL_SECONDS:
            _pages.move_to_end(token)
            return hit[2]
    fingerprint = queries.tracker_fingerprint(token)
    if fingerprint is None:
        return render()  # no such ticket: the view raises its 404
    key = (fingerprint, *view)
    with _lock:
        hit = _pages.get(token)
        if hit is not None and hit[0] == key and now - hit[1] < TTL_SECONDS:
            _pages[token] = (key, hit[1], hit[2], now)  # checked: unchanged
            _pages.move_to_end(token)
            return hit[2]
    html = render()
    with _lock:
        _pages[token] = (key, now, html, now)
        _pages.move_to_end(token)
        while len(_pages) > MAX_PAGES:
            _pages.popitem(last=False)
    return html


def clear() -> None:
    with _lock:
        _pages.clear()
