"""Evidence checklists per ticket kind (DESIGN.md, "Ticket kinds and what they need").

An agent's `request_evidence` names items: codes from the ticket kind's checklist or free
text. The conditional rules of the design ("none inside the cooling-off window; else a
note", "none when not activated; else reason") are items the agent picks when they apply;
nothing is requested automatically.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label: object  # lazy string: str(item.label) translates in the current locale
    hint: object


_I = ChecklistItem

PAYMENT_RECORD = _I(
    "payment_record",
    _l("Payment record"),
    _l("A screenshot of the payment in Alipay, WeChat or your bank app, showing the order number, amount and time."),
)
DESCRIPTION = _I(
    "description", _l("What went wrong"), _l("A few sentences: what you expected and what happened instead.")
)

CHECKLISTS: dict[str, tuple[ChecklistItem, ...]] = {
    "wrong_order": (
        _I(
            "wrong_order_note",
            _l("Note of what was wrong with the order"),
            _l("Which product, amount or account you meant to buy, and what was bought instead."),
        ),
        PAYMENT_RECORD,
    ),
    "not_delivered": (
        PAYMENT_RECORD,
        _I(
            "delivery_status",
            _l("Screenshot of the missing delivery"),
            _l("The order page or game/app balance showing that nothing arrived."),
        ),
    ),
    "invalid_card": (
        _I(
            "activation_failure",
            _l("Screenshot of the activation failure"),
            _l("The error shown when you redeemed the card key, with the card number visible."),
        ),
        PAYMENT_RECORD,
    ),
    "not_as_described": (
        _I(
            "screenshot_or_recording",
            _l("Screenshot or screen recording"),
            _l("Show what you received next to the product description."),
        ),
        DESCRIPTION,
    ),
    "duplicate_charge": (
        _I(
            "payment_record_1",
            _l("First payment record"),
            _l("The first charge, with its transaction number, amount and time."),
        ),
        _I(
            "payment_record_2",
            _l("Second payment record"),
            _l("The second charge for the same order, with its transaction number, amount and time."),
        ),
    ),
    "membership_refund": (
        _I(
            "membership_reason",
            _l("Reason for the refund (activated membership)"),
            _l("Only needed when the membership was already activated: why you want to stop it."),
        ),
        _I(
            "membership_status",
            _l("Screenshot of the membership status"),
            _l("The membership page showing the start date and the benefits used."),
        ),
    ),
    "service_fault": (
        _I(
            "fault_screenshot",
            _l("Screenshot of the fault"),
            _l("Only needed when no declared incident covers your order: the error you saw and when."),
        ),
        PAYMENT_RECORD,
    ),
    "other": (DESCRIPTION,),
}

_BY_CODE: dict[str, ChecklistItem] = {i.code: i for items in CHECKLISTS.values() for i in items}


def checklist_for(kind: str) -> list[ChecklistItem]:
    """The items an agent can ask for on a ticket of `kind` (empty list for unknown kinds)."""
    return list(CHECKLISTS.get(kind, ()))


def known_item(code: str) -> ChecklistItem | None:
    """The checklist item with this code (any kind), or None."""
    return _BY_CODE.get(code)


def free_text_code(label: str) -> str:
    """A stable code for an item the agent wrote in free text."""
    return "free-" + hashlib.sha256(label.encode()).hexdigest()[:10]
