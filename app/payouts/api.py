"""JSON API v1 for the finance desk: pay a ticket (idempotent) and read its payout."""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields

from app.auth.tokens import api_user, token_required
from app.errors import Invalid, NotFound
from app.payouts import checks, services
from app.payouts.models import Payout
from app.tickets.services import get_ticket

bp = Blueprint("payouts_api", __name__, url_prefix="/api/v1")


class PayoutSchema(Schema):
    id = fields.Integer()
    ticket_ref = fields.String()
    amount_cents = fields.Integer()
    channel = fields.String(metadata={"enum": ["balance", "alipay", "wechat", "bank_card"]})
    status = fields.String(metadata={"enum": ["pending", "processing", "succeeded", "failed", "cancelled"]})
    reference = fields.String(allow_none=True)
    manual = fields.Boolean()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    succeeded_at = fields.DateTime(allow_none=True)


class PayRequestSchema(Schema):
    channel = fields.String(allow_none=True, metadata={"description": "balance, or the order's channel (default)"})


COMPONENTS = {"Payout": PayoutSchema, "PayRequest": PayRequestSchema}


def payout_json(payout: Payout) -> dict:
    iso = lambda dt: dt.isoformat() if dt else None  # noqa: E731
    return {
        "id": payout.id,
        "ticket_ref": payout.ticket.ref,
        "amount_cents": payout.amount_cents,
        "channel": payout.channel,
        "status": payout.status,
        "reference": payout.gateway_reference,
        "manual": payout.manual,
        "attempts": payout.attempts,
        "last_error": payout.last_error,
        "created_at": iso(payout.created_at),
        "succeeded_at": iso(payout.succeeded_at),
    }


@bp.post("/tickets/<ref>/payout")
@token_required("pay")
def pay(ref: str):
    """Pay an approved ticket. Every call (double clicks, retries) returns the ticket's one payout.
    ---
    post:
      tags: [payouts]
      parameters: [{name: ref, in: path, required: true, schema: {type: string}}]
      requestBody: {required: false, content: {application/json: {schema: PayRequest}}}
      responses:
        202: {description: the payout (queued, running or done), content: {application/json: {schema: Payout}}}
        403: {description: finance only, content: {application/json: {schema: Error}}}
        404: {description: no such ticket, content: {application/json: {schema: Error}}}
        409: {description: the ticket is not waiting for a payout, content: {application/json: {schema: Error}}}
        422: {description: bad fields, content: {application/json: {schema: Error}}}
    """
    user = api_user()
    body = request.get_json(silent=True) or {}
    channel = body.get("channel") if isinstance(body, dict) else None
    if channel is not None and not isinstance(channel, str):
        raise Invalid(str(_l("Some fields are invalid.")), fields={"channel": ["a string"]})
    payout = services.request_payout(get_ticket(ref, user).id, user, channel=channel)
    return payout_json(payout), 202


@bp.get("/tickets/<ref>/payout")
@token_required("finance_desk")
def show(ref: str):
    """The ticket's payout (404 when there is none).
    ---
    get:
      tags: [payouts]
      parameters: [{name: ref, in: path, required: true, schema: {type: string}}]
      responses:
        200: {description: the payout, content: {application/json: {schema: Payout}}}
        403: {description: finance and managers only, content: {application/json: {schema: Error}}}
        404: {description: no such ticket or no payout, content: {application/json: {schema: Error}}}
    """
    payout = checks.payout_for(get_ticket(ref, api_user()).id)
    if payout is None:
        raise NotFound(str(_l("No payout for this ticket.")))
    return payout_json(payout)
