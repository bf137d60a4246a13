"""Receivers of `ticket_transitioned` owned by the workflow (connected in app/__init__.py)."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from app.errors import DomainError
from app.extensions import db
from app.tickets.models import Ticket
from app.workflow.policies import decide
from app.workflow.service import apply_event

log = logging.getLogger(__name__)


def fast_track_on_submit(sender: Any, *, ticket_id: int, event: str, **_: Any) -> None:
    """After `submit`: the first fast-track rule that fires decides, as the system actor —
    `fast_track` (submitted → finance) with the refund, or `start_review` with a note or a
    proposed amount (rules in app/workflow/policies.py; off with FAST_TRACK_ENABLED=0).
    When no rule fires, a merchant-liable kind goes to its merchant (app/merchants/workflow.py)."""
    if event != "submit":
        return
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or ticket.state != "submitted":
        return
    decision = decide(ticket) if current_app.config.get("FAST_TRACK_ENABLED", True) else None
    if decision is None:
        from app.merchants.workflow import route_on_submit

        route_on_submit(ticket)
        return
    payload: dict[str, Any] = {"rule": decision.rule, "facts": decision.facts}
    try:
        if decision.event == "fast_track":
            apply_event(ticket, "fast_track", None, amount_cents=decision.amount_cents, payload=payload)
        else:
            if decision.proposal_cents is not None:
                payload["proposal"] = {"amount_cents": decision.proposal_cents}
            apply_event(ticket, "start_review", None, reason=decision.note, payload=payload)
    except DomainError as exc:  # e.g. the order's balance went meanwhile: leave it to an agent
        log.warning("fast-track rule %s on %s not applied: %s", decision.rule, ticket.ref, exc.message)
