"""Fixtures: app, db, client, runner, auth helpers. The suite runs on SQLite and PostgreSQL, in parallel.

- Settings are built explicitly (`tests.helpers.make_settings`): nothing comes from the shell but
  TEST_DATABASE_URL (default: SQLite in memory). `@pytest.mark.settings(NAME=value, ...)` changes a
  test's settings.
- No app context is held across requests: the test body has its own app context (factories,
  queries), every request and CLI invocation runs in a fresh one (`RequestClient`) — its own `g`,
  login and database session, as under a real server. After each request the test's session is
  expired, so it reads what the request committed.
- The schema is created once per session (and xdist worker): SQLite copies it into each test's
  in-memory database; PostgreSQL gives each worker its own database (`<name>_gw0`, ...) and
  deletes the rows after every test. Tests marked `redis` (the real Redis at REDIS_TEST_URL) take
  a lock so that two workers never use it at once.
"""

from __future__ import annotations

import contextvars
import fcntl
import os
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db as _db
from tests.helpers import make_settings, suite_database_url


def pytest_configure(config):
    config.addinivalue_line("markers", "settings(**values): settings of this test's app (tests.helpers.make_settings)")
    config.addinivalue_line("markers", "redis: uses the real Redis at REDIS_TEST_URL (one xdist worker at a time)")


def on_postgres() -> bool:
    return suite_database_url().startswith("postgresql")


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """1,000 PBKDF2 rounds instead of scrypt (~0.1 s a hash): same checks, a faster suite."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    fast = partial(generate_password_hash, method="pbkdf2:sha256:1000")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("app.auth.models.generate_password_hash", fast)
        yield


# ---------------------------------------------------------------- one request, one context


def _expire_test_session(app: Flask) -> None:
    """The test body's session (if it has an app context of this app) forgets what it loaded."""
    from flask import current_app

    if current_app and current_app._get_current_object() is app:  # type: ignore[attr-defined]
        _db.session.expire_all()


class RequestClient(FlaskClient):
    """A test client whose every request runs in a fresh context (no app context, no `g` of the test).

    `with client:` only scopes the client: contexts are never preserved after a request.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        _expire_test_session(self.application)
        return response

    def __enter__(self) -> RequestClient:
        return self

    def __exit__(self, *exc) -> None:
        return None


class RequestCliRunner(FlaskCliRunner):
    """Each CLI invocation runs in a fresh app context, as the `flask` command pushes one for every command."""

    def invoke(self, *args, **kwargs):
        def run():
            with self.app.app_context():
                return super(RequestCliRunner, self).invoke(*args, **kwargs)

        result = contextvars.Context().run(run)
        _expire_test_session(self.app)
        return result


def make_app(**overrides) -> Flask:
    """An app on the test settings (with `overrides`) and the request-per-context clients."""
    app = create_app(make_settings(**overrides))
    app.test_client_class = RequestClient
    app.test_cli_runner_class = RequestCliRunner
    return app


# ---------------------------------------------------------------- databases


def _create_schema(url: str) -> None:
    app = make_app(DATABASE_URL=url)
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            with _db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        _db.create_all()
        _db.engine.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """This worker's database, with the schema: PostgreSQL `<name>_<worker>`; SQLite a template in memory."""
    url = suite_database_url()
    if url.startswith("postgresql"):
        name = make_url(url).database
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        _create_schema(url)
        yield url
        return
    if url != "sqlite://":  # a file: the schema once, rows deleted after each test
        _create_schema(url)
        yield url
        return
    import app.models  # noqa: F401  (every table on the metadata)

    engine = create_engine("sqlite://")
    _db.metadata.create_all(engine)
    raw = engine.raw_connection()
    _SQLITE_TEMPLATE.append(raw.driver_connection)
    yield url
    _SQLITE_TEMPLATE.clear()
    raw.close()
    engine.dispose()


_SQLITE_TEMPLATE: list[sqlite3.Connection] = []


def _fresh_rows(app: Flask) -> None:
    """Before a test: SQLite in memory gets a copy of the template (the schema, no rows)."""
    if _SQLITE_TEMPLATE and app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://":
        raw = _db.engine.raw_connection()
        try:
            _SQLITE_TEMPLATE[0].backup(raw.driver_connection)
        finally:
            raw.close()


def _delete_rows() -> None:
    """After a test on a shared database: every row deleted, sequences restarted (one round trip)."""
    _db.session.remove()
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if _db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        elif _db.engine.url.database:  # SQLite file
            for t in tables:
                conn.exec_driver_sql(f'DELETE FROM "{t}"')


@pytest.fixture
def app(database_url, tmp_path, request) -> Iterator[Flask]:
    marker = request.node.get_closest_marker("settings")
    overrides = {"EVIDENCE_DIR": str(tmp_path / "evidence"), **(marker.kwargs if marker else {})}
    app = make_app(DATABASE_URL=database_url, **overrides)
    with app.app_context():
        _fresh_rows(app)
        yield app
        _delete_rows()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app) -> RequestClient:
    return app.test_client()


@pytest.fixture
def runner(app) -> RequestCliRunner:
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def _one_worker_on_redis(request) -> Iterator[None]:
    """Tests marked `redis` share the Redis database at REDIS_TEST_URL: one process at a time."""
    url = os.environ.get("REDIS_TEST_URL")
    if url is None or request.node.get_closest_marker("redis") is None:
        yield
        return
    lock = Path(os.environ.get("TMPDIR", "/tmp")) / f"refundesk-redis-{zlib.crc32(url.encode()):08x}.lock"
    with lock.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ---------------------------------------------------------------- logging in


class ApiAuth:
    """Get a bearer token for a user and call the API with it."""

    def __init__(self, client):
        self.client = client

    def token(self, user, password: str = "password123") -> str:
        resp = self.client.post("/api/v1/auth/tokens", json={"email": user.email, "password": password})
        assert resp.status_code == 201, resp.json
        return resp.json["token"]

    def headers(self, user) -> dict:
        return {"Authorization": f"Bearer {self.token(user)}"}


@pytest.fixture
def api(client):
    return ApiAuth(client)


class WebAuth:
    """Log in through the real form (CSRF on) and out again."""

    def __init__(self, client):
        self.client = client

    def login(self, user, password: str = "password123"):
        from tests.helpers import csrf_token

        page = self.client.get("/login")
        return self.client.post(
            "/login", data={"email": user.email, "password": password, "csrf_token": csrf_token(page)}
        )

    def logout(self):
        from tests.helpers import csrf_token

        page = self.client.get("/")
        return self.client.post("/logout", data={"csrf_token": csrf_token(page)})


@pytest.fixture
def auth(client):
    return WebAuth(client)
