"""Human labels for states and events (translated through Flask-Babel)."""

from flask_babel import lazy_gettext as _l

STATE_LABELS = {
    "new": _l("New"),
    "submitted": _l("Submitted"),
    "merchant": _l("Merchant responding"),
    "evidence": _l("Waiting for your evidence"),
    "review": _l("Under review"),
    "finance": _l("Refund being paid"),
    "paid": _l("Refunded"),
    "rejected": _l("Rejected"),
    "resolved": _l("Resolved"),
    "withdrawn": _l("Withdrawn"),
    "closed": _l("Closed"),
}

EVENT_LABELS = {
    "submit": _l("Submit"),
    "request_evidence": _l("Request evidence"),
    "provide_evidence": _l("Send evidence"),
    "start_review": _l("Start review"),
    "approve": _l("Approve refund"),
    "reject": _l("Reject"),
    "resolve": _l("Resolve without refund"),
    "return_to_review": _l("Return to review"),
    "pay": _l("Record payout"),
    "withdraw": _l("Withdraw"),
    "appeal": _l("Appeal"),
    "reopen": _l("Reopen"),
    "expire": _l("Close (evidence window expired)"),
    "fast_track": _l("Fast track"),
    "ask_merchant": _l("Ask the merchant"),
    "merchant_refund": _l("Merchant refunds"),
    "merchant_reissue": _l("Merchant delivers again"),
    "merchant_dispute": _l("Merchant disputes"),
    "merchant_timeout": _l("Merchant did not answer in time"),
    "merge": _l("Merge into another ticket"),
    "escalate": _l("Escalate to a manager"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def event_label(event: str) -> str:
    return str(EVENT_LABELS.get(event, event))
