"""Receivers of `ticket_transitioned` owned by payouts (connected in app/__init__.py)."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from app.errors import DomainError
from app.extensions import db
from app.payouts.services import request_payout
from app.tickets.models import Ticket

log = logging.getLogger(__name__)


def auto_pay(sender: Any, *, ticket_id: int, event: str, to_state: str, **_: Any) -> None:
    """With AUTO_PAY, fast-tracked tickets and balance refunds pay themselves on reaching finance.

    A refusal is logged and the ticket waits for finance to press Pay; `reconcile_payouts`
    picks up a payout whose job was never queued.
    """
    if to_state != "finance" or not current_app.config.get("AUTO_PAY"):
        return
    ticket = db.session.get(Ticket, ticket_id)
    fast_tracked = event == "fast_track" and ticket is not None and ticket.fast_track_rule
    if ticket is None or not (fast_tracked or ticket.order.payment_channel == "balance"):
        return
    try:
        request_payout(ticket_id, None)
    except DomainError as exc:
        db.session.rollback()
        log.warning("auto-pay of ticket %s refused: %s", ticket.ref, exc.message)
