"""The wording of every notice kind, rendered in the reader's language at display/send time.

Parameters are stored raw and formatted here: `*_cents` → money, `*_at` → local time (ISO
strings), `items` → checklist labels, `channel` → channel label, `outcome` → state label,
`metric` → SLA metric label. A parameter a message needs but the notice lacks renders empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

MESSAGES: dict[str, tuple[object, object]] = {
    "evidence_requested": (
        _l("%(ref)s: please send more material"),
        _l("Support needs: %(items)s. %(note)s Please send it by %(due_at)s, or the request will be closed."),
    ),
    "evidence_reminder": (
        _l("%(ref)s: %(left)s left to send your material"),
        _l("We still need: %(items)s. Please send it by %(due_at)s, or the request will be closed."),
    ),
    "evidence_expired": (
        _l("%(ref)s was closed"),
        _l("We did not receive the requested material in time. You can file a new request from your orders."),
    ),
    "support_reply": (_l("%(ref)s: a reply from support"), _l("%(excerpt)s")),
    "approved": (
        _l("%(ref)s: refund of %(amount_cents)s approved"),
        _l("Your refund of %(amount_cents)s is approved and is being paid. %(partial)s"),
    ),
    "rejected": (
        _l("%(ref)s: request rejected"),
        _l("Reason: %(reason)s. If you disagree you can appeal once, until %(appeal_until_at)s."),
    ),
    "resolved": (_l("%(ref)s: resolved"), _l("What was done: %(reason)s")),
    "paid": (
        _l("%(ref)s: %(amount_cents)s refunded"),
        _l("%(amount_cents)s was sent to your %(channel)s (reference %(reference)s). %(arrival)s"),
    ),
    "payout_failed": (
        _l("%(ref)s: your refund ran into a problem"),
        _l(
            "The refund to your %(channel)s did not go through. Finance is handling it; you do not need to do anything."
        ),
    ),
    "appeal_outcome": (
        _l("%(ref)s: decision on your appeal"),
        _l("After your appeal the request is now: %(outcome)s. %(reason)s"),
    ),
    "assigned": (_l("%(ref)s was assigned to you"), _l("%(kind)s, %(amount_cents)s.")),
    "customer_reply": (_l("%(ref)s: the customer wrote"), _l("%(excerpt)s")),
    "customer_evidence": (_l("%(ref)s: new evidence from the customer"), _l("%(name)s")),
    "returned_by_finance": (_l("%(ref)s: returned by finance"), _l("Reason: %(reason)s")),
    "appeal_filed": (_l("%(ref)s: the customer appealed"), _l("Reason: %(reason)s")),
    "escalated": (
        _l("%(ref)s: an agent asks you to approve %(amount_cents)s"),
        _l("Above the agents' approval limit. The agent's note: %(reason)s"),
    ),
    "reopened": (_l("%(ref)s: the customer reopened it — the fix did not work"), _l("Reason: %(reason)s")),
    "sla_warning": (_l("SLA warning: %(ref)s"), _l("%(metric)s is due at %(due_at)s.")),
    "sla_breach": (_l("SLA breached: %(ref)s"), _l("%(metric)s was due at %(due_at)s.")),
    "approval_waiting": (
        _l("%(ref)s: approved refund waiting to be paid"),
        _l("%(amount_cents)s to %(channel)s."),
    ),
    "payout_failed_staff": (_l("%(ref)s: payout failed"), _l("%(amount_cents)s to %(channel)s: %(error)s")),
    "merchant_answer": (_l("%(ref)s: %(headline)s"), _l("%(what)s")),
    "merchant_answered": (_l("%(ref)s: the merchant answered"), _l("%(headline)s. The ticket is back in review.")),
    "merchant_complaint": (
        _l("%(ref)s: a complaint about your order, please answer"),
        _l(
            "%(kind)s, %(amount_cents)s. Please refund, reissue or dispute by %(due_at)s. Without an answer "
            "the customer's claim is granted and charged to your deposit."
        ),
    ),
    "merchant_deadline": (
        _l("%(ref)s: please answer the complaint"),
        _l(
            "Your answer is due by %(due_at)s. Without an answer the customer's claim is granted and charged "
            "to your deposit."
        ),
    ),
    "merchant_lost": (
        _l("%(ref)s: no answer in time, the claim was granted"),
        _l("%(amount_cents)s is refunded to the customer and charged to your deposit when paid."),
    ),
    "deposit_low": (
        _l("Merchant %(code)s: deposit below the floor"),
        _l("The deposit of %(name)s is %(deposit_cents)s, below the floor of %(floor_cents)s."),
    ),
    "urged": (
        _l("%(ref)s: the customer is waiting (催办)"),
        _l("The promised time for %(stage)s passed at %(due_at)s. The ticket's priority was raised."),
    ),
}

KIND_NAMES: dict[str, object] = {
    "evidence_requested": _l("Material requested"),
    "evidence_reminder": _l("Reminders before the material deadline"),
    "evidence_expired": _l("Request closed for missing material"),
    "support_reply": _l("Replies from support"),
    "approved": _l("Refund approved"),
    "rejected": _l("Request rejected"),
    "resolved": _l("Request resolved"),
    "paid": _l("Refund paid"),
    "payout_failed": _l("Refund problems"),
    "appeal_outcome": _l("Appeal decisions"),
    "merchant_answer": _l("The merchant's answers"),
}

# merchant_answer: what the customer reads, per event (plain words; never the merchant's notes).
MERCHANT_WORDS: dict[str, tuple[object, object]] = {
    "ask_merchant": (
        _l("the merchant is asked to answer"),
        _l(
            "Your complaint was passed to the merchant, who must answer by %(due_at)s. "
            "If it does not, your claim is granted."
        ),
    ),
    "merchant_refund": (
        _l("the merchant accepted"),
        _l("The merchant accepted your complaint; a refund of %(amount_cents)s is being paid."),
    ),
    "merchant_reissue": (
        _l("the merchant sent a replacement"),
        _l("The merchant sent a replacement delivery. Please check whether it works and tell support."),
    ),
    "merchant_dispute": (
        _l("the merchant disputes your complaint"),
        _l("The merchant disputes your complaint. Support now reviews both sides and decides."),
    ),
    "merchant_timeout": (
        _l("your claim was granted"),
        _l("The merchant did not answer in time, so your claim of %(amount_cents)s is granted and is being paid."),
    ),
}


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _format(key: str, value: object) -> str:
    from app.i18n import local_time, money

    if value is None:
        return ""
    if key.endswith("_cents") and isinstance(value, int):
        return money(value)
    if key.endswith("_at") and isinstance(value, str):
        try:
            return local_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    if key == "items" and isinstance(value, list):
        from app.tickets.progress import item_text

        return "、".join(item_text(str(v)) for v in value) if value else ""
    if key == "channel":
        from app.tickets.labels import CHANNEL_LABELS

        return str(CHANNEL_LABELS.get(str(value), value))
    if key in ("outcome", "stage"):
        from app.workflow.labels import state_label

        return str(state_label(str(value)))
    if key == "kind":
        from app.tickets.labels import KIND_LABELS

        return str(KIND_LABELS.get(str(value), value))
    if key == "metric":
        from app.sla.clock import metric_label

        return metric_label(str(value))
    if key == "left" and isinstance(value, int):
        return str(_l("%(h)d hours", h=value))
    return str(value)


@dataclass
class Rendered:
    title: str
    body: str


def render(kind: str, params: dict) -> Rendered:
    """The notice in the current locale (wrap in force_locale for someone else's language)."""
    title, body = MESSAGES.get(kind, (kind, ""))
    values = _Params({k: _format(k, v) for k, v in (params or {}).items()})
    if kind == "approved" and params.get("partial_reason"):
        values["partial"] = str(
            _l(
                "You asked for %(asked)s; the agent approved part of it: %(why)s",
                asked=values["requested_cents"],
                why=values["partial_reason"],
            )
        )
    if kind in ("merchant_answer", "merchant_answered") and params.get("event") in MERCHANT_WORDS:
        headline, what = MERCHANT_WORDS[str(params["event"])]
        values["headline"] = str(headline)
        values["what"] = str(what) % values
    if kind == "paid" and params.get("arrival_by_at"):
        values["arrival"] = str(_l("Expected to arrive by %(time)s.", time=values["arrival_by_at"]))
    return Rendered(" ".join((str(title) % values).split()), (str(body) % values).strip())


def kind_name(kind: str) -> str:
    return str(KIND_NAMES.get(kind, kind))
