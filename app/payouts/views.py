"""The finance desk (HTML): queue with filters and totals, Pay / Bulk pay / Retry (on another
channel after a decline) / Return to review, reports, CSV, incidents.

Finance and managers see the desk (others get 403); only finance pays; managers and admins
declare incidents.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.permissions import permission_required
from app.errors import Invalid
from app.payouts import reports, services
from app.payouts.checks import payable_channels
from app.payouts.forms import (
    AGE_CHOICES,
    BulkPayForm,
    EndIncidentForm,
    IncidentForm,
    PayForm,
    QueueFilterForm,
    ReportRangeForm,
    RetryForm,
    ReturnForm,
    to_utc,
)
from app.payouts.labels import decline_label, status_label
from app.payouts.reports import QueueFilter, local_day
from app.tickets.models import PAYMENT_CHANNELS
from app.tickets.services import get_ticket
from app.types import utcnow
from app.workflow import incidents as incident_services
from app.workflow.service import allowed_events

bp = Blueprint("payouts", __name__, url_prefix="/finance")


def _form_error(form) -> None:
    messages = [m for errors in form.errors.values() for m in errors]
    raise Invalid(
        "; ".join(str(m) for m in messages) or str(_l("Some fields are invalid.")),
        fields={k: [str(m) for m in v] for k, v in form.errors.items()},
    )


@bp.get("/")
@permission_required("finance_desk")
def queue():
    filters = QueueFilterForm(request.args)
    filters.channel.choices = [("", _("Any channel"))] + [(c, c) for c in PAYMENT_CHANNELS]
    filters.age.choices = [("", _("Any age"))] + [(str(d), str(d)) for d in AGE_CHOICES]
    if not filters.validate():  # a bad filter is a clear 422, never a 500
        raise Invalid(str(_l("Some filters are invalid.")), fields=filters.errors)
    chosen = QueueFilter(
        channel=filters.channel.data or None,
        min_cents=filters.cents(filters.min_yuan.data),
        max_cents=filters.cents(filters.max_yuan.data),
        min_age_days=int(filters.age.data) if filters.age.data else None,
    )
    now = utcnow()
    rows = reports.queue_rows(chosen, now)
    declined = reports.declined_by_ticket([row.ticket.id for row in rows if row.payout is not None])
    return render_template(
        "payouts/queue.html",
        rows=rows,
        filters=filters,
        totals=reports.queue_totals(chosen, now, len(rows)),
        channels=PAYMENT_CHANNELS,
        ages=AGE_CHOICES,
        payable={row.ticket.id: payable_channels(row.ticket, declined.get(row.ticket.id, set())) for row in rows},
        declined=declined,
        allowed_events=allowed_events,
        pay_form=PayForm(),
        bulk_form=BulkPayForm(formdata=None),
        retry_form=RetryForm(),
        return_form=ReturnForm(),
        decline_label=decline_label,
    )


@bp.post("/bulk-pay")
@permission_required("pay")
def bulk_pay():
    form = BulkPayForm()
    if not form.validate_on_submit():
        _form_error(form)
    outcomes = services.bulk_pay(list(form.ref.data or []), current_user, channel=form.channel.data)
    started = [o for o in outcomes if o.started]
    refused = [o for o in outcomes if not o.started]
    if started:
        flash(
            _(
                "Payouts started for %(n)s tickets: %(refs)s.",
                n=len(started),
                refs=", ".join(f"{o.ref} ({status_label(o.status or '')})" for o in started),
            ),
            "success",
        )
    for o in refused:
        flash(_("%(ref)s: nothing started. %(why)s", ref=o.ref, why=o.message), "error")
    return redirect(url_for("payouts.queue"))


@bp.post("/tickets/<ref>/pay")
@permission_required("pay")
def pay(ref: str):
    form = PayForm()
    if not form.validate_on_submit():
        _form_error(form)
    payout = services.request_payout(get_ticket(ref, current_user).id, current_user, channel=form.channel.data or None)
    flash(_("Payout for %(ref)s: %(status)s.", ref=ref, status=status_label(payout.status)), "success")
    return redirect(url_for("payouts.queue"))


@bp.post("/payouts/<int:payout_id>/retry")
@permission_required("pay")
def retry(payout_id: int):
    form = RetryForm()
    if not form.validate_on_submit():
        _form_error(form)
    payout = services.retry_payout(payout_id, current_user, channel=form.channel.data or None)
    flash(_("Payout for %(ref)s: %(status)s.", ref=payout.ticket.ref, status=status_label(payout.status)), "success")
    return redirect(url_for("payouts.queue"))


@bp.post("/tickets/<ref>/return")
@permission_required("pay")
def return_to_review(ref: str):
    form = ReturnForm()
    if not form.validate_on_submit():
        _form_error(form)
    services.return_to_review(get_ticket(ref, current_user).id, current_user, form.reason.data)
    flash(_("%(ref)s went back to review.", ref=ref), "success")
    return redirect(url_for("payouts.queue"))


@bp.get("/reports")
@permission_required("finance_desk")
def report():
    form = ReportRangeForm(request.args)
    start, end = form.range(local_day(utcnow()))
    return render_template(
        "payouts/reports.html",
        form=form,
        start=start,
        end=end,
        totals=reports.day_channel_totals(start, end),
        failures=reports.failures(),
    )


@bp.get("/reports.csv")
@permission_required("finance_desk")
def export_csv():
    start, end = ReportRangeForm(request.args).range(local_day(utcnow()))
    name = f"payouts-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return Response(
        reports.export_csv(start, end),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"},
    )


@bp.route("/incidents", methods=["GET", "POST"])
@permission_required("incidents")
def incidents():
    form = IncidentForm()
    if form.validate_on_submit():
        starts, ends = to_utc(form.starts_at.data), to_utc(form.ends_at.data)
        if starts is None:  # DataRequired: validate_on_submit saw it
            raise Invalid(str(_l("Some fields are invalid.")))
        incident_services.declare_incident(
            starts,
            ends,
            form.product_types.data,
            form.note.data,
            current_user,
        )
        flash(_("Incident declared."), "success")
        return redirect(url_for("payouts.incidents"))
    status = 422 if form.errors else 200
    return render_template(
        "payouts/incidents.html", form=form, end_form=EndIncidentForm(), incidents=incident_services.recent_incidents()
    ), status


@bp.post("/incidents/<int:incident_id>/end")
@permission_required("incidents")
def end_incident(incident_id: int):
    form = EndIncidentForm()
    if not form.validate_on_submit():
        _form_error(form)
    ends = to_utc(form.ends_at.data)
    if ends is None:
        raise Invalid(str(_l("Some fields are invalid.")))
    incident_services.end_incident(incident_id, ends, current_user)
    flash(_("Incident end recorded."), "success")
    return redirect(url_for("payouts.incidents"))


@bp.app_context_processor
def payout_labels():
    return {
        "payout_status_label": status_label,
        "decline_label": decline_label,
        "incident_covers_all": incident_services.covers_all,
    }
