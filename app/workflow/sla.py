"""SLA clock: deadlines stored on the ticket when it enters a stage.

Placeholder until the SLA issue lands: no deadlines are set yet.
"""
from __future__ import annotations

from datetime import datetime


def on_transition(ticket, event: str, from_state: str | None, now: datetime) -> None:
    """Called inside the transition's transaction, after the state changed."""
    return None


def sla_status(ticket, now: datetime) -> dict:
    """What the API and pages show about the current stage's clock."""
    due, warn = ticket.sla_due_at, ticket.sla_warn_at
    status = "none"
    if due is not None:
        status = "breached" if now >= due else "warning" if warn is not None and now >= warn else "ok"
    return {
        "metric": ticket.sla_metric, "status": status, "paused": ticket.state == "evidence",
        "due_at": due.isoformat() if due else None, "warn_at": warn.isoformat() if warn else None,
    }
