"""Customer and staff pages for tickets (HTML). Parse → one service call → render."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app import page_cache
from app.analytics.services import customer_flags
from app.auth.permissions import can, permission_required
from app.errors import Conflict, DomainError, Forbidden, Invalid, NotAllowed, NotFound
from app.evidence import filing
from app.evidence.uploads import UPLOAD_HEADER
from app.extensions import db
from app.tickets import bulk, macros, progress, queries, saved_views, services, tags, tracker_cache, visibility
from app.tickets.forms import (
    EVENT_FIELDS,
    AssignForm,
    BulkForm,
    EventForm,
    MacroForm,
    MessageForm,
    QueueFilterForm,
    RenameViewForm,
    SavedViewForm,
    TicketForm,
    cents_to_yuan,
    yuan_to_cents,
)
from app.tickets.models import KINDS
from app.types import utcnow
from app.urls import safe_next
from app.workflow.labels import event_label
from app.workflow.machine import OPEN_STATES
from app.workflow.policies import approve_default_cents, explain, pro_rata_proposal, refundable_balance
from app.workflow.service import allowed_events, apply_event

bp = Blueprint("tickets", __name__)

FORM_ERRORS = (Invalid, Conflict, NotAllowed, Forbidden)  # shown on the form again, nothing saved
FIELD_OF = {
    "requested_amount_cents": "amount",
    "amount_cents": "amount",
    "reason": "reason",
    "items": "items",
    "body": "body",
    "into": "into",
}


@bp.app_context_processor
def navigation():
    return {
        "item_text": progress.item_text,
        "timeline_label": progress.timeline_label,
        "role_label": progress.role_label,
        "now": utcnow(),
    }


def _form_error(form, exc: DomainError, shown: tuple[str, ...] | None = None) -> None:
    """Put a service's error on the matching field the page shows, else on the form as a whole."""
    db.session.rollback()
    for key in exc.fields or {}:
        name = FIELD_OF.get(key)
        if name and hasattr(form, name) and (shown is None or name in shown):
            getattr(form, name).errors = [*getattr(form, name).errors, exc.message]
            return
    form.form_errors.append(exc.message)


# --- customers --------------------------------------------------------------


@bp.get("/")
@login_required
def home():
    if can(current_user, "own_tickets"):
        return my_orders()
    if can(current_user, "merchant_tickets"):
        return redirect(url_for("merchants.desk"))
    counts = queries.count_by_state() if can(current_user, "staff") else {}
    return render_template("tickets/home.html", counts=counts)


@bp.get("/orders")
@permission_required("own_tickets")
def my_orders():
    return render_template("tickets/orders.html", rows=queries.customer_orders(current_user.id))


@bp.route("/orders/<order_no>/ticket", methods=["GET", "POST"])
@permission_required("own_tickets")
def new_ticket(order_no: str):
    order = queries.customer_order(current_user.id, order_no)
    if order is None:
        raise NotFound(str(_l("No such order.")))
    balance = refundable_balance(order)
    form = TicketForm()
    if request.method == "GET":
        form.amount.data = cents_to_yuan(balance)
        form.kind.data = request.args.get("kind") if request.args.get("kind") in KINDS else None
    elif form.validate_on_submit():
        chosen = filing.chosen_files(request.files, form.kind.data)
        file_errors = filing.check_chosen(chosen)  # a refused file comes back next to its slot; nothing filed
        if file_errors:
            return _ticket_form(form, order, balance, file_errors=file_errors), 422
        try:
            ticket = services.create_ticket(
                order.order_no,
                form.kind.data,
                form.description.data,
                current_user,
                requested_amount_cents=yuan_to_cents(form.amount.data),
            )
        except FORM_ERRORS as exc:
            _form_error(form, exc)
            open_ref = (exc.fields or {}).get("open_ticket", [None])[0]  # the open request to follow
            return _ticket_form(form, order, balance, open_ref), exc.status
        flash(_("Your request %(ref)s was filed. You can follow it here.", ref=ticket.ref), "success")
        for name, why in filing.attach_chosen(ticket, chosen, current_user):
            flash(_("%(name)s was not attached: %(why)s", name=name, why=why), "error")
        target = url_for("tickets.detail", ref=ticket.ref)
        if request.headers.get(UPLOAD_HEADER):  # static/app.js sent it with a progress bar: it navigates
            return {"redirect": target}, 200
        return redirect(target)
    return _ticket_form(form, order, balance), 422 if form.is_submitted() else 200


def _ticket_form(form, order, balance, open_ref: str | None = None, file_errors: dict[str, str] | None = None):
    return render_template(
        "tickets/new.html", form=form, order=order, balance=balance, open_ref=open_ref, file_errors=file_errors or {}
    )


