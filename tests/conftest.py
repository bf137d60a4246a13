"""Fixtures: app, db, client, runner, auth helpers. The suite runs on SQLite and PostgreSQL.

TEST_DATABASE_URL selects the database (default: SQLite in memory); `make test` runs both.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from app import create_app
from app.config import TestConfig
from app.extensions import db as _db

_schema_ready: set[str] = set()


def _reset(url: str) -> None:
    """Fresh schema once per session and database, then truncate after every test."""
    if url not in _schema_ready or url == "sqlite://":
        if _db.engine.dialect.name == "postgresql":
            with _db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        _db.create_all()
        _schema_ready.add(url)


def _truncate() -> None:
    _db.session.remove()
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if _db.engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setattr(TestConfig, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    app = create_app(TestConfig)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        _reset(url)
        yield app
        _truncate()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def on_postgres() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


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
