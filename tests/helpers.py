import re


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
        except Exception as exc:   # reported by the caller's assertions
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
