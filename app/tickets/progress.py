"""What the customer's progress tracker shows: the step line, "what happens now", what we need.

Presentation over a ticket and its events (no writes; the only query asks whether a payout
failed, while the ticket is with finance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.evidence.checklists import known_item
from app.i18n import local_time, money
from app.merchants import reissue
from app.tickets import visibility
from app.tickets.arrival import MoneyStatus, money_status
from app.tickets.labels import CHANNEL_LABELS

# The main line as the customer sees it: 提交 → 补充材料 → 审核 → 财务处理 → 已到账
STEPS: tuple[tuple[str, object], ...] = (
    ("submitted", _l("Filed")),
    ("merchant", _l("Merchant responding")),  # shown only when the ticket went to its merchant
    ("evidence", _l("More material")),
    ("review", _l("Review")),
    ("finance", _l("Payout")),
    ("paid", _l("Money arrived")),
)
STEP_INDEX = {key: i for i, (key, _label) in enumerate(STEPS)}
ENDINGS = ("rejected", "resolved", "withdrawn", "closed")

ENDING_TITLES = {
    "rejected": _l("Request rejected"),
    "resolved": _l("Resolved without a refund"),
    "withdrawn": _l("You withdrew this request"),
    "closed": _l("Request closed"),
}

DELIVERY_LABELS = {
    "pending": _l("Not delivered yet"),
    "delivered": _l("Delivered"),
    "failed": _l("Delivery failed"),
}


# Audit-trail entries that are not workflow events (written by feature packages).
AUDIT_LABELS = {
    "evidence_added": _l("Evidence added"),
    "evidence_answered": _l("Evidence item answered"),
    "urge": _l("Urged (催办)"),
    "reissue_feedback": _l("Said whether the replacement works"),
    "tag_added": _l("Tag added"),
    "assigned": _l("Assigned"),
    "merged_from": _l("A duplicate was merged into this ticket"),
}

ROLE_LABELS = {
    "customer": _l("customer"),
    "agent": _l("agent"),
    "finance": _l("finance"),
    "manager": _l("manager"),
    "admin": _l("admin"),
    "platform": _l("platform"),
    "merchant": _l("merchant"),
    "system": _l("system"),
}


def timeline_label(event: str) -> str:
    from app.workflow.labels import EVENT_LABELS

    label = EVENT_LABELS.get(event) or AUDIT_LABELS.get(event)
    return str(label) if label is not None else event


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


@dataclass
class Step:
    key: str
    label: str
    status: str  # done | skipped | current | todo | unreached
    at: datetime | None = None


@dataclass
class Progress:
    steps: list[Step]
    now_text: str
    ending: str | None = None  # rejected / resolved / withdrawn / closed
    ending_title: str | None = None
    ending_reason: str | None = None
    ending_at: datetime | None = None
    needs: list[str] = field(default_factory=list)
    needs_note: str | None = None
    needs_open: bool = False
    appeal_until: datetime | None = None
    fast_track_text: str | None = None  # the rule's explanation, as the viewer may see it
    no_fast_track_text: str | None = None  # why no instant refund, in plain words
    money: MoneyStatus | None = None  # approved amount, payout reference, expected arrival
    merchant_text: str | None = None  # what the merchant did, in plain words (app/merchants)
    reissue_note: str | None = None  # the merchant's new delivery (never on the public link)
    reissue_feedback_open: bool = False  # the customer may say whether the replacement works


def item_text(code: str) -> str:
    """A requested evidence item in words: a checklist item's label, or the agent's free text."""
    known = known_item(code)
    return str(known.label) if known is not None else code


def _entered(events) -> dict[str, datetime]:
    """The last time the ticket entered each main-line state."""
    seen: dict[str, datetime] = {}
    for e in events:
        if e.to_state in STEP_INDEX and e.from_state != e.to_state:  # transitions, not audit notes
            seen[e.to_state] = e.created_at
    return seen


def _steps(state: str, events, entered: dict[str, datetime]) -> list[Step]:
    current: int | None  # the step under way; None when every step is done or the ticket ended
    if state in STEP_INDEX:
        reached, current = STEP_INDEX[state], STEP_INDEX[state]
        if state == "paid":
            current = None  # everything done
    else:  # an ending: the steps up to the one the ticket left from were reached
        moves = [e for e in events if e.from_state != e.to_state]
        left_from = moves[-1].from_state if moves else "submitted"
        reached, current = STEP_INDEX.get(left_from, 0), None
    steps = []
    for i, (key, label) in enumerate(STEPS):
        if key == "merchant" and key not in entered and state != key:
            continue
        if current is not None and i == current:
            status = "current"
        elif i <= reached:
            status = "done" if key in entered else "skipped"
        else:
            status = "todo" if state not in ENDINGS else "unreached"
        at = entered.get(key) if status in ("done", "current") else None
        steps.append(Step(key, str(label), status, at))
    return steps


def _now_text(ticket) -> str:
    amount = money(
        ticket.approved_amount_cents if ticket.approved_amount_cents is not None else ticket.requested_amount_cents
    )
    channel = str(CHANNEL_LABELS.get(ticket.order.payment_channel, ticket.order.payment_channel))
    texts = {
        "submitted": _("We have your request. A support agent will look at it shortly."),
        "merchant": _(
            "The merchant has been asked to answer your complaint: refund you, deliver again, or explain. "
            "If it does not answer in time, your claim is granted."
        ),
        "evidence": _(
            "Support needs more material from you before the review can go on. The clock is paused until you answer."
        ),
        "review": _("A support agent is checking your request and material."),
        "finance": _(
            "Your refund of %(amount)s is approved and is being paid to your %(channel)s.",
            amount=amount,
            channel=channel,
        ),
        "paid": _("%(amount)s was refunded to your %(channel)s.", amount=amount, channel=channel),
        "rejected": _("Support has rejected your request. The reason is below."),
        "resolved": _("Support solved the problem without a refund. What was done is below."),
        "withdrawn": _("You withdrew this request. Nothing more will happen with it."),
        "closed": _(
            "This request was closed because the material did not arrive in time. "
            "You can file a new request from your orders."
        ),
    }
    return texts.get(ticket.state, "")


def _merchant_text(events) -> str | None:
    """The merchant's last answer (or its silence) in plain words; never its notes or reasons."""
    texts = {
        "merchant_refund": lambda: _("The merchant accepted your complaint and refunds you."),
        "merchant_reissue": lambda: _(
            "The merchant delivered again (the new delivery is with your request). "
            "Tell support whether it works; support then decides."
        ),
        "merchant_dispute": lambda: _("The merchant disputes your complaint. Support reviews both sides and decides."),
        "merchant_timeout": lambda: _("The merchant did not answer in time, so your claim was granted."),
    }
    for e in reversed(events):
        if e.event in texts:
            return texts[e.event]()
    return None


