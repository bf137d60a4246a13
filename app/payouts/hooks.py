"""Wire payouts and fast-track rules into the workflow: checks, auto-pay, the reconcile job."""

from __future__ import annotations

from flask import Flask

from app.jobs import register_periodic
from app.payouts import services
from app.workflow import policies
from app.workflow.service import after_commit, register_check


def init_app(app: Flask) -> None:
    register_check("pay", services.check_pay)
    register_check("return_to_review", services.check_return_to_review)
    policies.init_checks()
    after_commit(services.auto_pay)
    register_periodic("reconcile_payouts", "app.payouts.jobs.reconcile_payouts", "*/5 * * * *")

    @app.context_processor
    def fast_track_helpers():
        return {"fast_track_explanation": policies.explain}
