"""The one table of who hears about what, on which channels.

ROUTES: what happened (a workflow event, an audit entry, or another cause named below) → who
(an audience) → which notice (a KINDS key). KINDS: the notice's default channels, whether it
is mandatory (no opting out, no unsubscribe link) and urgent (mailed at once; otherwise held
to the desk's business hours). The wording of every kind is in messages.py.

Audiences: customer (the ticket's customer), assignee (the ticket's agent, if any),
finance (every active finance user), managers (every active manager), merchant (every active
account of the ticket's merchant).
In-app notices always arrive; e-mail, SMS and push go out as the recipient's settings allow.
"""

from __future__ import annotations

from dataclasses import dataclass

IN_APP, EMAIL, SMS, PUSH = "in_app", "email", "sms", "push"
OUTSIDE_CHANNELS = (EMAIL, SMS, PUSH)
AUDIENCES = ("customer", "assignee", "finance", "managers", "merchant")


@dataclass(frozen=True)
class Kind:
    channels: tuple[str, ...]
    mandatory: bool = False
    urgent: bool = False
    audience: str = "customer"  # who receives it (settings page lists the customer kinds)


_ALL = (IN_APP, EMAIL, SMS, PUSH)
_MAIL = (IN_APP, EMAIL)

KINDS: dict[str, Kind] = {
    # customers
    "evidence_requested": Kind(_ALL, mandatory=True),
    "evidence_reminder": Kind(_ALL, mandatory=True),
    "evidence_expired": Kind(_ALL, mandatory=True),
    "support_reply": Kind(_ALL),
    "approved": Kind(_ALL),
    "rejected": Kind(_ALL, mandatory=True),
    "resolved": Kind(_ALL),
    "paid": Kind(_ALL),
    "payout_failed": Kind(_ALL, mandatory=True),
    "appeal_outcome": Kind(_ALL, mandatory=True),
    "merchant_answer": Kind(_ALL),  # the merchant step: passed to the merchant, what it answered, its silence
    # agents
    "assigned": Kind(_MAIL, audience="staff"),
    "customer_reply": Kind(_MAIL, audience="staff"),
    "customer_evidence": Kind(_MAIL, audience="staff"),
    "returned_by_finance": Kind(_MAIL, urgent=True, audience="staff"),
    "appeal_filed": Kind(_MAIL, audience="staff"),
    "reopened": Kind(_MAIL, audience="staff"),
    "sla_warning": Kind(_MAIL, audience="staff"),
    "merchant_answered": Kind(_MAIL, audience="staff"),
    # finance
    "approval_waiting": Kind(_MAIL, audience="staff"),
    "payout_failed_staff": Kind(_MAIL, urgent=True, audience="staff"),
    # managers
    "sla_breach": Kind(_MAIL, urgent=True, audience="staff"),
    "urged": Kind(_MAIL, urgent=True, audience="staff"),
    "escalated": Kind(_MAIL, audience="staff"),  # an agent asks a manager to approve above the limit
    "deposit_low": Kind(_MAIL, urgent=True, audience="staff"),  # finance: a merchant's deposit below the floor
    # merchants
    "merchant_complaint": Kind(_MAIL, mandatory=True, urgent=True, audience="merchant"),
    "merchant_deadline": Kind(_MAIL, mandatory=True, urgent=True, audience="merchant"),
    "merchant_lost": Kind(_MAIL, mandatory=True, urgent=True, audience="merchant"),
}

# cause → ((audience, kind), ...). Causes: workflow events (app/workflow/machine.py), audit
# entries (evidence_added, urge), and staff_message / customer_message / assigned / payout_sent /
# payout_failed / sla_warning / sla_breach / evidence_due_24h / evidence_due_2h / merchant_deadline /
# deposit_low (raised by their packages).
# approve / reject / resolve after an appeal tell the customer "appeal_outcome" instead.
ROUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "request_evidence": (("customer", "evidence_requested"),),
    "evidence_due_24h": (("customer", "evidence_reminder"),),
    "evidence_due_2h": (("customer", "evidence_reminder"),),
    "expire": (("customer", "evidence_expired"),),
    "provide_evidence": (("assignee", "customer_evidence"),),
    "evidence_added": (("assignee", "customer_evidence"),),
    "staff_message": (("customer", "support_reply"),),
    "customer_message": (("assignee", "customer_reply"),),
    "approve": (("customer", "approved"), ("finance", "approval_waiting")),
    "fast_track": (("customer", "approved"),),
    "reject": (("customer", "rejected"),),
    "resolve": (("customer", "resolved"),),
    "payout_sent": (("customer", "paid"),),
    "payout_failed": (("customer", "payout_failed"), ("finance", "payout_failed_staff")),
    "return_to_review": (("assignee", "returned_by_finance"),),
    "appeal": (("assignee", "appeal_filed"), ("managers", "appeal_filed")),
    "reopen": (("assignee", "reopened"), ("managers", "reopened")),
    "assigned": (("assignee", "assigned"),),
    "sla_warning": (("assignee", "sla_warning"),),
    "sla_breach": (("assignee", "sla_breach"), ("managers", "sla_breach")),
    "urge": (("assignee", "urged"), ("managers", "urged")),
    "escalate": (("managers", "escalated"),),
    # merchants in the loop (app/merchants)
    "ask_merchant": (("merchant", "merchant_complaint"), ("customer", "merchant_answer")),
    "merchant_refund": (("customer", "merchant_answer"),),
    "merchant_reissue": (("customer", "merchant_answer"), ("assignee", "merchant_answered")),
    "merchant_dispute": (("customer", "merchant_answer"), ("assignee", "merchant_answered")),
    "merchant_timeout": (("customer", "merchant_answer"), ("merchant", "merchant_lost")),
    "merchant_deadline": (("merchant", "merchant_deadline"),),
    "deposit_low": (("finance", "deposit_low"),),
}

APPEAL_OUTCOME_EVENTS = frozenset({"approve", "reject", "resolve"})


def customer_kinds() -> list[str]:
    """The kinds a customer can receive, in the settings page's order."""
    return [k for k, v in KINDS.items() if v.audience == "customer"]