@bp.get("/tickets")
@permission_required("own_tickets")
def my_tickets():
    return render_template("tickets/mine.html", tickets=queries.customer_tickets(current_user.id))


@bp.get("/t/<token>")
def tracker(token: str):
    """The progress page behind the unguessable tracker link: no login, no actions, nothing else."""
    return tracker_cache.page(token, lambda: _render_tracker(token))


def _render_tracker(token: str) -> str:
    ticket = services.ticket_by_tracker(token)
    events = queries.timeline(ticket.id)
    return render_template(
        "tickets/tracker.html",
        ticket=ticket,
        public=True,
        allowed=[],
        event_forms={},
        EVENT_FIELDS=EVENT_FIELDS,
        stray_form=None,
        progress=progress.build(ticket, events, [], utcnow(), "public"),
        messages=visibility.messages(ticket, "public"),
    )


# --- one ticket: the customer's tracker or the staff page -------------------


@bp.get("/tickets/<ref>")
@permission_required("ticket_page")
def detail(ref: str):
    if not (can(current_user, "staff") and can(current_user, "see_any_ticket")):
        return _render_ticket(services.get_ticket(ref, current_user))
    view = tuple(sorted((session.get("queue_filters") or {}).items())) if "queue_filters" in session else None
    return page_cache.staff_page(  # a staff member sees every ticket: the page's key needs only its fingerprint
        "ticket",
        lambda: (services.page_fingerprint(ref, current_user), view),
        lambda: _render_ticket(services.get_ticket(ref, current_user))[0],
    )


@bp.post("/tickets/<ref>/events")
@permission_required("ticket_page")
def fire_event(ref: str):
    ticket = services.get_ticket(ref, current_user)
    form = EventForm()
    if not form.validate_on_submit():
        return _render_ticket(ticket, event_form=form, status=422)
    try:
        apply_event(ticket, form.event.data, current_user, **form.service_kwargs())
    except FORM_ERRORS as exc:
        _form_error(form, exc, EVENT_FIELDS.get(form.event.data, ()))
        return _render_ticket(ticket, event_form=form, status=exc.status)
    flash(_("Done: %(action)s.", action=event_label(form.event.data)), "success")
    return redirect(url_for("tickets.detail", ref=ticket.ref))


@bp.post("/tickets/<ref>/messages")
@permission_required("messages")
def post_message(ref: str):
    ticket = services.get_ticket(ref, current_user)
    form = MessageForm()
    if not form.validate_on_submit():
        return _render_ticket(ticket, message_form=form, status=422)
    try:
        services.add_message(ticket, current_user, form.body.data, internal=form.is_internal)
    except FORM_ERRORS as exc:
        _form_error(form, exc)
        return _render_ticket(ticket, message_form=form, status=exc.status)
    flash(_("Internal note saved.") if form.is_internal else _("Message sent."), "success")
    return redirect(url_for("tickets.detail", ref=ticket.ref) + "#messages")


@bp.post("/tickets/<ref>/assign")
@permission_required("assign")
def assign(ref: str):
    ticket = services.get_ticket(ref, current_user)
    form = AssignForm()
    form.assignee.choices = _assignee_choices()
    back = request.args.get("next", "")
    if not form.validate_on_submit():
        return _render_ticket(ticket, assign_form=form, status=422)
    assignee = queries.users_by_id([form.assignee.data]).get(form.assignee.data) if form.assignee.data else None
    try:
        services.assign_ticket(ticket, assignee, current_user, version=form.version.data)
    except FORM_ERRORS as exc:
        _form_error(form, exc)
        return _render_ticket(ticket, assign_form=form, status=exc.status)
    flash(
        _(
            "%(ref)s is now assigned to %(who)s.",
            ref=ticket.ref,
            who=assignee.display_name if assignee else _("nobody"),
        ),
        "success",
    )
    if (safe_next(back) or "").startswith("/queue"):
        return redirect(back)
    return redirect(url_for("tickets.detail", ref=ticket.ref))


def _assignee_choices() -> list[SelectChoice]:
    return [SelectChoice(0, _("Unassigned"))] + [SelectChoice(u.id, u.display_name) for u in queries.assignable_staff()]


def _event_forms(ticket, allowed: list[str], failed: EventForm | None) -> dict[str, EventForm]:
    forms = {}
    for ev in allowed:
        if ev not in EVENT_FIELDS:
            continue
        if failed is not None and failed.event.data == ev:
            forms[ev] = failed
        else:
            forms[ev] = EventForm(
                formdata=None,
                event=ev,
                amount=cents_to_yuan(approve_default_cents(ticket)) if ev in ("approve", "escalate") else None,
            )
        forms[ev].version.data = ticket.version
    return forms


