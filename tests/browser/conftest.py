"""A real server (werkzeug, a thread, a temporary SQLite file) and Debian's Chromium through Playwright.

Browser tests run on the SQLite pass of `make test` only (TEST_DATABASE_URL unset), to keep CI fast.
UPDATE_SCREENSHOTS=1 writes the screenshots to docs/screenshots/ (shown in the README).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from tests.conftest import make_app
from tests.translations import ensure_compiled

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Live:
    app: object
    url: str

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("browser tests run on the SQLite pass of make test")
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    ensure_compiled()
    tmp = tmp_path_factory.mktemp("browser")
    port = _free_port()

    app = make_app(
        DATABASE_URL=f"sqlite:///{tmp / 'browser.sqlite3'}",
        SERVER_NAME=None,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        EVIDENCE_DIR=str(tmp / "evidence"),
        AUTO_PAY=False,
    )
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", port, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield Live(app, f"http://127.0.0.1:{port}")
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def browser(live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go: docs/screenshots/ with UPDATE_SCREENSHOTS=1, else a temporary folder."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        path = ROOT / "docs" / "screenshots"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path
