"""JSON API v1 for the finance desk: pay a ticket (idempotent) and read its payout."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from app.api_support import ApiSchema, DateTime, ResponseSchema, dump, load_optional_json
from app.auth.tokens import api_user, token_required
from app.errors import NotFound
from app.payouts import checks, services
from app.payouts.models import Payout
from app.tickets.models import PAYMENT_CHANNELS
from app.tickets.services import get_ticket

bp = Blueprint("payouts_api", __name__, url_prefix="/api/v1")


class PayoutSchema(ResponseSchema):
    id = fields.Integer()
    ticket_ref = fields.String(attribute="ticket.ref")
    amount_cents = fields.Integer()
    channel = fields.String(metadata={"enum": list(PAYMENT_CHANNELS)})
    status = fields.String(metadata={"enum": ["pending", "processing", "succeeded", "failed", "cancelled"]})
    reference = fields.String(attribute="gateway_reference", allow_none=True)
    manual = fields.Boolean()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = DateTime()
    succeeded_at = DateTime(allow_none=True)


class PayRequestSchema(ApiSchema):
    channel = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.OneOf(PAYMENT_CHANNELS),
        metadata={"description": "balance, or the order's channel (default)"},
    )


COMPONENTS = {"Payout": PayoutSchema, "PayRequest": PayRequestSchema}


def payout_json(payout: Payout) -> dict:
    return dump(PayoutSchema, payout)


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
    channel = load_optional_json(PayRequestSchema())["channel"]
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
