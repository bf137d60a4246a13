"""JSON API v1 for the finance desk: pay a ticket (idempotent) and read its payout."""
from __future__ import annotations

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l

from app.auth.tokens import api_user, token_required
from app.errors import Invalid, NotFound
from app.payouts import services
from app.payouts.models import Payout
from app.tickets.services import get_ticket

bp = Blueprint("payouts_api", __name__, url_prefix="/api/v1")


def payout_json(payout: Payout) -> dict:
    iso = lambda dt: dt.isoformat() if dt else None  # noqa: E731
    return {"id": payout.id, "ticket_ref": payout.ticket.ref, "amount_cents": payout.amount_cents,
            "channel": payout.channel, "status": payout.status, "reference": payout.gateway_reference,
            "manual": payout.manual, "attempts": payout.attempts, "last_error": payout.last_error,
            "created_at": iso(payout.created_at), "succeeded_at": iso(payout.succeeded_at)}


@bp.post("/tickets/<ref>/payout")
@token_required("finance")
def pay(ref: str):
    """Pay an approved ticket. Every call (double clicks, retries) returns the ticket's one payout."""
    user = api_user()
    body = request.get_json(silent=True) or {}
    channel = body.get("channel") if isinstance(body, dict) else None
    if channel is not None and not isinstance(channel, str):
        raise Invalid(str(_l("Some fields are invalid.")), fields={"channel": ["a string"]})
    payout = services.request_payout(get_ticket(ref, user).id, user, channel=channel)
    return payout_json(payout), 202


@bp.get("/tickets/<ref>/payout")
@token_required("finance", "manager")
def show(ref: str):
    """The ticket's payout (404 when there is none)."""
    payout = services.payout_for(get_ticket(ref, api_user()).id)
    if payout is None:
        raise NotFound(str(_l("No payout for this ticket.")))
    return payout_json(payout)
