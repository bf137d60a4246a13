"""The test harness behaves like a real server: no request sees another's app context, `g` or login."""

from __future__ import annotations

from flask import g

from app.tickets.models import Ticket
from tests.conftest import WebAuth
from tests.factories import make_ticket, make_user


def test_a_fresh_client_is_anonymous_after_another_logged_in(app, client, auth):
    assert auth.login(make_user("agent")).status_code == 302
    assert client.get("/queue").status_code == 200
    stranger = app.test_client()  # no cookie
    resp = stranger.get("/queue")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.get("/queue").status_code == 200  # the first client is still logged in


def test_logging_out_one_client_leaves_the_other_logged_in(app, client, auth):
    other = app.test_client()
    auth.login(make_user("agent"))
    WebAuth(other).login(make_user("agent"))
    auth.logout()
    assert client.get("/queue").status_code == 302
    assert other.get("/queue").status_code == 200


def test_requests_do_not_see_the_test_bodys_g(app, client, auth):
    g._login_user = make_user("agent")  # what a leaked app context would hand to the request
    resp = client.get("/queue")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_test_body_reads_what_a_request_committed(app, client, api, db):
    ticket = make_ticket("submitted")
    headers = api.headers(make_user("agent"))
    assert ticket.state == "submitted"
    resp = client.post(f"/api/v1/tickets/{ticket.ref}/events", json={"event": "start_review"}, headers=headers)
    assert resp.status_code == 200, resp.json
    assert ticket.state == "review"  # the test's session was expired after the request
    assert db.session.get(Ticket, ticket.id).state == "review"


def test_cli_commands_run_in_their_own_app_context(app, runner):
    g.marker = "test body"
    seen = []
    import click

    @app.cli.command("peek-g")
    def peek_g():
        seen.append(g.get("marker"))
        click.echo("ok")

    assert runner.invoke(args=["peek-g"]).output == "ok\n"
    assert seen == [None]
