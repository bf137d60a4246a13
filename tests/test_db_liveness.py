"""A pooled PostgreSQL connection the server has closed is never handed to a request."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from app.extensions import db
from tests.conftest import on_postgres, suite_database_url
from tests.factories import make_ticket, staff

pytestmark = pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL (run by `make test`)")


def _pooled_backend_pids(app) -> set[int]:
    """The server process id of the connection the app's pool hands out next."""
    with app.app_context(), db.engine.connect() as conn:
        return {conn.execute(text("SELECT pg_backend_pid()")).scalar_one()}


def _terminate(pids: set[int]) -> None:
    """As a restart or an administrator would: end those sessions from another connection."""
    admin = create_engine(suite_database_url())
    with admin.connect() as conn:
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        deadline = time.monotonic() + 10
        while conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": list(pids)}
        ).scalar_one():
            assert time.monotonic() < deadline, "the server did not end the sessions"
            time.sleep(0.05)
    admin.dispose()


def test_a_request_after_the_server_closed_its_pooled_connection_is_answered(app, client, api):
    ticket = make_ticket()
    headers = api.headers(staff("agent"))
    assert client.get(f"/api/v1/tickets/{ticket.ref}", headers=headers).status_code == 200
    killed = _pooled_backend_pids(app)
    _terminate(killed)

    resp = client.get(f"/api/v1/tickets/{ticket.ref}", headers=headers)

    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.json["ref"] == ticket.ref
    assert not (_pooled_backend_pids(app) & killed)  # the dead connection left the pool
