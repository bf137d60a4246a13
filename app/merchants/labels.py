"""Human labels of the merchants package (translated through Flask-Babel)."""

from flask_babel import lazy_gettext as _l

LEDGER_KIND_LABELS = {"deposit": _l("Deposit top-up"), "deduction": _l("Refund charged")}
CHARGE_STATUS_LABELS = {
    "pending": _l("Pending payout"),
    "charged": _l("Charged"),
    "reversed": _l("Reversed (returned before payment)"),
}
STANDING_ACTION_LABELS = {
    "suspend": _l("Suspend"),
    "unsuspend": _l("Lift suspension"),
    "blacklist": _l("Blacklist"),
    "unblacklist": _l("Remove from blacklist"),
}


def ledger_kind_label(kind: str) -> str:
    return str(LEDGER_KIND_LABELS.get(kind, kind))


def charge_status_label(status: str) -> str:
    return str(CHARGE_STATUS_LABELS.get(status, status))


def standing_action_label(action: str) -> str:
    return str(STANDING_ACTION_LABELS.get(action, action))
