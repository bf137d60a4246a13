"""Marshmallow schemas of the orders and tickets API: they validate input, dump the responses
(app/tickets/serializers.py) and are the OpenAPI document's components (app/api_support.py)."""

from __future__ import annotations

from datetime import datetime

from marshmallow import ValidationError, fields, validate

from app.api_support import ApiSchema, DateTime, ResponseSchema
from app.evidence.serializers import EvidenceItemSchema, EvidenceSchema
from app.inputs import INT_MAX
from app.tickets.models import DELIVERY_STATUSES, KINDS, PAYMENT_CHANNELS, PRODUCT_TYPES
from app.workflow.machine import EVENTS, STATES

# The input layer refuses any integer an INTEGER column cannot hold (app/inputs.py): the document
# says the same bound (¥21,474,836.47), so a client is never refused a value the document allows.
MAX_CENTS = INT_MAX
# Times the platform reports must be written with a year from 2000 to 2099 (as sent, before the
# offset is applied): far-off years (0001, 9999) cannot be converted to UTC or shifted by the
# policies' windows without overflowing, and are never real order times. The document says it
# with a pattern, so clients and fuzzers see the same rule the validator applies.
FIRST_YEAR, LAST_YEAR = 2000, 2099
TIME_PATTERN = r"^20[0-9]{2}-"
TIME_WINDOW = f"year {FIRST_YEAR}-{LAST_YEAR}"


def _plausible_time(value: datetime) -> None:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(f"Must be in the {TIME_WINDOW}.")


def order_time(**kwargs) -> fields.AwareDateTime:
    """An ISO 8601 time with an offset, in the plausible years."""
    return fields.AwareDateTime(
        validate=_plausible_time,
        metadata={"description": f"ISO 8601 with offset, {TIME_WINDOW}", "pattern": TIME_PATTERN},
        **kwargs,
    )


class MembershipSchema(ApiSchema):
    activated_at = order_time(allow_none=True, load_default=None)
    term_days = fields.Integer(validate=validate.Range(1, 36500), allow_none=True, load_default=None)
    benefits_used_cents = fields.Integer(validate=validate.Range(0, MAX_CENTS), load_default=0)


class OrderCreateSchema(ApiSchema):
    order_no = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$"))
    customer_email = fields.Email(required=True, validate=validate.Length(max=254))
    merchant_code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$"))
    product_type = fields.String(required=True, validate=validate.OneOf(PRODUCT_TYPES))
    product_name = fields.String(required=True, validate=validate.Length(1, 200))
    quantity = fields.Integer(load_default=1, validate=validate.Range(1, 100000))
    amount_cents = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_CENTS))
    currency = fields.String(load_default="CNY", validate=validate.Equal("CNY"))
    payment_channel = fields.String(required=True, validate=validate.OneOf(PAYMENT_CHANNELS))
    paid_at = order_time(required=True)
    delivery_status = fields.String(load_default="pending", validate=validate.OneOf(DELIVERY_STATUSES))
    delivered_at = order_time(allow_none=True, load_default=None)
    card_key_revealed_at = order_time(allow_none=True, load_default=None)
    membership = fields.Nested(MembershipSchema, allow_none=True, load_default=None)


class TicketCreateSchema(ApiSchema):
    order_no = fields.String(required=True, validate=validate.Length(1, 64))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    description = fields.String(load_default="", validate=validate.Length(0, 5000))
    requested_amount_cents = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(0, MAX_CENTS)
    )


class EventRequestSchema(ApiSchema):
    event = fields.String(required=True, validate=validate.OneOf(EVENTS))
    reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(0, 5000))
    amount_cents = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(0, MAX_CENTS)
    )
    items = fields.List(
        fields.String(validate=validate.Length(1, 200)),
        allow_none=True,
        load_default=None,
        validate=validate.Length(0, 20),
    )
    version = fields.Integer(strict=True, allow_none=True, load_default=None)
    # Merchant answers (app/merchants): the note a dispute or reissue carries (e.g. the new card
    # key); approve: the refund is charged to the merchant's deposit when paid.
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(0, 5000))
    merchant_liable = fields.Boolean(load_default=False)


def event_payload(data: dict) -> dict:
    """The parts of an event request that travel on the event's payload."""
    payload: dict = {}
    if data.get("note"):
        payload["note"] = data["note"]
    if data.get("merchant_liable"):
        payload["merchant_liable"] = True
    return payload


