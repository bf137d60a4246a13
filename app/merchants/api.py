"""JSON API v1 for merchants: a merchant's summary, deposit top-ups, suspend/blacklist."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from app.api_support import ApiSchema, ResponseSchema, dump, load_json
from app.auth.tokens import api_user, token_required
from app.merchants import ledger, services, webhooks
from app.merchants.models import STANDING_ACTIONS, Merchant
from app.merchants.score import score_of

bp = Blueprint("merchants_api", __name__, url_prefix="/api/v1")


class MerchantSchema(ResponseSchema):
    code = fields.String()
    name = fields.String()
    deposit_cents = fields.Integer(metadata={"description": "保证金: top-ups minus refunds charged"})
    score = fields.Integer(metadata={"description": "0–100, from the merchant's own record"})
    suspended = fields.Boolean()
    blacklisted = fields.Boolean()
    open_complaints = fields.Integer()


class TopUpSchema(ApiSchema):
    amount_cents = fields.Integer(required=True, strict=True, validate=validate.Range(1, ledger.MAX_TOP_UP_CENTS))
    note = fields.String(load_default="", validate=validate.Length(0, 200))


class StandingSchema(ApiSchema):
    action = fields.String(required=True, validate=validate.OneOf(STANDING_ACTIONS))
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


COMPONENTS = {"Merchant": MerchantSchema, "TopUp": TopUpSchema, "Standing": StandingSchema}


def merchant_json(merchant: Merchant) -> dict:
    return dump(
        MerchantSchema,
        {
            "code": merchant.code,
            "name": merchant.name,
            "deposit_cents": merchant.deposit_cents,
            "score": score_of(merchant.id).score,
            "suspended": merchant.suspended,
            "blacklisted": merchant.blacklisted,
            "open_complaints": services.open_complaints(merchant.id),
        },
    )


@bp.get("/merchants/<code>")
@token_required()
def get_merchant(code: str):
    """A merchant's standing (staff, or that merchant's own users; anyone else: 404).
    ---
    get:
      tags: [merchants]
      parameters: [{name: code, in: path, required: true, schema: {type: string}}]
      responses:
        200: {description: the merchant, content: {application/json: {schema: Merchant}}}
        404: {description: no such merchant (or not yours), content: {application/json: {schema: Error}}}
    """
    return merchant_json(services.visible_merchant(code, api_user()))


@bp.post("/merchants/<code>/deposits")
@token_required("merchant_top_up")
def top_up(code: str):
    """Add to a merchant's deposit (finance, admin).
    ---
    post:
      tags: [merchants]
      parameters: [{name: code, in: path, required: true, schema: {type: string}}]
      requestBody: {content: {application/json: {schema: TopUp}}}
      responses:
        201: {description: the merchant after the top-up, content: {application/json: {schema: Merchant}}}
        403: {description: finance and admins only, content: {application/json: {schema: Error}}}
        404: {description: no such merchant, content: {application/json: {schema: Error}}}
    """
    data = load_json(TopUpSchema())
    ledger.top_up(code, data["amount_cents"], api_user(), data["note"])
    return merchant_json(services.merchant_by_code(code)), 201


@bp.post("/merchants/<code>/standing")
@token_required("merchant_standing")
def standing(code: str):
    """Suspend or blacklist a merchant, or lift it, with a reason (managers; audited).
    ---
    post:
      tags: [merchants]
      parameters: [{name: code, in: path, required: true, schema: {type: string}}]
      requestBody: {content: {application/json: {schema: Standing}}}
      responses:
        200: {description: the merchant, content: {application/json: {schema: Merchant}}}
        403: {description: managers only, content: {application/json: {schema: Error}}}
        404: {description: no such merchant, content: {application/json: {schema: Error}}}
    """
    data = load_json(StandingSchema())
    return merchant_json(services.set_standing(code, api_user(), data["action"], data["reason"]))


# --- webhooks ------------------------------------------------------------------------------------


class WebhookCreateSchema(ApiSchema):
    url = fields.String(
        required=True,
        validate=[validate.Length(1, 2000), validate.Regexp(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$")],
        metadata={"description": "http(s) only; private-range hosts need an admin's approval (403)"},
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(webhooks.known_events())), required=True, validate=validate.Length(1, 40)
    )


class WebhookSchema(ResponseSchema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    secret = fields.String(metadata={"description": "HMAC-SHA256 key of the Refundesk-Signature header"})


class DeliverySchema(ResponseSchema):
    id = fields.String(metadata={"description": "the delivery id (receivers dedupe on it)"})
    event = fields.String()
    status = fields.String(metadata={"enum": ["pending", "sending", "delivered", "failed"]})
    attempts = fields.Integer()
    last_status = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)


class DeliveryPageSchema(ResponseSchema):
    items = fields.List(fields.Nested(DeliverySchema))


class HostSchema(ApiSchema):
    host = fields.String(required=True, validate=validate.Length(1, 255))


class HostResponseSchema(ResponseSchema):
    host = fields.String()


COMPONENTS.update(
    {
        "WebhookCreate": WebhookCreateSchema,
        "Webhook": WebhookSchema,
        "WebhookDelivery": DeliverySchema,
        "WebhookDeliveries": DeliveryPageSchema,
        "WebhookHost": HostSchema,
        "WebhookHostAllowed": HostResponseSchema,
    }
)


@bp.post("/webhooks")
@token_required("webhooks")
def create_webhook():
    """Register an outgoing webhook (platform and admins: every ticket; a merchant: its own).
    ---
    post:
      tags: [webhooks]
      requestBody: {content: {application/json: {schema: WebhookCreate}}}
      responses:
        201: {description: the webhook with its secret (shown once), content: {application/json: {schema: Webhook}}}
        403: {description: your role may not, or a private-range target, content: {application/json: {schema: Error}}}
    """
    data = load_json(WebhookCreateSchema())
    return dump(WebhookSchema, webhooks.register(api_user(), data["url"], data["events"])), 201


@bp.get("/webhooks/<int:webhook_id>/deliveries")
@token_required("webhooks")
def list_deliveries(webhook_id: int):
    """A webhook's deliveries, oldest first (the owner, or an admin).
    ---
    get:
      tags: [webhooks]
      parameters: [{name: webhook_id, in: path, required: true, schema: {type: integer}}]
      responses:
        200: {description: the deliveries, content: {application/json: {schema: WebhookDeliveries}}}
        403: {description: your role may not, content: {application/json: {schema: Error}}}
        404: {description: no such webhook (or not yours), content: {application/json: {schema: Error}}}
    """
    return dump(DeliveryPageSchema, {"items": webhooks.deliveries_of(api_user(), webhook_id)})


@bp.post("/webhooks/deliveries/<delivery_id>/replay")
@token_required("webhooks")
def replay_delivery(delivery_id: str):
    """Send a delivery again, with the same id.
    ---
    post:
      tags: [webhooks]
      parameters: [{name: delivery_id, in: path, required: true, schema: {type: string}}]
      responses:
        200: {description: the delivery after the attempt, content: {application/json: {schema: WebhookDelivery}}}
        403: {description: your role may not, content: {application/json: {schema: Error}}}
        404: {description: no such delivery (or not yours), content: {application/json: {schema: Error}}}
    """
    return dump(DeliverySchema, webhooks.replay(api_user(), delivery_id))


@bp.post("/webhooks/hosts")
@token_required("webhook_hosts")
def allow_webhook_host():
    """Admins: allow a webhook host that resolves to a private-range address.
    ---
    post:
      tags: [webhooks]
      requestBody: {content: {application/json: {schema: WebhookHost}}}
      responses:
        201: {description: allowed, content: {application/json: {schema: WebhookHostAllowed}}}
        403: {description: admins only, content: {application/json: {schema: Error}}}
    """
    row = webhooks.allow_host(api_user(), load_json(HostSchema())["host"])
    return dump(HostResponseSchema, {"host": row.host}), 201
