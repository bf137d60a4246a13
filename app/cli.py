"""Flask CLI: create-user, seed-demo, audit verify (the operators' contract)."""

from __future__ import annotations

import sys

import click
from flask import Flask

from app.auth.permissions import ROLES
from app.errors import DomainError


def register_cli(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--password", required=True)
    @click.option("--name", default="")
    def create_user_cmd(email: str, role: str, password: str, name: str) -> None:
        """Create a user with a role."""
        from app.auth.services import create_user

        try:
            user = create_user(email, password, role=role, name=name)
        except DomainError as exc:
            raise click.ClickException(exc.message)
        click.echo(f"created {user.role} {user.email} (id {user.id})")

    @app.cli.command("seed-demo")
    def seed_demo_cmd() -> None:
        """Demo merchants, customers, orders of every product type and tickets in every state."""
        from flask import current_app

        from app.seed import seed_demo

        if current_app.config.get("ENV_NAME") == "production":  # demo staff accounts share a public password
            raise click.ClickException("seed-demo refuses to run in production (REFUNDESK_ENV=production).")

        logins = seed_demo()
        if logins is None:
            click.echo("demo data exists already; nothing changed")
            from app.seed import DEMO_LOGINS

            logins = DEMO_LOGINS
        click.echo(f"Demo logins (password for all: {logins[0][2]}):")
        for role, email, _ in logins:
            click.echo(f"  {role:9} {email}")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    def worker_cmd(burst: bool) -> None:
        """Run an rq worker (with the scheduler) inside this app's context."""
        from rq import Worker

        from app.jobs import get_queue, redis_connection, schedule_periodic

        conn = redis_connection()
        if conn is None:
            raise click.ClickException("REDIS_URL is not set: jobs run inline, no worker needed.")
        schedule_periodic()
        Worker([get_queue()], connection=conn).work(with_scheduler=True, burst=burst)

    audit = click.Group("audit", help="Audit trail tools.")
    app.cli.add_command(audit)

    @audit.command("verify")
    def audit_verify_cmd() -> None:
        """Exit 0 when every ticket's event chain is intact; else print the first broken event."""
        from app.workflow.events import verify_chains

        broken = verify_chains()
        if broken is None:
            click.echo("audit chain intact")
            return
        click.echo(
            f"BROKEN: ticket {broken.ticket_id} event {broken.event_id} (seq {broken.seq}): {broken.why}", err=True
        )
        sys.exit(1)
