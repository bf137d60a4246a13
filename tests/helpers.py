import os
import re

from app.settings import Settings


def suite_database_url() -> str:
    """TEST_DATABASE_URL (default: SQLite in memory); under xdist, PostgreSQL gets `<name>_<worker>`."""
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)
    return url


def make_settings(**overrides) -> Settings:
    """The test suite's settings: these values and the defaults — nothing read from the shell."""
    values = {
        "REFUNDESK_ENV": "testing",
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": suite_database_url(),
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "localhost",
        "PUBLIC_BASE_URL": "http://localhost",
        "TRACKER_FRESH_SECONDS": 0,  # tests/tickets/test_tracker_cache.py turns it on
        "STAFF_PAGE_CACHE_SECONDS": 0,  # tests/tickets/test_page_cache.py turns it on
    }
    return Settings.from_values(**{**values, **overrides})


def csrf_token(response) -> str:
    """The CSRF token of the first form on a page."""
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert m, "no csrf_token on the page"
    return m.group(1)


def run_at_once(fns, timeout: float = 120) -> list:
    """Call every function in its own thread, released together; results (or exceptions) in order."""
    import threading

    barrier = threading.Barrier(len(fns), timeout=30)
    results: list = [None] * len(fns)

    def target(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as exc:  # reported by the caller's assertions
            results[i] = exc

    threads = [threading.Thread(target=target, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results


def client_call(app, method: str, path: str, **kw):
    """A function making one request with its own test client: (status, json)."""

    def call():
        with app.test_client() as c:
            resp = getattr(c, method)(path, **kw)
            return resp.status_code, resp.json

    return call


def walk_pages(client, headers, max_pages: int = 50, **params) -> tuple[list[str], int]:
    """Follow /api/v1/tickets cursors to the end; (refs seen, pages). Fails on a cursor loop."""
    refs, cursor = [], None
    for page in range(1, max_pages + 1):
        resp = client.get(
            "/api/v1/tickets", query_string={**params, **({"cursor": cursor} if cursor else {})}, headers=headers
        )
        assert resp.status_code == 200, resp.json
        refs += [t["ref"] for t in resp.json["items"]]
        cursor = resp.json["next_cursor"]
        if not cursor:
            return refs, page
    raise AssertionError(f"still a next_cursor after {max_pages} pages")
