"""The job queue: rq on Redis when REDIS_URL is set, inline otherwise; and the periodic-job table.

Jobs are plain functions named verb_noun taking ids; they run inside an app context
(see `run_in_app`), reload their rows and are idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

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


def schedule_periodic(connection=None, *, start_thread: bool = True):
    """Schedule every PERIODIC job with rq 3's cron scheduler (`rq.cron.CronScheduler`).

    `flask worker` calls this: a daemon thread of the worker runs the scheduler loop and the
    worker (started `with_scheduler`) executes the jobs. With several workers each runs a
    scheduler, but every cron slot of a job is enqueued once (a Redis SET NX per job and slot).
    Returns the scheduler (None without Redis: then sla_hooks sweeps in-process).
    """
    import threading

    from rq.cron import CronScheduler

    conn = connection if connection is not None else redis_connection()
    if conn is None:
        return None
    scheduler = CronScheduler(connection=conn)
    for name, path, cron in PERIODIC:
        scheduler.register(run_in_app, "default", args=(path,), cron=cron, name=name)
        log.info("periodic job %s (%s) at cron %r", name, path, cron)
    if start_thread:
        threading.Thread(target=_cron_loop, args=(scheduler,), name="rq-cron", daemon=True).start()
    return scheduler


def enqueue_due_periodic(scheduler) -> list[str]:
    """One scheduler tick: enqueue each due job, once per cron slot across all schedulers."""
    from rq.utils import now as rq_now

    tick, enqueued = rq_now(), []
    for job in scheduler.get_jobs():
        if not job.should_run():
            continue
        slot = int((job.next_enqueue_time or tick).timestamp())
        if scheduler.connection.set(f"refundesk:periodic:{job.name}:{slot}", "1", nx=True, ex=86_400):
            job.enqueue(scheduler.connection)
            enqueued.append(job.name)
        job.set_enqueue_time(tick)
    return enqueued


def _cron_loop(scheduler) -> None:
    import time

    scheduler.register_birth()
    while True:
        try:
            if enqueue_due_periodic(scheduler):
                scheduler.save()
            scheduler.heartbeat()
        except Exception:  # Redis hiccup: try again on the next tick
            log.exception("periodic scheduler tick failed")
        time.sleep(max(1.0, scheduler.calculate_sleep_interval()))
