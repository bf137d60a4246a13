"""Fast-track rules, evaluated on submit. Placeholder until the fast-track issue lands."""
from __future__ import annotations


def evaluate_on_submit(ticket) -> str | None:
    """Fire `fast_track` (or a system `start_review`) when a rule applies; return the rule name."""
    return None
