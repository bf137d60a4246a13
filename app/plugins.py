"""Wire the feature packages into the workflow (checks, after-commit hooks, periodic jobs)."""
from __future__ import annotations

import importlib

from flask import Flask

PLUGIN_MODULES = ("app.evidence.hooks", "app.workflow.sla_hooks", "app.payouts.hooks")


def init_plugins(app: Flask) -> None:
    for name in PLUGIN_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        mod.init_app(app)
