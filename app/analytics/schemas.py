"""Shapes of /api/v1/analytics: the same schemas dump the responses and document them."""

from __future__ import annotations

from marshmallow import fields, validate

from app.analytics.services import BREAKDOWNS, FLAG_RULES
from app.api_support import ApiSchema, DateTime, ResponseSchema


class DaysArgsSchema(ApiSchema):
    days = fields.Integer(
        load_default=28, validate=validate.Range(1, 366), metadata={"description": "filing days to cover"}
    )


class KpisSchema(ResponseSchema):
    open_now = fields.Integer()
    breached_now = fields.Integer(metadata={"description": "open tickets past their running deadline"})
    median_hours_to_money = fields.Float(allow_none=True, metadata={"description": "payouts of the last 30 days"})
    breach_rate = fields.Float(allow_none=True, metadata={"description": "share of the last 4 weeks' tickets"})
    refund_cents_this_week = fields.Integer()
    refund_cents_last_week = fields.Integer()


class TrendWeekSchema(ResponseSchema):
    week = fields.String(metadata={"description": "the Monday of the week (YYYY-MM-DD, display time zone)"})
    opened = fields.Integer()
    paid = fields.Integer()
    refund_cents = fields.Integer()
    breached = fields.Integer()
    rejected = fields.Integer()


class SummarySchema(ResponseSchema):
    kpis = fields.Nested(KpisSchema)
    trend = fields.List(fields.Nested(TrendWeekSchema))
    data_as_of = DateTime(allow_none=True, metadata={"description": "when the roll-up last ran"})


class BreakdownRowSchema(ResponseSchema):
    value = fields.String()
    opened = fields.Integer()
    paid = fields.Integer()
    refund_cents = fields.Integer()
    breached = fields.Integer()
    rejected = fields.Integer()


class BreakdownSchema(ResponseSchema):
    dim = fields.String(validate=validate.OneOf(BREAKDOWNS))
    days = fields.Integer()
    rows = fields.List(fields.Nested(BreakdownRowSchema))


class SpikeSchema(ResponseSchema):
    dim = fields.String(validate=validate.OneOf(("merchant", "product")))
    value = fields.String()
    this_week = fields.Integer()
    baseline = fields.Float()
    ratio = fields.Float()


class SpikesSchema(ResponseSchema):
    rule = fields.String()
    spikes = fields.List(fields.Nested(SpikeSchema))


class ComplainantSchema(ResponseSchema):
    customer_id = fields.Integer()
    email = fields.String()
    tickets = fields.Integer()
    refunds = fields.Integer()
    rejected = fields.Integer()
    reasons = fields.List(fields.String(validate=validate.OneOf(tuple(FLAG_RULES))))
    reason_texts = fields.List(fields.String())


class ComplainantsSchema(ResponseSchema):
    window_days = fields.Integer()
    customers = fields.List(fields.Nested(ComplainantSchema))


COMPONENTS = {
    "AnalyticsSummary": SummarySchema,
    "AnalyticsBreakdown": BreakdownSchema,
    "AnalyticsSpikes": SpikesSchema,
    "AnalyticsComplainants": ComplainantsSchema,
}
