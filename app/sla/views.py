"""The business-calendar admin page: dates added on top of the holiday data (blueprint `sla`)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.permissions import permission_required
from app.sla.clock import business_dates, remove_business_date, set_business_date
from app.sla.forms import BusinessDateForm, RemoveDateForm

bp = Blueprint("sla", __name__, url_prefix="/sla")


@bp.route("/calendar", methods=["GET", "POST"])
@permission_required("calendar_admin")
def calendar():
    """Admin dates on top of the holiday data: extra holidays and extra working days (调休)."""
    form = BusinessDateForm()
    if form.validate_on_submit():
        set_business_date(form.day.data, form.kind.data, form.note.data or "", actor=current_user)
        flash(_("Saved. New deadlines use it; deadlines already set stay as they are."), "success")
        return redirect(url_for("sla.calendar"))
    return render_template("sla/calendar.html", form=form, dates=business_dates(), remove_form=RemoveDateForm())


@bp.post("/calendar/remove")
@permission_required("calendar_admin")
def calendar_remove():
    form = RemoveDateForm()
    if form.validate_on_submit():
        remove_business_date(date.fromisoformat(form.day.data), actor=current_user)
    return redirect(url_for("sla.calendar"))