def _needs(ticket, events) -> tuple[list[str], str | None]:
    if ticket.state != "evidence":
        return [], None
    for e in reversed(events):
        if e.event == "request_evidence":
            return list((e.payload or {}).get("items") or []), e.reason
    return [], None


USED_WORDS = {
    "card_key_revealed": _l("the card key was already shown to you"),
    "delivered": _l("the recharge or item was already delivered"),
    "membership_activated": _l("the membership was already activated"),
}


def no_fast_track_text(ticket) -> str | None:
    """Why no instant refund, in plain words (the fast-track rules of app/workflow/policies.py that
    fit the kind but did not fire), so the customer is not left guessing."""
    from app.workflow.policies import SMALL_KINDS, consumption

    if ticket.fast_track_rule or ticket.state not in ("submitted", "evidence", "review"):
        return None
    order, cfg = ticket.order, current_app.config
    if ticket.kind == "wrong_order":
        minutes, window = int((ticket.created_at - order.paid_at).total_seconds() // 60), cfg["COOLING_OFF_MINUTES"]
        if minutes > window:
            return _(
                "No instant refund: you reported it %(m)d minutes after payment; the instant refund window "
                "is %(w)d minutes. An agent reviews it instead.",
                m=minutes,
                w=window,
            )
        used = consumption(order)
        if used:
            what = "; ".join(str(USED_WORDS.get(u, u)) for u in used)
            return _("No instant refund: %(what)s. An agent reviews it instead.", what=what)
    elif ticket.kind in SMALL_KINDS and ticket.requested_amount_cents > cfg["SMALL_AMOUNT_CENTS"]:
        return _(
            "No instant refund: %(amount)s is above %(limit)s, the limit for instant refunds. "
            "An agent reviews it instead.",
            amount=money(ticket.requested_amount_cents),
            limit=money(cfg["SMALL_AMOUNT_CENTS"]),
        )
    elif ticket.kind == "membership_refund" and order.membership_activated_at is not None:
        return _("No instant refund: the membership was already activated, so an agent works out the unused share.")
    return None


def _money_words(p: Progress, m: MoneyStatus) -> None:
    """Say honestly where the money is: failed → finance is on it; paid → when it should arrive."""
    amount, channel = money(m.amount_cents), str(CHANNEL_LABELS.get(m.channel, m.channel))
    last = p.steps[-1]
    if m.state == "failed":
        p.now_text = _("The refund ran into a problem; finance is handling it. Nothing is needed from you.")
    elif m.state == "on_its_way":
        p.now_text = _(
            "Refunded %(amount)s to your %(channel)s; expected to arrive by %(time)s.",
            amount=amount,
            channel=channel,
            time=local_time(m.arrival_by),
        )
        last.label = str(_("Refunded, arriving by %(time)s", time=local_time(m.arrival_by, "MM-dd HH:mm")))
    elif m.state == "arrived":
        p.now_text = _("%(amount)s has arrived in your %(channel)s.", amount=amount, channel=channel)


def build(ticket, events, allowed: list[str], now: datetime, viewer: visibility.Viewer = "public") -> Progress:
    """The tracker for `ticket`; `allowed` are the viewer's allowed events (empty on the public link).

    What the page may say (reasons, the fast-track rule) is decided by `visibility` for `viewer`.
    """
    entered = _entered(events)
    p = Progress(steps=_steps(ticket.state, events, entered), now_text=_now_text(ticket))
    p.needs, p.needs_note = _needs(ticket, events)
    p.needs_open = ticket.state == "evidence"
    if ticket.state in ENDINGS:
        p.ending, p.ending_title = ticket.state, str(ENDING_TITLES[ticket.state])
        p.ending_reason, p.ending_at = visibility.ending_reason(events, viewer), ticket.state_changed_at
    if "appeal" in allowed and ticket.rejected_at:
        p.appeal_until = ticket.rejected_at + timedelta(days=current_app.config["APPEAL_WINDOW_DAYS"])
    p.no_fast_track_text = no_fast_track_text(ticket)
    p.money = money_status(ticket, events, now)
    if p.money is not None:
        _money_words(p, p.money)
    p.merchant_text = _merchant_text(events)
    p.reissue_note = reissue.reissue_note(events, viewer)
    p.reissue_feedback_open = viewer == "customer" and reissue.feedback_open(ticket, events)
    decided = visibility.fast_track(ticket, viewer)
    if decided is not None:
        p.fast_track_text = decided.explanation or _(
            "Decided automatically by a fast-track rule, without waiting for review."
        )
    return p