def _macro_text(ticket) -> str:
    """?macro=<id> (the picker without JavaScript): that macro's text, for the reply box."""
    wanted = request.args.get("macro", "")
    if not (wanted.isascii() and wanted.isdigit() and len(wanted) <= 9) or not can(current_user, "use_macros"):
        return ""
    return next((text for m, text in macros.for_ticket(ticket) if m.id == int(wanted)), "")


def _render_ticket(
    ticket,
    *,
    event_form: EventForm | None = None,
    message_form: MessageForm | None = None,
    assign_form: AssignForm | None = None,
    status: int = 200,
):
    now = utcnow()
    viewer = visibility.viewer_of(current_user)
    allowed = allowed_events(ticket, current_user, now)
    events = queries.timeline(ticket.id)
    forms = _event_forms(ticket, allowed, event_form)
    stray = event_form if event_form is not None and event_form.event.data not in forms else None
    message_form = message_form or MessageForm(formdata=None)
    message_form.version.data = ticket.version
    ctx = {
        "ticket": ticket,
        "allowed": allowed,
        "events": events,
        "event_forms": forms,
        "stray_form": stray,
        "message_form": message_form,
        "EVENT_FIELDS": EVENT_FIELDS,
    }
    if not can(current_user, "staff"):
        return render_template(
            "tickets/tracker.html",
            public=False,
            progress=progress.build(ticket, events, allowed, now, viewer),
            messages=visibility.messages(ticket, viewer),
            **ctx,
        ), status
    if assign_form is None:
        assign_form = AssignForm(formdata=None, assignee=ticket.assignee_id or 0)
    assign_form.assignee.choices = _assignee_choices()
    assign_form.version.data = ticket.version
    return render_template(
        "tickets/detail.html",
        order=ticket.order,
        refundable=refundable_balance(ticket.order),
        history=queries.customer_history(ticket.customer_id, now),
        messages=visibility.messages(ticket, viewer),
        assign_form=assign_form,
        can_write=can(current_user, "internal_notes"),
        can_assign=can(current_user, "assign"),
        progress=progress.build(ticket, events, [], now, viewer),
        DELIVERY_LABELS=progress.DELIVERY_LABELS,
        proposal_cents=pro_rata_proposal(ticket),
        approval_limit=current_app.config["APPROVAL_LIMIT_CENTS"] if can(current_user, "capped_approvals") else None,
        approve_default=approve_default_cents(ticket),
        fast_track_words=explain(ticket) if ticket.fast_track_rule else "",
        flags=customer_flags(ticket.customer_id, now) if can(current_user, "customer_flags") else None,
        macro_list=macros.for_ticket(ticket) if can(current_user, "use_macros") else [],
        macro_text=_macro_text(ticket),
        ticket_tags=tags.tags_of([ticket.id])[ticket.id],
        next_ticket=services.next_in_view(current_user, ticket, session.get("queue_filters"))
        if can(current_user, "queue") and "queue_filters" in session  # the view: the last queue page's filters
        else None,
        has_view="queue_filters" in session,
        **ctx,
    ), status


# --- staff queue ------------------------------------------------------------

WHO = {"all": None, "mine": "me", "unassigned": "none"}


@bp.get("/queue")
@permission_required("queue")
def queue():
    form = QueueFilterForm(request.args)
    if not form.validate():
        raise Invalid(str(_l("Some filters are invalid.")), fields=form.errors)
    if form.view.data and not any(k in request.args for k in (*saved_views.FILTER_KEYS, "q")):
        view = saved_views.get_view(form.view.data, current_user)  # a saved view: its filters in the URL
        return redirect(url_for("tickets.queue", view=view.id, **{"state": "", **(view.filters or {})}))
    if "state" not in request.args and not request.args.get("q") and not form.view.data:  # a search: every state
        form.state.data = "finance" if can(current_user, "pay") else "submitted"
    state, kind, who = form.state.data or None, form.kind.data or None, form.who.data or "all"
    search = (form.q.data or "").strip() or None
    filters = {**form.filters(), "q": search or ""}
    remembered = {k: v for k, v in filters.items() if v and v != "all"} | {"state": state or ""}
    if session.get("queue_filters") != remembered:  # an unchanged session is not signed and sent again
        session["queue_filters"] = remembered
    return page_cache.staff_page("queue", lambda: None, lambda: _render_queue(form, filters, search, kind, who))


