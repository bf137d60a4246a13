"""The managers' analytics page (HTML, ECharts from static/vendor) and its JSON API."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from app.analytics import schemas, services
from app.api_support import load_args
from app.auth.permissions import permission_required
from app.auth.tokens import token_required
from app.errors import Invalid, NotFound
from app.tickets.labels import KIND_LABELS
from app.tickets.models import PAYMENT_CHANNELS, PRODUCT_TYPES
from app.types import utcnow

bp = Blueprint("analytics", __name__, url_prefix="/analytics")
api_bp = Blueprint("analytics_api", __name__, url_prefix="/api/v1/analytics")

DIM_LABELS = {
    "kind": _l("Kind"),
    "merchant": _l("Merchant"),
    "product_type": _l("Product type"),
    "product": _l("Product"),
    "channel": _l("Payment channel"),
    "agent": _l("Agent"),
}


def _days_arg() -> int:
    raw = request.args.get("days", "28")
    if not raw.isdigit() or not 1 <= int(raw) <= 366:
        raise Invalid(str(_l("Some parameters are invalid.")), fields={"days": ["1..366"]})
    return int(raw)


def drill_url(dim: str, value: str) -> str | None:
    """The queue filtered to one value of a breakdown (all states): a kind, a merchant (its code),
    the order's product type or payment channel, or an agent (the assignee's id; "" is the
    unassigned tickets). The queue has no filter on one product (its name): those rows are not links."""
    if dim == "kind":
        return url_for("tickets.queue", kind=value, state="")
    if dim == "merchant" and value:
        return url_for("tickets.queue", merchant=value, state="")
    if dim == "product_type" and value in PRODUCT_TYPES:
        return url_for("tickets.queue", product_type=value, state="")
    if dim == "channel" and value in PAYMENT_CHANNELS:
        return url_for("tickets.queue", channel=value, state="")
    if dim == "agent":
        return url_for("tickets.queue", who=value if value.isdigit() else "unassigned", state="")
    return None


@bp.get("/")
@permission_required("analytics")
def index():
    now = utcnow()
    days = _days_arg()
    breakdowns = {dim: services.breakdown(dim, now, days) for dim in services.BREAKDOWNS}
    agents = services.agent_names([r["value"] for r in breakdowns["agent"]])
    return render_template(
        "analytics/index.html",
        kpis=services.kpis(now),
        trend=services.weekly_trend(now),
        breakdowns=breakdowns,
        dim_labels=DIM_LABELS,
        kind_labels=KIND_LABELS,
        agents=agents,
        spikes=services.spikes(now),
        spike_rule=services.spike_rule(),
        flagged=services.flagged_customers(),
        rule_text=services.rule_text,
        drill_url=drill_url,
        days=days,
        as_of=services.data_as_of(),
    )


@api_bp.get("/summary")
@token_required("analytics")
def summary():
    """KPI tiles (live) and the weekly trend (from the roll-up).
    ---
    get:
      tags: [analytics]
      responses:
        200: {description: KPIs and 12 weekly rows, content: {application/json: {schema: AnalyticsSummary}}}
        403: {description: managers and admins only, content: {application/json: {schema: Error}}}
    """
    now = utcnow()
    data = {"kpis": services.kpis(now), "trend": services.weekly_trend(now), "data_as_of": services.data_as_of()}
    return schemas.SummarySchema().dump(data)


@api_bp.get("/breakdown/<dim>")
@token_required("analytics")
def breakdown(dim: str):
    """Complaints of the last `days` days per kind, merchant, product_type, product, channel or agent.
    ---
    get:
      tags: [analytics]
      parameters:
        - name: dim
          in: path
          required: true
          schema: {type: string, enum: [kind, merchant, product_type, product, channel, agent]}
        - {in: query, schema: DaysArgsSchema}
      responses:
        200: {description: rows, most complaints first, content: {application/json: {schema: AnalyticsBreakdown}}}
        403: {description: managers and admins only, content: {application/json: {schema: Error}}}
        404: {description: unknown dimension, content: {application/json: {schema: Error}}}
        422: {description: bad days, content: {application/json: {schema: Error}}}
    """
    if dim not in services.BREAKDOWNS:
        raise NotFound(str(_l("No such breakdown.")))
    days = load_args(schemas.DaysArgsSchema())["days"]
    return schemas.BreakdownSchema().dump({"dim": dim, "days": days, "rows": services.breakdown(dim, utcnow(), days)})


@api_bp.get("/spikes")
@token_required("analytics")
def spikes():
    """Merchants and products far above their own baseline this week, with the rule in words.
    ---
    get:
      tags: [analytics]
      responses:
        200: {description: spikes, content: {application/json: {schema: AnalyticsSpikes}}}
        403: {description: managers and admins only, content: {application/json: {schema: Error}}}
    """
    return schemas.SpikesSchema().dump({"rule": services.spike_rule(), "spikes": services.spikes(utcnow())})


@api_bp.get("/complainants")
@token_required("analytics")
def complainants():
    """Customers flagged by the abuse rules (many requests or refunds in a short time, mostly rejected).
    ---
    get:
      tags: [analytics]
      responses:
        200: {description: flagged customers, content: {application/json: {schema: AnalyticsComplainants}}}
        403: {description: managers and admins only, content: {application/json: {schema: Error}}}
    """
    rows = [
        {
            "customer_id": f.customer_id,
            "email": u.email,
            "tickets": f.tickets,
            "refunds": f.refunds,
            "rejected": f.rejected,
            "reasons": f.reasons,
            "reason_texts": [services.rule_text(r) for r in f.reasons],
        }
        for f, u in services.flagged_customers(100)
    ]
    return schemas.ComplainantsSchema().dump({"window_days": services.FLAG_WINDOW_DAYS, "customers": rows})
