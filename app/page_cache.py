"""Rendered staff pages (the agent queue, a ticket's staff page) kept per process for a few seconds.

An agent who reloads the queue or comes back to a ticket gets the HTML rendered a moment ago
instead of a new render (Jinja, the forms, the panels: most of such a page's cost). An entry is
served only to the same session in the same state — the key holds the user, their role and
session version, the session's CSRF token, the locale, the full query string and the session's
*write generation* — and only while everything else in the key still matches:

- **Your own changes show at once.** Every successful state-changing request (POST/PUT/PATCH/
  DELETE) in a session bumps its write generation (`session["pw"]`, carried in the signed session
  cookie, so every worker process sees it): the next page that session asks for is rendered anew.
- **A ticket's own changes show at once on its page.** The ticket page's key also holds the
  ticket's fingerprint (`queries.page_fingerprint_columns`: its version, which every UPDATE of the row
  bumps, and its newest message, evidence file, evidence processing result and audit entry — tags,
  urges, merges and evidence answers are audit entries), read in one statement of index lookups
  without loading the ticket (staff see every ticket, so nothing else decides whether they may see
  it), and the queue filters the "next ticket" link follows.
- **Everything else is at most `STAFF_PAGE_CACHE_SECONDS` old** (default 10 s; 0 turns the cache
  off): other tickets' changes in the queue, the counts, the customer's other tickets and the
  merchant panel on a ticket page, the SLA's "due in …" wording.

Pages with pending flash messages are never cached or served from the cache (the render consumes
them), nor are responses other than a plain 200 render. Authorization runs before the cache on
every request (the `permission_required` decorator; for a ticket page `services.page_fingerprint`,
which serves only viewers who see every ticket, or `services.get_ticket`), so a cached page is
never shown to someone who may not see it; a disabled account or a changed role is logged out or
keyed apart. Each process keeps at most `MAX_CHARS` characters of pages (about 16 MiB, some 150
staff pages; the least recently used go first). The cache lives on the app, so nothing is shared
between apps in one process (tests).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Flask, Response, current_app, request, session
from flask_login import current_user

from app.i18n import current_locale

MAX_CHARS = 8 * 1024 * 1024  # CPython keeps a page with Chinese text in 2 bytes per character: ~16 MiB
WRITE_GENERATION = "pw"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class PageCache:
    """An LRU of rendered pages bounded by age and by their total length in characters."""

    def __init__(self, ttl: float, max_chars: int = MAX_CHARS) -> None:
        self.ttl = ttl
        self.max_chars = max_chars
        self._pages: OrderedDict[Hashable, tuple[Hashable, float, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, slot: Hashable, key: Hashable) -> str | None:
        now = time.monotonic()
        with self._lock:
            hit = self._pages.get(slot)
            if hit is None or hit[0] != key or now - hit[1] >= self.ttl:
                return None
            self._pages.move_to_end(slot)
            return hit[2]

    def put(self, slot: Hashable, key: Hashable, html: str) -> None:
        with self._lock:
            old = self._pages.pop(slot, None)
            if old is not None:
                self._size -= len(old[2])
            self._pages[slot] = (key, time.monotonic(), html)
            self._size += len(html)
            while self._size > self.max_chars and self._pages:
                _, dropped = self._pages.popitem(last=False)
                self._size -= len(dropped[2])


def init_app(app: Flask) -> None:
    app.extensions["page_cache"] = PageCache(app.config["STAFF_PAGE_CACHE_SECONDS"])
    app.after_request(_bump_write_generation)


def _bump_write_generation(response: Response) -> Response:
    """A session that changed something sees fresh pages from its next request on."""
    changed = request.method not in _SAFE and response.status_code < 400
    if changed and request.authorization is None and current_user.is_authenticated:  # API tokens: no session
        session[WRITE_GENERATION] = (session.get(WRITE_GENERATION, 0) + 1) % 1_000_000_000
    return response


def staff_page(name: str, fingerprint: Callable[[], Hashable], render: Callable[[], str]) -> str:
    """The page `name` for this session and request: cached while `fingerprint()` (e.g. the ticket's)
    and the session's key are unchanged and it is younger than the bound, else `render()`."""
    cache: PageCache = current_app.extensions["page_cache"]
    if cache.ttl <= 0 or session.get("_flashes") or request.method != "GET":
        return render()
    extra = fingerprint()
    slot = (name, current_user.id, request.path)
    html = cache.get(slot, _key(extra))
    if html is None:
        html = render()
        cache.put(slot, _key(extra), html)  # after the render: it may have created the CSRF token
    return html


def _key(extra: Hashable) -> Hashable:
    user = current_user
    return (
        user.role,
        user.session_version,
        session.get("csrf_token"),
        session.get(WRITE_GENERATION, 0),
        str(current_locale()),
        request.query_string,
        extra,
    )
