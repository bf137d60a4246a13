"""What the evidence partials show: plain data built for the templates (no rules in Jinja)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, g, has_request_context, request, session
from flask_babel import lazy_gettext as _l

from app.auth.permissions import can
from app.evidence import services
from app.evidence.checklists import checklist_for, known_item
from app.evidence.filing import slot_groups
from app.evidence.items import item_hint, item_label
from app.evidence.models import Evidence, EvidenceRequestItem
from app.evidence.validation import ACCEPT_ATTR, ACCEPTED_TYPES

ORDER_MATCH_TEXT = {
    "exact": _l("The order number in the screenshot matches the order"),
    "fuzzy": _l("The order number in the screenshot matches the order (allowing for OCR look-alikes)"),
    "mismatch": _l("The order number in the screenshot does not match the order"),
    "absent": _l("No order number found in the file"),
}
AMOUNT_MATCH_TEXT = {
    "match": _l("The amount matches the order"),
    "mismatch": _l("The amount does not match the order"),
    "absent": _l("No amount found in the file"),
}
OCR_STATUS_TEXT = {
    "pending": _l("Text recognition is queued."),
    "unavailable": _l("Text recognition (OCR) is not available on this server; check the file by eye."),
    "failed": _l("Text recognition failed for this file."),
    "skipped": _l("No text recognition for this type of file."),
    "done": _l("Text recognised."),
}


@dataclass
class TrackerItem:
    item: EvidenceRequestItem
    label: str
    hint: str
    files: list[Evidence] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.item.code

    @property
    def provided(self) -> bool:
        return self.item.satisfied_at is not None


def _files_of(item: EvidenceRequestItem, files: list[Evidence]) -> list[Evidence]:
    """The customer's files for a requested item: sent for it, or earlier for the same checklist item."""
    return [e for e in files if e.request_item_id == item.id or (e.item_code and e.item_code == item.code)]


def tracker_items(ticket, user) -> dict:
    """Requested items of the current round, each with its files (none on the public link) and answer."""
    customer_side = user is not None and not can(user, "staff") and services.may_see(ticket, user)
    files = customer_files(ticket) if customer_side else []
    rows = [TrackerItem(i, item_label(i), item_hint(i), _files_of(i, files)) for i in services.requested_items(ticket)]
    return {
        "items": rows,
        "can_upload": customer_side and services.may_upload(ticket, user),
        "accepted": ACCEPTED_TYPES,
        "logged_in": user is not None,
    }


def _files(ticket) -> list[Evidence]:
    """Every file of `ticket`, read once per request for all the partials of the page."""
    req = request.environ if has_request_context() else None  # (one environ per request)
    cache = g.get("evidence_files")
    if req is None or cache is None or cache[0] is not req:
        cache = g.evidence_files = (req, {})
    if ticket.id not in cache[1]:
        cache[1][ticket.id] = services.evidence_for(ticket)
    return cache[1][ticket.id]


def customer_files(ticket) -> list[Evidence]:
    """The files a customer may see on their ticket (visibility: never staff files)."""
    from app.tickets import visibility

    return visibility.evidence(_files(ticket), "customer")


@dataclass
class SentFile:
    ev: Evidence
    type_text: str
    item_text: str | None

    @property
    def has_thumb(self) -> bool:
        return bool(self.ev.thumb_key)


TYPE_TEXT = {"image": _l("Image"), "pdf": _l("PDF"), "text": _l("Text"), "video": _l("Video")}


def sent_files(ticket, user) -> dict:
    """The logged-in customer's own view of the files they sent (any stage), and may they add more?"""
    if user is None or can(user, "staff") or not services.may_see(ticket, user):
        return {"files": [], "can_upload": False, "accepted": ACCEPTED_TYPES}
    rows = []
    for ev in customer_files(ticket):
        known = known_item(ev.item_code) if ev.item_code else None
        label = str(known.label) if known else (item_label(ev.request_item) if ev.request_item else None)
        rows.append(SentFile(ev, str(TYPE_TEXT.get(ev.kind, ev.kind)), label))
    # (the grace after filing, which lets the form's files in after a fast-track refund, offers no form)
    can_upload = ticket.state in services.CUSTOMER_UPLOAD_STATES and services.may_upload(ticket, user)
    return {"files": rows, "can_upload": can_upload, "accepted": ACCEPTED_TYPES}


@dataclass
class ChecklistRow:
    code: str
    label: str
    files: list[Evidence]


def checklist_status(ticket) -> list[ChecklistRow]:
    """The kind's checklist counted against the customer's files (sent at filing or for a request)."""
    files = customer_files(ticket)
    rows = []
    for i in checklist_for(ticket.kind):
        rows.append(ChecklistRow(i.code, str(i.label), [e for e in files if e.item_code == i.code]))
    return rows


def sent_by_code(ticket) -> dict[str, list[Evidence]]:
    """Checklist code → the customer's files for it (the staff request form says what is there)."""
    return {row.code: row.files for row in checklist_status(ticket) if row.files}


@dataclass
class PanelRow:
    ev: Evidence
    order_text: str | None
    amount_text: str | None
    status_text: str

    @property
    def order_ok(self) -> bool:
        return (self.ev.match or {}).get("order_no") in ("exact", "fuzzy")

    @property
    def amount_ok(self) -> bool:
        return (self.ev.match or {}).get("amount") == "match"

    @property
    def ocr_failed(self) -> bool:
        return self.ev.ocr_status == "failed"


def agent_panel(ticket, user) -> dict:
    """Every file on the ticket with its OCR verdict, and whether `user` may add staff evidence."""
    from app.evidence.ocr import ocr_available

    rows = []
    for ev in _files(ticket):
        m = ev.match or {}
        rows.append(
            PanelRow(
                ev,
                str(ORDER_MATCH_TEXT[m["order_no"]]) if m.get("order_no") in ORDER_MATCH_TEXT else None,
                str(AMOUNT_MATCH_TEXT[m["amount"]]) if m.get("amount") in AMOUNT_MATCH_TEXT else None,
                str(OCR_STATUS_TEXT.get(ev.ocr_status, ev.ocr_status)),
            )
        )
    staff = can(user, "staff")
    return {
        "rows": rows,
        "ocr_available": ocr_available(),
        "can_upload": staff and services.may_upload(ticket, user),
        "accepted": ACCEPTED_TYPES,
        "items": services.requested_items(ticket),
        "checklist": checklist_status(ticket),
    }


UPLOAD_ERRORS = "evidence_upload_errors"  # session key: upload form key → why its last upload was refused


def upload_errors() -> dict[str, str]:
    """The refused uploads to show next to their forms on this page (read once, then forgotten)."""
    if "evidence_upload_errors" not in g:
        g.evidence_upload_errors = session.pop(UPLOAD_ERRORS, None) or {}
    return g.evidence_upload_errors


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        evidence_tracker=tracker_items,
        evidence_panel=agent_panel,
        evidence_checklist=checklist_for,
        evidence_sent=sent_files,
        evidence_sent_by_code=sent_by_code,
        evidence_slot_groups=slot_groups,
        evidence_accept=ACCEPT_ATTR,
        evidence_upload_errors=upload_errors,
        evidence_accepted_types=ACCEPTED_TYPES,
        evidence_item_label=item_label,
    )
