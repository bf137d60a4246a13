"""Manager dashboard: breaches now, where time is lost, per-day trend, CSV of the breach list."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.dashboard import services
from app.dashboard.forms import BusinessDateForm, RemoveDateForm
from app.i18n import to_display_tz
from app.sla import clock as sla
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


@bp.route("/calendar", methods=["GET", "POST"])
@login_required
def calendar():
    """Admin dates on top of the holiday data: extra holidays and extra working days (调休)."""
    services.require_calendar_admin(current_user)
    form = BusinessDateForm()
    if form.validate_on_submit():
        sla.set_business_date(form.day.data, form.kind.data, form.note.data or "")
        flash(_("Saved. New deadlines use it; deadlines already set stay as they are."), "success")
        return redirect(url_for("dashboard.calendar"))
    return render_template(
        "dashboard/calendar.html", form=form, dates=services.business_dates(), remove_form=RemoveDateForm()
    )


@bp.post("/calendar/remove")
@login_required
def calendar_remove():
    services.require_calendar_admin(current_user)
    form = RemoveDateForm()
    if form.validate_on_submit():
        sla.remove_business_date(date.fromisoformat(form.day.data))
    return redirect(url_for("dashboard.calendar"))