def _render_queue(form: QueueFilterForm, filters: dict, search: str | None, kind: str | None, who: str) -> str:
    rows, next_cursor = services.list_tickets(
        current_user,
        search=search,
        cursor=form.cursor.data or None,
        with_people=True,
        **saved_views.queue_kwargs(filters),
    )
    counts = queries.count_by_state(
        kind=kind, assignee_id=current_user.id if who == "mine" else None, unassigned=who == "unassigned"
    )
    views = saved_views.with_counts(
        saved_views.builtin_views(current_user) + saved_views.visible_views(current_user), current_user
    )
    return render_template(
        "tickets/queue.html",
        form=form,
        rows=rows,
        counts=counts,
        next_cursor=next_cursor,
        filters=filters,
        views=views,
        view_id=form.view.data,
        save_form=SavedViewForm(formdata=None, **filters),
        tags=tags.tags_of([t.id for t in rows]),
        bulk_staff=queries.assignable_staff() if can(current_user, "assign_others") else [],
        can_claim=can(current_user, "assign"),
        open_states=OPEN_STATES,
    )


@bp.post("/queue/bulk")
@permission_required("bulk_actions")
def bulk_action():
    form = BulkForm()
    if not form.validate_on_submit():
        raise Invalid(str(_l("Some fields of the bulk action are invalid.")), fields=form.errors)
    assignee = None
    if form.action.data == "assign" and form.assignee.data != "none":
        who = current_user.id if form.assignee.data == "me" else int(form.assignee.data)
        assignee = queries.users_by_id([who]).get(who)
        if assignee is None:
            raise Invalid(str(_l("No such agent.")), fields={"assignee": ["unknown"]})
    outcomes = bulk.run(
        current_user,
        form.action.data,
        form.ref.data or [],
        assignee=assignee,
        items=form.item_list(),
        note=(form.note.data or "").strip() or None,
        tag=form.tag.data,
        into=form.into.data,
    )
    back = safe_next(form.back.data or "") or url_for("tickets.queue")
    if not back.startswith("/queue"):
        back = url_for("tickets.queue")
    return render_template(
        "tickets/bulk_result.html", outcomes=outcomes, back=back, action_label=bulk.action_label(form.action.data)
    )


@bp.get("/macros")
@permission_required("manage_macros")
def macros_page():
    return _macros_page(MacroForm(formdata=None))


def _macros_page(form: MacroForm, status: int = 200):
    return render_template("tickets/macros.html", form=form, macros=macros.all_macros()), status


@bp.post("/macros")
@bp.post("/macros/<int:macro_id>")
@permission_required("manage_macros")
def save_macro(macro_id: int | None = None):
    form = MacroForm()
    if not form.validate_on_submit():
        return _macros_page(form, 422)
    try:
        m = macros.save_macro(
            current_user, form.name.data, form.language.data, form.kind.data or None, form.body.data, macro_id
        )
    except FORM_ERRORS as exc:
        _form_error(form, exc)
        return _macros_page(form, exc.status)
    flash(_("Macro %(name)s saved.", name=m.name), "success")
    return redirect(url_for("tickets.macros_page"))


@bp.post("/macros/<int:macro_id>/delete")
@permission_required("manage_macros")
def delete_macro(macro_id: int):
    macros.delete_macro(current_user, macro_id)
    flash(_("Macro deleted."), "success")
    return redirect(url_for("tickets.macros_page"))


@bp.post("/queue/views")
@permission_required("saved_views")
def save_view():
    form = SavedViewForm()
    if not form.validate_on_submit():
        raise Invalid(str(_l("Give the view a name.")), fields=form.errors)
    view = saved_views.create_view(current_user, form.name.data, form.filters(), shared=form.shared.data == "1")
    flash(_("View %(name)s saved.", name=view.name), "success")
    return redirect(url_for("tickets.queue", view=view.id))


@bp.get("/queue/views")
@permission_required("saved_views")
def manage_views():
    views = saved_views.with_counts(saved_views.visible_views(current_user), current_user)
    return render_template("tickets/views.html", views=views, rename_form=RenameViewForm(formdata=None))


@bp.post("/queue/views/<int:view_id>")
@permission_required("saved_views")
def rename_view(view_id: int):
    form = RenameViewForm()
    if not form.validate_on_submit():
        raise Invalid(str(_l("Give the view a name.")), fields=form.errors)
    saved_views.rename_view(view_id, current_user, form.name.data)
    flash(_("View renamed."), "success")
    return redirect(url_for("tickets.manage_views"))


@bp.post("/queue/views/<int:view_id>/delete")
@permission_required("saved_views")
def delete_view(view_id: int):
    saved_views.delete_view(view_id, current_user)
    flash(_("View deleted."), "success")
    return redirect(url_for("tickets.manage_views"))
