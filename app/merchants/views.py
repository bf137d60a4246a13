"""Merchant pages (HTML): the merchant desk for merchant users; the merchants pages for staff.

Parse → one service call → render. Someone else's ticket or merchant is a 404.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.permissions import can, permission_required
from app.errors import DomainError, NotFound
from app.extensions import db
from app.merchants import ledger, reports, services
from app.merchants.collective import groups_for
from app.merchants.forms import AnswerForm, MerchantMessageForm, ReissueFeedbackForm, StandingForm, TopUpForm
from app.merchants.score import score_of
from app.merchants.workflow import ANSWERS
from app.payouts.reports import csv_cell
from app.tickets import queries, visibility
from app.tickets.services import add_message, get_ticket
from app.types import utcnow
from app.workflow.service import allowed_events

bp = Blueprint("merchants", __name__)

# --- the merchant desk ------------------------------------------------------------------------


@bp.get("/merchant")
@permission_required("merchant_tickets")
def desk():
    merchant = services.merchant_by_id(current_user.merchant_id)
    return render_template(
        "merchants/desk.html",
        merchant=merchant,
        tickets=services.merchant_tickets(current_user),
        score=score_of(merchant.id),
        now=utcnow(),
    )


def _render_ticket(ticket, answer_form: AnswerForm | None = None, status: int = 200):
    from app.evidence.services import evidence_for

    now = utcnow()
    allowed = [e for e in allowed_events(ticket, current_user, now) if e in ANSWERS]
    events = queries.timeline(ticket.id)
    forms = {}
    for ev in allowed:
        forms[ev] = (
            answer_form
            if answer_form is not None and answer_form.event.data == ev
            else AnswerForm(formdata=None, event=ev)
        )
        forms[ev].version.data = ticket.version
    return render_template(
        "merchants/ticket.html",
        ticket=ticket,
        allowed=allowed,
        forms=forms,
        timeline=visibility.timeline(ticket, events, "merchant"),
        files=visibility.evidence(evidence_for(ticket), "merchant"),
        messages=visibility.messages(ticket, "merchant"),
        message_form=MerchantMessageForm(formdata=None),
        may_upload=ticket.state == "merchant" and bool(allowed),
        now=now,
    ), status


@bp.get("/merchant/tickets/<ref>")
@permission_required("merchant_tickets")
def ticket(ref: str):
    return _render_ticket(get_ticket(ref, current_user))


@bp.post("/merchant/tickets/<ref>/answer")
@permission_required("merchant_tickets")
def answer(ref: str):
    ticket = get_ticket(ref, current_user)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _render_ticket(ticket, form, 422)
    try:
        services.answer(
            ticket,
            current_user,
            form.event.data,
            reason=form.reason.data,
            note=form.note.data,
            amount_cents=form.amount_cents() if form.event.data == "merchant_refund" else None,
            version=form.version.data,
        )
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _render_ticket(ticket, form, exc.status)
    flash(_("Your answer was recorded."), "success")
    return redirect(url_for("merchants.ticket", ref=ticket.ref))


@bp.post("/merchant/tickets/<ref>/messages")
@permission_required("merchant_tickets")
def message(ref: str):
    ticket = get_ticket(ref, current_user)
    form = MerchantMessageForm()
    if form.validate_on_submit():
        try:
            add_message(ticket, current_user, form.body.data, internal=False)
            flash(_("Message sent."), "success")
        except DomainError as exc:
            flash(exc.message, "error")
    else:
        flash(_("The message is empty."), "error")
    return redirect(url_for("merchants.ticket", ref=ticket.ref) + "#messages")


@bp.post("/tickets/<ref>/reissue-feedback")
@permission_required("own_tickets")
def reissue_feedback(ref: str):
    """The customer says whether the merchant's replacement works (then the agent decides)."""
    from app.merchants.reissue import give_feedback

    ticket = get_ticket(ref, current_user)
    form = ReissueFeedbackForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for e in errors:
                flash(str(e), "error")
        return redirect(url_for("tickets.detail", ref=ticket.ref) + "#reissue", code=303)
    try:
        give_feedback(ticket, current_user, form.works.data == "yes", form.note.data or "")
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("tickets.detail", ref=ticket.ref) + "#reissue", code=303)
    flash(_("Thank you: support now decides with your answer."), "success")
    return redirect(url_for("tickets.detail", ref=ticket.ref))


