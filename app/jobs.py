"""The job queue: rq on Redis when REDIS_URL is set, inline otherwise; and the periodic-job table.

Jobs are plain functions named verb_noun taking ids; they run inside an app context
(see `run_in_app`), reload their rows and are idempotent.

Periodic jobs are the literal table `PERIODIC` below, and nowhere else. They run:
- with Redis: `flask worker` schedules them with rq's cron scheduler (`schedule_periodic`);
- without Redis (`make run`): a daemon thread of the web process runs them all every
  SLA_SWEEP_SECONDS (`install_inline_periodic`, wired in create_app);
- once, by hand: `flask --app wsgi jobs run NAME` / `jobs run --all` (`run_periodic`).
Adding one: a function in its package's jobs.py (no arguments, idempotent), a row here.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from flask import Flask, current_app

log = logging.getLogger(__name__)


class PeriodicJob(NamedTuple):
    name: str
    func: str  # dotted path of a function taking no arguments
    cron: str


# Every periodic job, in the order the inline runner runs them (the sweep's notices, then mail).
PERIODIC: tuple[PeriodicJob, ...] = (
    PeriodicJob("sla_sweep", "app.sla.sweep.sweep_sla", "* * * * *"),
    PeriodicJob("send_due_emails", "app.notifications.jobs.send_due_emails", "* * * * *"),
    PeriodicJob("remind_evidence_deadlines", "app.notifications.jobs.remind_evidence_deadlines", "* * * * *"),
    PeriodicJob("reconcile_payouts", "app.payouts.jobs.reconcile_payouts", "*/5 * * * *"),
    PeriodicJob("evidence_cleanup_staging", "app.evidence.jobs.cleanup_staging", "17 * * * *"),
    PeriodicJob("analytics_rollup", "app.analytics.jobs.rollup_analytics", "*/15 * * * *"),
    PeriodicJob("analytics_rollup_history", "app.analytics.jobs.rollup_analytics_history", "40 3 * * *"),
    # Evidence whose checks were never queued or were lost (Redis down at upload, or restarted).
    PeriodicJob("evidence_reprocess_pending", "app.evidence.jobs.reprocess_pending", "*/5 * * * *"),
    PeriodicJob("retry_webhooks", "app.merchants.jobs.retry_webhooks", "* * * * *"),
)


def periodic_job(name: str) -> PeriodicJob:
    """The row of PERIODIC called `name` (KeyError if none)."""
    for job in PERIODIC:
        if job.name == name:
            return job
    raise KeyError(name)


def run_periodic(name: str) -> Any:
    """Run the periodic job `name` once, here, in the current app context; return its result."""
    return _resolve(periodic_job(name).func)()


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


def _resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def run_in_app(path: str, *args, **kwargs):
    """Import and run a job function inside an application context."""
    from flask import has_app_context

    func = _resolve(path)
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
    Returns the scheduler (None without Redis: then `install_inline_periodic` runs them).
    """
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
    scheduler.register_birth()
    while True:
        try:
            if enqueue_due_periodic(scheduler):
                scheduler.save()
            scheduler.heartbeat()
        except Exception:  # Redis hiccup: try again on the next tick
            log.exception("periodic scheduler tick failed")
        time.sleep(max(1.0, scheduler.calculate_sleep_interval()))


# ---------------------------------------------------------------- without Redis


def _run_forever(app: Flask) -> None:
    interval = max(5, app.config["SLA_SWEEP_SECONDS"])
    while True:
        for job in PERIODIC:
            try:
                with app.app_context():
                    run_in_app(job.func)
            except Exception:  # keep going; the next round retries
                log.exception("inline periodic job %s failed", job.name)
        time.sleep(interval)


def install_inline_periodic(app: Flask) -> None:
    """Without Redis (`make run`), run PERIODIC from a daemon thread of the serving process.

    Started by the first request, so CLI commands and workers never start it; several web
    processes running the jobs at once is safe (every SLA mark is a conditional UPDATE).
    Off with REDIS_URL set, in tests, or with SLA_INPROCESS_SWEEP=0.
    """
    if app.config.get("REDIS_URL") or app.config.get("TESTING") or not app.config.get("SLA_INPROCESS_SWEEP"):
        return
    guard = threading.Lock()
    started: list[threading.Thread] = []

    @app.before_request
    def _start_inline_periodic() -> None:
        if started:
            return
        with guard:
            if not started:
                started.append(threading.Thread(target=_run_forever, args=(app,), name="periodic-inline", daemon=True))
                started[0].start()
                log.info("inline periodic jobs every %ss (REDIS_URL unset)", app.config["SLA_SWEEP_SECONDS"])