class TicketListArgsSchema(ApiSchema):
    state = fields.String(validate=validate.OneOf(STATES), load_default=None)
    kind = fields.String(validate=validate.OneOf(KINDS), load_default=None)
    sla = fields.String(validate=validate.OneOf(("warning", "breached")), load_default=None)
    assignee = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^(me|none|[0-9]{1,9})$"),
        metadata={"description": "me, none or a user id"},
    )
    search = fields.String(
        data_key="q",
        load_default=None,
        validate=validate.Length(max=200),
        metadata={
            "description": "words, each to be found (case-insensitive) at the start or end of the ref or "
            "order number, or anywhere in the customer's e-mail or name, the merchant, the description, messages"
        },
    )
    cursor = fields.String(
        load_default=None,
        metadata={"description": "opaque: only a next_cursor this endpoint returned (anything else is 422)"},
    )
    limit = fields.Integer(validate=validate.Range(1, 200), load_default=None)


class MembershipOutSchema(ResponseSchema):
    activated_at = DateTime(allow_none=True)
    term_days = fields.Integer(allow_none=True)
    benefits_used_cents = fields.Integer()


class OrderSchema(ResponseSchema):
    order_no = fields.String()
    merchant_code = fields.String(attribute="merchant.code")
    product_type = fields.String(metadata={"enum": list(PRODUCT_TYPES)})
    product_name = fields.String()
    quantity = fields.Integer()
    amount_cents = fields.Integer()
    refundable_cents = fields.Integer(
        allow_none=True, metadata={"description": "what may still be refunded; null in list pages (not computed there)"}
    )
    currency = fields.String()
    payment_channel = fields.String(metadata={"enum": list(PAYMENT_CHANNELS)})
    paid_at = DateTime()
    delivery_status = fields.String(metadata={"enum": list(DELIVERY_STATUSES)})
    delivered_at = DateTime(allow_none=True)
    card_key_revealed_at = DateTime(allow_none=True)
    membership = fields.Nested(MembershipOutSchema, allow_none=True)


class FastTrackSchema(ResponseSchema):
    rule = fields.String(metadata={"description": "the fast-track rule that decided (app/workflow/policies.py)"})
    explanation = fields.String(metadata={"description": "the decision in plain words, in the caller's language"})
    facts = fields.Dict(
        allow_none=True, metadata={"description": "what the rule saw; staff and the platform only (null for customers)"}
    )


class TimelineEntrySchema(ResponseSchema):
    event = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    actor_role = fields.String()
    reason = fields.String(
        allow_none=True, metadata={"description": "null when there is none or the caller may not see it"}
    )
    at = DateTime()
    fast_track = fields.Nested(
        FastTrackSchema, allow_none=True, metadata={"description": "set when a fast-track rule made this decision"}
    )


class SlaSchema(ResponseSchema):
    metric = fields.String(allow_none=True)
    status = fields.String()
    paused = fields.Boolean()
    due_at = DateTime(allow_none=True)
    warn_at = DateTime(allow_none=True)
    evidence_due_at = DateTime(allow_none=True)
    business_seconds_left = fields.Integer(allow_none=True)
    business_seconds_overdue = fields.Integer(allow_none=True)


class TicketSummarySchema(ResponseSchema):
    """A ticket as list pages show it (no timeline or evidence; the order's refundable_cents is null)."""

    ref = fields.String()
    kind = fields.String(metadata={"enum": list(KINDS)})
    state = fields.String(metadata={"enum": list(STATES)})
    state_label = fields.String()
    order = fields.Nested(OrderSchema)
    requested_amount_cents = fields.Integer()
    approved_amount_cents = fields.Integer(allow_none=True)
    allowed_events = fields.List(fields.String())
    fast_track = fields.Nested(
        FastTrackSchema, allow_none=True, metadata={"description": "the rule that decided the ticket automatically"}
    )
    sla = fields.Nested(SlaSchema)
    tracker_url = fields.String()
    version = fields.Integer()
    created_at = DateTime()
    updated_at = DateTime()


class TicketSchema(TicketSummarySchema):
    """One ticket with what the caller may see of its timeline and evidence."""

    timeline = fields.List(fields.Nested(TimelineEntrySchema))
    evidence_items = fields.List(fields.Nested(EvidenceItemSchema), metadata={"description": "requested items"})
    evidence = fields.List(fields.Nested(EvidenceSchema), metadata={"description": "files the caller may see"})


class TicketPageSchema(ResponseSchema):
    items = fields.List(fields.Nested(TicketSummarySchema))
    next_cursor = fields.String(allow_none=True)


COMPONENTS = {
    "OrderCreate": OrderCreateSchema,
    "Order": OrderSchema,
    "TicketCreate": TicketCreateSchema,
    "EventRequest": EventRequestSchema,
    "TicketSummary": TicketSummarySchema,
    "Ticket": TicketSchema,
    "TicketPage": TicketPageSchema,
}
