"""Wire the feature packages into the workflow (checks, after-commit hooks, periodic jobs)."""

from __future__ import annotations

from flask import Flask


def init_plugins(app: Flask) -> None:
    from app.evidence import hooks as evidence_hooks
    from app.payouts import hooks as payout_hooks
    from app.sla import hooks as sla_hooks

    for hooks in (evidence_hooks, sla_hooks, payout_hooks):
        hooks.init_app(app)
