"""Manager dashboard: breaches now, where time is lost, per-day trend, CSV of the breach list."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.dashboard import services
from app.i18n import to_display_tz
from app.types import utcnow

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("/")
@login_required
def index():
    services.require_manager(current_user)
    now = utcnow()
    start, end = services.parse_range(request.args.get("start"), request.args.get("end"), to_display_tz(now).date())
    data = services.stats(start, end, now)
    return render_template(
        "dashboard/index.html",
        breaches=services.breached_now(now),
        start=start,
        end=end,
        chart=services.trend_chart(data["trend"]),
        dimensions=services.DIMENSIONS,
        **data,
    )


@bp.get("/breaches.csv")
@login_required
def breaches_csv():
    services.require_manager(current_user)
    now = utcnow()
    name = f"sla-breaches-{to_display_tz(now):%Y%m%d-%H%M}.csv"
    return Response(
        "\ufeff" + services.breaches_csv(now),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


@bp.get("/calendar")
def calendar():
    """The business calendar moved to the SLA package (/sla/calendar)."""
    return redirect(url_for("sla.calendar"), 301)
