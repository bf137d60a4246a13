"""What finance reads about a payout, in the reader's language: decline codes, channels of a retry.

Gateways return one of `DECLINE_CODES` with a decline (a real adapter maps its provider's codes to
these, e.g. Alipay `PAYEE_NOT_EXIST` → `invalid_account`); any other code is shown as
"declined by the gateway (code …)". The gateway's own message stays in `Payout.last_error` for
the record, untranslated.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

DECLINE_LABELS = {
    "account_refused": _l("The receiving account refused the transfer."),
    "account_closed": _l("The receiving account is closed."),
    "invalid_account": _l("The receiving account does not exist."),
    "name_mismatch": _l("The account holder's name does not match the customer's."),
    "over_limit": _l("The transfer is over the receiving account's limit."),
    "risk_control": _l("The gateway's risk control stopped the transfer."),
}
DECLINE_CODES = tuple(DECLINE_LABELS)


def decline_label(code: str | None) -> str:
    """The reason of a decline in the current user's language."""
    if code in DECLINE_LABELS:
        return str(DECLINE_LABELS[code])
    return _("Declined by the gateway (code %(code)s).", code=code or "?")


STATUS_LABELS = {
    "pending": _l("Queued"),
    "processing": _l("Sending"),
    "succeeded": _l("Paid"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))
