"""The job queue: rq on Redis when REDIS_URL is set, inline otherwise; and the periodic-job table.

Jobs are plain functions named verb_noun taking ids; they run inside an app context
(see `run_in_app`), reload their rows and are idempotent.
"""
from __future__ import annotations

import logging
from typing import Callable

from flask import current_app

log = logging.getLogger(__name__)

# Every periodic job, in one table: (name, dotted function path, cron expression).
PERIODIC: list[tuple[str, str, str]] = []


def register_periodic(name: str, func_path: str, cron: str) -> None:
    if all(n != name for n, _, _ in PERIODIC):
        PERIODIC.append((name, func_path, cron))


def redis_connection():
    from redis import Redis
    url = current_app.config.get("REDIS_URL")
    return Redis.from_url(url) if url else None


def get_queue(name: str = "default"):
    """An rq Queue; without REDIS_URL a synchronous one on an in-memory fake Redis."""
    from rq import Queue
    conn = redis_connection()
    if conn is None:
        import fakeredis
        return Queue(name, connection=fakeredis.FakeRedis(), is_async=False)
    return Queue(name, connection=conn)


def enqueue(func: Callable | str, *args, retry: int | None = None, **kwargs):
    """Enqueue `func(*args)` wrapped to run inside an app context. Call only after commit."""
    from rq import Retry
    path = func if isinstance(func, str) else f"{func.__module__}.{func.__qualname__}"
    opts = {}
    if retry:
        opts["retry"] = Retry(max=retry, interval=[10, 30, 60, 120, 300][:retry])
    try:
        return get_queue().enqueue(run_in_app, path, *args, **kwargs, **opts)
    except Exception:  # inline jobs: a failing job must not break the request that queued it
        if current_app.config.get("REDIS_URL"):
            raise
        log.exception("inline job %s failed", path)
        return None


def run_in_app(path: str, *args, **kwargs):
    """Import and run a job function inside an application context."""
    import importlib

    from flask import has_app_context
    module, _, name = path.rpartition(".")
    func = getattr(importlib.import_module(module), name)
    if has_app_context():
        return func(*args, **kwargs)
    from app import create_app
    with create_app().app_context():
        return func(*args, **kwargs)


def schedule_periodic() -> None:
    """Hook for the periodic-job table; the SLA issue schedules its sweep from PERIODIC here."""
    for name, path, cron in PERIODIC:
        log.info("periodic job %s (%s) every %s", name, path, cron)
