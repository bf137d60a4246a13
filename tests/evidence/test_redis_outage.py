"""Redis stops (issue 10, point 3): log-in and tokens still work (the rate limiter falls back to
memory and says so), a committed upload answers 201 and logs that its jobs were not queued, and
when Redis is back the periodic re-queue gets the pending jobs done.

A throwaway redis-server on port 6390 (no persistence) is started and stopped by the test."""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import time

import pytest

from app.extensions import db as _db
from tests.evidence.helpers import image_bytes
from tests.factories import make_ticket
from tests.helpers import csrf_token

PORT = 6390
URL = f"redis://127.0.0.1:{PORT}/0"

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


class RedisServer:
    def __init__(self):
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(PORT), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from redis import Redis

        conn = Redis.from_url(URL)
        for _ in range(100):  # wait until it answers (not a timing assertion: a readiness poll)
            try:
                if conn.ping():
                    return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def outage_app(app, monkeypatch, redis_server):
    from app.extensions import limiter

    monkeypatch.setattr(limiter, "_storage_dead", False)  # restored after the test
    monkeypatch.setattr("app.evidence.ocr.ocr_available", lambda: False)
    return app


@pytest.mark.settings(REDIS_URL=URL, RATELIMIT_ENABLED=True, SLA_INPROCESS_SWEEP=False)
def test_redis_down_then_back(outage_app, redis_server, caplog, monkeypatch):
    from rq import SimpleWorker

    from app.evidence import jobs
    from app.evidence.models import Evidence
    from app.jobs import get_queue, redis_connection

    app = outage_app
    ticket = make_ticket()
    customer = ticket.customer
    redis_server.stop()
    caplog.set_level(logging.INFO)
    for name in ("flask-limiter", "app.evidence.services"):  # Alembic's fileConfig (migration tests) disables loggers
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)

    browser = app.test_client()
    page = browser.get("/login")
    resp = browser.post(
        "/login", data={"email": customer.email, "password": "password123", "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert "falling back to in-memory storage" in caplog.text

    api = app.test_client()
    resp = api.post("/api/v1/auth/tokens", json={"email": customer.email, "password": "password123"})
    assert resp.status_code == 201
    headers = {"Authorization": f"Bearer {resp.json['token']}"}

    resp = api.post(
        f"/api/v1/tickets/{ticket.ref}/evidence",
        data={"file": (io.BytesIO(image_bytes("JPEG", size=(400, 300))), "receipt.jpg")},
        headers=headers,
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["ocr"]["status"] == "pending"  # honest: its checks have not run
    evidence_id = resp.json["id"]
    assert f"could not queue the checks of evidence {evidence_id}" in caplog.text

    page = browser.get(f"/tickets/{ticket.ref}")
    resp = browser.post(
        f"/tickets/{ticket.ref}/evidence",
        data={"csrf_token": csrf_token(page), "file": (io.BytesIO(image_bytes()), "second.png"), "next": "/orders"},
    )
    assert resp.status_code == 303

    redis_server.start()
    assert jobs.reprocess_pending(older_than_seconds=0) == 2
    SimpleWorker([get_queue()], connection=redis_connection()).work(burst=True)
    _db.session.expire_all()
    done = _db.session.query(Evidence).order_by(Evidence.id).all()
    assert [e.ocr_status for e in done] == ["unavailable", "unavailable"]  # the job ran (OCR is off here)
    assert all(e.thumb_key for e in done)
    assert jobs.reprocess_pending(older_than_seconds=0) == 0


def test_reprocess_pending_is_a_periodic_job(app):
    from app.jobs import PERIODIC

    assert any(job.func == "app.evidence.jobs.reprocess_pending" for job in PERIODIC)
