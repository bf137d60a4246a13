"""What the evidence partials show: plain data built for the templates (no rules in Jinja)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask
from flask_babel import lazy_gettext as _l

from app.auth.permissions import can
from app.evidence import services
from app.evidence.checklists import checklist_for
from app.evidence.items import item_hint, item_label
from app.evidence.models import Evidence, EvidenceRequestItem
from app.evidence.validation import ACCEPTED_TYPES

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


def tracker_items(ticket, user) -> dict:
    """Requested items of the current round, each with its files and answer; upload allowed?"""
    files = services.files_by_item(ticket)
    rows = [TrackerItem(i, item_label(i), item_hint(i), files.get(i.id, [])) for i in services.requested_items(ticket)]
    customer_side = user is not None and not can(user, "staff")
    own = (
        [e for e in services.evidence_for(ticket) if not e.is_staff and e.request_item_id is None]
        if customer_side and services.may_see(ticket, user)
        else []
    )
    return {
        "items": rows,
        "can_upload": customer_side and services.may_upload(ticket, user),
        "accepted": ACCEPTED_TYPES,
        "logged_in": user is not None,
        "other_files": own,
    }


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
    for ev in services.evidence_for(ticket):
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
    }


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        evidence_tracker=tracker_items,
        evidence_panel=agent_panel,
        evidence_checklist=checklist_for,
        evidence_item_label=item_label,
    )
