"""Flask CLI: create-user, seed-demo, worker, audit verify, jobs list|run (the operators' contract)."""

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
    @click.option("--merchant", "merchant_code", default=None, help="Role merchant: the merchant's code.")
    def create_user_cmd(email: str, role: str, password: str, name: str, merchant_code: str | None) -> None:
        """Create a user with a role (a merchant user is bound to one merchant: --merchant CODE)."""
        from app.auth.services import create_user

        try:
            user = create_user(email, password, role=role, name=name, merchant_code=merchant_code)
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
    @click.option(
        "--digest", is_flag=True, help="Also print one SHA-256 over every ticket's anchor (keep it elsewhere)."
    )
    def audit_verify_cmd(digest: bool) -> None:
        """Exit 0 when every ticket's trail and anchor are intact; else print the first broken one.

        What this proves and what not: see app/workflow/events.py."""
        from app.workflow.events import anchors_digest, verify_chains

        broken = verify_chains()
        if broken is None:
            click.echo("audit chain intact")
            if digest:
                click.echo(f"anchors digest {anchors_digest()}")
            return
        click.echo(f"BROKEN: ticket {broken.ticket_id} {_where(broken)}: {broken.why}", err=True)
        sys.exit(1)

    @audit.command("rehash")
    def audit_rehash_cmd() -> None:
        """Re-sign chains written before keyed hashes (run once after upgrading; see events.py)."""
        from app.workflow.events import rehash_legacy

        done, refused = rehash_legacy()
        click.echo(f"re-signed {done} ticket chain(s)")
        for broken in refused:
            click.echo(f"REFUSED: ticket {broken.ticket_id} {_where(broken)}: {broken.why}", err=True)
        if refused:
            sys.exit(1)

    jobs = click.Group("jobs", help="The periodic jobs (PERIODIC in app/jobs.py): list them, run them once.")
    app.cli.add_command(jobs)

    @jobs.command("list")
    def jobs_list_cmd() -> None:
        """Every periodic job: name, cron schedule, function."""
        from app.jobs import PERIODIC

        for job in PERIODIC:
            click.echo(f"{job.name:28} {job.cron:14} {job.func}")

    @jobs.command("run")
    @click.argument("name", required=False)
    @click.option("--all", "run_all", is_flag=True, help="Run every periodic job, in table order.")
    def jobs_run_cmd(name: str | None, run_all: bool) -> None:
        """Run the periodic job NAME (or --all) once, here, now (e.g. after an outage).

        Exit status 1 when a job failed (the others still run), 2 for an unknown name.
        """
        from app.jobs import PERIODIC, run_periodic

        known = [job.name for job in PERIODIC]
        if run_all == bool(name):
            raise click.UsageError("give a job NAME or --all")
        if name is not None and name not in known:
            raise click.BadParameter(f"no periodic job {name!r}; one of: {', '.join(known)}")
        names = known if name is None else [name]
        failed = []
        for job_name in names:
            try:
                result = run_periodic(job_name)
            except Exception as exc:  # report, roll back, go on with the next job
                from app.extensions import db

                db.session.rollback()
                failed.append(job_name)
                click.echo(f"{job_name}: FAILED ({type(exc).__name__}: {exc})", err=True)
                continue
            click.echo(f"{job_name}: done" + ("" if result is None else f" ({result})"))
        if failed:
            sys.exit(1)


def _where(broken) -> str:
    return f"event {broken.event_id} (seq {broken.seq})" if broken.event_id is not None else "(no event)"
