"""Evidence test helpers: what is stored (blobs, rows), OCR switched off unless a test wants it."""

from __future__ import annotations

import io
import os

import pytest

from app.evidence import ocr

_REAL_OCR_AVAILABLE = ocr.ocr_available


@pytest.fixture(autouse=True)
def _ocr_off(request, monkeypatch):
    """App tests need no OCR (slow): their jobs see it as unavailable. See `real_ocr`.
    (The pure tests of ocr.py, which use no app, are left alone.)"""
    if "app" in request.fixturenames:
        monkeypatch.setattr(ocr, "ocr_available", lambda: False)
        # Messages are asserted in English (the msgids); Chinese is checked where it matters.
        request.getfixturevalue("app").config["BABEL_DEFAULT_LOCALE"] = "en"


@pytest.fixture
def real_ocr(_ocr_off, monkeypatch):
    """The real tesseract (the test is skipped when it is not installed)."""
    monkeypatch.setattr(ocr, "ocr_available", _REAL_OCR_AVAILABLE)
    if not _REAL_OCR_AVAILABLE():
        pytest.skip("tesseract with chi_sim+eng is not installed (apt: tesseract-ocr tesseract-ocr-chi-sim)")


class Stored:
    """What the evidence store holds: blob files (outside .tmp), leftover temp files, rows."""

    def __init__(self, app):
        self.root = app.config["EVIDENCE_DIR"]

    def blobs(self) -> list[str]:
        out = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d != ".tmp"]
            out += [os.path.join(dirpath, f) for f in filenames]
        return sorted(out)

    def temps(self) -> list[str]:
        tmp = os.path.join(self.root, ".tmp")
        return os.listdir(tmp) if os.path.isdir(tmp) else []

    def rows(self) -> int:
        from app.evidence.models import Evidence
        from app.extensions import db

        db.session.expire_all()
        return db.session.query(Evidence).count()

    def nothing(self) -> bool:
        return self.blobs() == [] and self.temps() == [] and self.rows() == 0


@pytest.fixture
def stored(app, monkeypatch):
    """The store, with the after-commit jobs off (their thumbnails would be blobs too)."""
    from app.evidence import services

    monkeypatch.setattr(services, "_enqueue_processing", lambda evidence_id: None)
    return Stored(app)


def stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


class Browser:
    """A logged-in browser session without going through the login page (owned by the UI),
    with a valid CSRF token for the evidence forms and access to flashed messages."""

    def __init__(self, client, app):
        self.client, self.app = client, app

    @staticmethod
    def _forget_cached_user() -> None:
        """Requests share the test's app context, so Flask-Login's cached user lives on in g."""
        from flask import g

        g.pop("_login_user", None)

    def login(self, user) -> None:
        self._forget_cached_user()
        with self.client.session_transaction() as sess:
            sess.clear()
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
            sess["lang"] = "en"

    def logout(self) -> None:
        self._forget_cached_user()
        with self.client.session_transaction() as sess:
            sess.clear()

    def csrf(self) -> str:
        from itsdangerous import URLSafeTimedSerializer

        with self.client.session_transaction() as sess:
            raw = sess.setdefault("csrf_token", "evidence-tests-csrf-raw-token")
        return URLSafeTimedSerializer(self.app.secret_key, salt="wtf-csrf-token").dumps(raw)

    def flashes(self) -> list[tuple[str, str]]:
        with self.client.session_transaction() as sess:
            return list(sess.get("_flashes", []))


@pytest.fixture
def browser(client, app):
    return Browser(client, app)