@bp.get("/merchant/ledger")
@permission_required("merchant_tickets")
def my_ledger():
    merchant = services.merchant_by_id(current_user.merchant_id)
    return render_template(
        "merchants/ledger.html",
        merchant=merchant,
        entries=ledger.ledger_of(merchant.id),
        charges=ledger.charges_of(merchant.id),
        score=score_of(merchant.id),
    )


# --- staff: merchants, standing, deposits, reports ---------------------------------------------


@bp.get("/merchants")
@permission_required("merchants_page")
def index():
    merchants = services.all_merchants()
    return render_template(
        "merchants/index.html",
        rows=[(m, score_of(m.id), services.open_complaints(m.id)) for m in merchants],
        groups=groups_for(),
    )


@bp.get("/merchants/<code>")
@permission_required("merchants_page")
def detail(code: str):
    merchant = services.visible_merchant(code, current_user)
    return render_template(
        "merchants/detail.html",
        merchant=merchant,
        score=score_of(merchant.id),
        entries=ledger.ledger_of(merchant.id),
        charges=ledger.charges_of(merchant.id),
        actions=services.actions_of(merchant.id),
        accounts=services.accounts_of(merchant.id),
        open_complaints=services.open_complaints(merchant.id),
        top_up_form=TopUpForm(formdata=None),
        standing_form=StandingForm(formdata=None),
        can_top_up=can(current_user, "merchant_top_up"),
        can_suspend=can(current_user, "merchant_standing"),
        groups=groups_for(merchant.id),
    )


@bp.post("/merchants/<code>/deposits")
@permission_required("merchant_top_up")
def top_up(code: str):
    form = TopUpForm()
    if form.validate_on_submit():
        try:
            ledger.top_up(code, int(round(form.amount.data * 100)), current_user, form.note.data or "")
            flash(_("Deposit added."), "success")
        except DomainError as exc:
            flash(exc.message, "error")
    else:
        flash(_("Enter an amount."), "error")
    return redirect(url_for("merchants.detail", code=code))


@bp.post("/merchants/<code>/standing")
@permission_required("merchant_standing")
def standing(code: str):
    form = StandingForm()
    verbs = {
        "suspend": services.suspend,
        "unsuspend": services.unsuspend,
        "blacklist": services.blacklist,
        "unblacklist": services.unblacklist,
    }
    if form.validate_on_submit() and form.action.data in verbs:
        try:
            verbs[form.action.data](code, current_user, form.reason.data)
            flash(_("Saved."), "success")
        except DomainError as exc:
            flash(exc.message, "error")
    else:
        flash(_("A reason is required."), "error")
    return redirect(url_for("merchants.detail", code=code))


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        raise NotFound(_("Bad date.")) from None


@bp.get("/merchants/reports/deductions")
@permission_required("merchant_reports")
def deductions_report():
    from zoneinfo import ZoneInfo

    from flask import current_app

    today = utcnow().astimezone(ZoneInfo(current_app.config["TZ_DISPLAY"])).date()  # the Beijing day
    start = _day(request.args.get("start"), today - timedelta(days=30))
    end = _day(request.args.get("end"), today)
    rows = reports.deductions_per_day(start, end)
    if request.args.get("format") == "csv":
        out = io.StringIO()
        out.write("\ufeff")  # UTF-8 with BOM: spreadsheets read the localized headers right
        writer = csv.writer(out)
        writer.writerow(
            [_("Day (Beijing time)"), _("Merchant code"), _("Merchant"), _("Deductions"), _("Amount (fen)")]
        )
        for r in rows:
            writer.writerow([r.day.isoformat(), r.code, csv_cell(r.name), r.count, r.amount_cents])
        return Response(
            out.getvalue(),
            mimetype="text/csv; charset=utf-8",
            headers={"Content-Disposition": f"attachment; filename=merchant-deductions-{start}-{end}.csv"},
        )
    return render_template("merchants/report.html", rows=rows, start=start, end=end)


@bp.get("/blacklist")
def published_blacklist():
    """The published blacklist (public)."""
    return render_template("merchants/blacklist.html", merchants=services.published_blacklist())
