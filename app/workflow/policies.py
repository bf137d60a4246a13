"""Fast-track rules, evaluated once on submit (thresholds in config).

The first rule that fires decides, as the system actor:
- `fast_track` (submitted → finance) with the refund amount, or
- `start_review` (submitted → review, skipping evidence) with a note or a proposed amount.
The rule's name and the facts it saw go on the event's payload and on the ticket
(`fast_track_rule`, `fast_track_facts`, set by `check_fast_track` / `record_rule`, the checks the
`fast_track` and `start_review` rows of app/workflow/machine.py name, i.e. in the transition's own
transaction). The rules are evaluated by the `fast_track_on_submit` receiver of
`ticket_transitioned` (app/workflow/receivers.py). `explain(ticket)` says it in plain words for
the customer.

Rules, in order:
1. wrong_order_cooling_off: kind wrong_order, reported at most COOLING_OFF_MINUTES after
   payment, goods not consumed (card key not revealed; recharge/item not delivered;
   membership not activated) → full refund (the order's refundable balance).
2. small_amount: not_delivered / invalid_card / duplicate_charge asking ≤ SMALL_AMOUNT_CENTS,
   customer in good standing (not flagged; in the previous STANDING_WINDOW_DAYS at most
   STANDING_MAX_REFUNDS refunds and STANDING_MAX_REFUND_CENTS refunded, this ticket not counted)
   → the requested amount.
3. membership_not_activated → full refund; membership_pro_rata (activated) → review with a
   proposal: price × unused days ÷ term days − benefits used (a started day counts as used).
4. duplicate_charge: another paid order of the same customer, merchant, product and amount
   within DUPLICATE_WINDOW_MINUTES (and not refunded already) → full refund of this order.
5. incident: the order was paid inside a declared incident window for its product type →
   review without evidence, with a note.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from app.auth.models import User
from app.errors import Invalid
from app.extensions import db
from app.i18n import money
from app.tickets.models import Order, Ticket
from app.types import utcnow
from app.workflow.models import Incident

if TYPE_CHECKING:
    from app.workflow.machine import EventContext

log = logging.getLogger(__name__)

SMALL_KINDS = ("not_delivered", "invalid_card", "duplicate_charge")
REFUNDED_STATES = ("finance", "paid")


@dataclass
class Decision:
    rule: str
    event: str  # "fast_track" or "start_review"
    facts: dict = field(default_factory=dict)
    amount_cents: int | None = None  # fast_track: the refund
    proposal_cents: int | None = None
    note: str | None = None


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _cfg(name: str):
    return current_app.config[name]


def refunded_cents(order_id: int, exclude_ticket_id: int | None = None) -> Select[int | None]:
    """The query of an order's money already approved or paid (other tickets than `exclude_ticket_id`)."""
    q = select(func.coalesce(func.sum(Ticket.approved_amount_cents), 0)).where(
        Ticket.order_id == order_id, Ticket.state.in_(REFUNDED_STATES)
    )
    if exclude_ticket_id is not None:
        q = q.where(Ticket.id != exclude_ticket_id)
    return q


def refundable_balance(order: Order, exclude_ticket_id: int | None = None) -> int:
    """What can still be refunded on an order: paid amount minus other tickets' approved money."""
    return order.amount_cents - (db.session.scalar(refunded_cents(order.id, exclude_ticket_id)) or 0)


def _balance(ticket: Ticket, order: Order) -> int:
    return refundable_balance(order, exclude_ticket_id=ticket.id)


def consumption(order: Order) -> list[str]:
    """Why the goods count as used (empty: not consumed)."""
    used = []
    if order.card_key_revealed_at is not None:
        used.append("card_key_revealed")
    if order.product_type in ("recharge", "item") and order.delivery_status == "delivered":
        used.append("delivered")
    if order.membership_activated_at is not None:
        used.append("membership_activated")
    return used


def rule_wrong_order(ticket: Ticket, order: Order, now: datetime) -> Decision | None:
    if ticket.kind != "wrong_order":
        return None
    elapsed = now - order.paid_at
    window = _cfg("COOLING_OFF_MINUTES")
    if elapsed > timedelta(minutes=window) or consumption(order):
        return None
    amount = _balance(ticket, order)
    return Decision(
        "wrong_order_cooling_off",
        "fast_track",
        amount_cents=amount,
        facts={
            "paid_at": _iso(order.paid_at),
            "reported_at": _iso(now),
            "window_minutes": window,
            "seconds_after_payment": int(elapsed.total_seconds()),
            "card_key_revealed": False,
            "delivery_status": order.delivery_status,
            "amount_cents": amount,
        },
    )


def customer_standing(customer_id: int, now: datetime, exclude_ticket_id: int | None = None) -> dict:
    """Refunds in the standing window (finance or paid tickets), the flag, and the verdict."""
    days = _cfg("STANDING_WINDOW_DAYS")
    q = select(func.count(Ticket.id), func.coalesce(func.sum(Ticket.approved_amount_cents), 0)).where(
        Ticket.customer_id == customer_id,
        Ticket.state.in_(REFUNDED_STATES),
        Ticket.created_at >= now - timedelta(days=days),
    )
    if exclude_ticket_id is not None:
        q = q.where(Ticket.id != exclude_ticket_id)
    count, total = db.session.execute(q).one()
    flagged = bool(db.session.scalar(select(User.flagged).where(User.id == customer_id)))
    good = not flagged and count <= _cfg("STANDING_MAX_REFUNDS") and total <= _cfg("STANDING_MAX_REFUND_CENTS")
    return {
        "flagged": flagged,
        "refunds_in_window": int(count),
        "refunded_cents_in_window": int(total or 0),
        "window_days": days,
        "good_standing": good,
    }


def rule_small_amount(ticket: Ticket, order: Order, now: datetime) -> Decision | None:
    amount, limit = ticket.requested_amount_cents, _cfg("SMALL_AMOUNT_CENTS")
    if ticket.kind not in SMALL_KINDS or not 0 < amount <= limit:
        return None
    standing = customer_standing(ticket.customer_id, now, exclude_ticket_id=ticket.id)
    if not standing["good_standing"]:
        return None
    return Decision(
        "small_amount",
        "fast_track",
        amount_cents=amount,
        facts={"amount_cents": amount, "limit_cents": limit, **standing},
    )


def rule_membership(ticket: Ticket, order: Order, now: datetime) -> Decision | None:
    if ticket.kind != "membership_refund" or order.product_type != "membership":
        return None
    balance = _balance(ticket, order)
    if order.membership_activated_at is None:
        return Decision(
            "membership_not_activated",
            "fast_track",
            amount_cents=balance,
            facts={"activated": False, "amount_cents": balance},
        )
    term = order.membership_term_days
    if not term:
        return None
    elapsed = (now - order.membership_activated_at).total_seconds() / 86400
    used_days = min(term, max(0, math.ceil(elapsed)))
    unused_share = order.amount_cents * (term - used_days) // term
    benefits = order.membership_benefits_used_cents or 0
    proposal = max(0, min(unused_share - benefits, balance))
    return Decision(
        "membership_pro_rata",
        "start_review",
        proposal_cents=proposal,
        facts={
            "activated": True,
            "activated_at": _iso(order.membership_activated_at),
            "term_days": term,
            "used_days": used_days,
            "unused_days": term - used_days,
            "price_cents": order.amount_cents,
            "unused_share_cents": unused_share,
            "benefits_used_cents": benefits,
            "proposal_cents": proposal,
        },
    )


def rule_duplicate_charge(ticket: Ticket, order: Order, now: datetime) -> Decision | None:
    if ticket.kind != "duplicate_charge":
        return None
    window = timedelta(minutes=_cfg("DUPLICATE_WINDOW_MINUTES"))
    twins = db.session.scalars(
        select(Order)
        .where(
            Order.customer_id == order.customer_id,
            Order.id != order.id,
            Order.merchant_id == order.merchant_id,
            Order.product_name == order.product_name,
            Order.amount_cents == order.amount_cents,
            Order.paid_at >= order.paid_at - window,
            Order.paid_at <= order.paid_at + window,
        )
        .order_by(Order.paid_at)
    )
    for twin in twins:
        refunded = db.session.scalar(
            select(func.count(Ticket.id)).where(Ticket.order_id == twin.id, Ticket.state.in_(REFUNDED_STATES))
        )
        if refunded:
            continue  # one of the pair is being refunded already
        amount = _balance(ticket, order)
        return Decision(
            "duplicate_charge",
            "fast_track",
            amount_cents=amount,
            facts={
                "order_no": order.order_no,
                "twin_order_no": twin.order_no,
                "amount_cents": amount,
                "seconds_apart": int(abs((order.paid_at - twin.paid_at).total_seconds())),
                "window_minutes": int(window.total_seconds() // 60),
            },
        )
    return None


def incident_covering(order: Order):
    """The first declared incident whose window holds the order's payment, for its product type."""
    rows = db.session.scalars(
        select(Incident)
        .where(Incident.starts_at <= order.paid_at, or_(Incident.ends_at.is_(None), Incident.ends_at >= order.paid_at))
        .order_by(Incident.starts_at)
    )
    return next((i for i in rows if order.product_type in (i.product_types or [])), None)


def rule_incident(ticket: Ticket, order: Order, now: datetime) -> Decision | None:
    incident = incident_covering(order)
    if incident is None:
        return None
    note = _("Covered by platform incident #%(id)s: %(note)s", id=incident.id, note=incident.note or "—")
    return Decision(
        "incident",
        "start_review",
        note=note,
        facts={
            "incident_id": incident.id,
            "starts_at": _iso(incident.starts_at),
            "ends_at": _iso(incident.ends_at),
            "product_type": order.product_type,
            "paid_at": _iso(order.paid_at),
            "note": incident.note,
        },
    )


RULES = (rule_wrong_order, rule_small_amount, rule_membership, rule_duplicate_charge, rule_incident)


def decide(ticket: Ticket, now: datetime | None = None) -> Decision | None:
    """The first rule that fires for a submitted ticket, without acting on it."""
    now = now or ticket.created_at or utcnow()
    order = ticket.order
    for rule in RULES:
        decision = rule(ticket, order, now)
        if decision is not None:
            return decision
    return None


# --- checks run inside the transition (named by the rows of app/workflow/machine.py) ---------


def record_rule(ctx: EventContext) -> None:
    """A system decision names its rule: keep the rule and its facts on the ticket."""
    rule = ctx.payload.get("rule")
    if ctx.role == "system" and rule:
        facts = dict(ctx.payload.get("facts") or {})
        if ctx.payload.get("proposal"):
            facts["proposal"] = ctx.payload["proposal"]
        ctx.ticket.fast_track_rule = str(rule)[:40]
        ctx.ticket.fast_track_facts = facts


def check_fast_track(ctx: EventContext) -> None:
    """Never refund more than what is left on the order (order row locked), as approve does.

    Without an amount the requested amount is refunded; the rules always name themselves.
    """
    order = db.session.get_one(Order, ctx.ticket.order_id, with_for_update=True, populate_existing=True)
    balance = refundable_balance(order, exclude_ticket_id=ctx.ticket.id)
    if ctx.amount_cents is None:
        ctx.amount_cents = ctx.ticket.requested_amount_cents
    if not 0 < ctx.amount_cents <= balance:
        raise Invalid(
            str(_l("The amount must be more than 0 and at most the refundable balance (%(b)s).", b=money(balance))),
            fields={"amount_cents": [f"1..{balance}"]},
        )
    ctx.payload["amount_cents"] = ctx.amount_cents
    record_rule(ctx)


def pro_rata_proposal(ticket: Ticket) -> int | None:
    """The membership pro-rata amount the customer was told at filing (None if no such proposal)."""
    if ticket.fast_track_rule != "membership_pro_rata":
        return None
    value = (ticket.fast_track_facts or {}).get("proposal_cents")
    return int(value) if value is not None else None


def approve_default_cents(ticket: Ticket) -> int:
    """What the approve field starts with: the agent's proposal of an escalated ticket, else the
    pro-rata proposal when there is one, else the request."""
    if ticket.escalated_amount_cents is not None:
        return ticket.escalated_amount_cents
    proposal = pro_rata_proposal(ticket)
    return proposal if proposal is not None else ticket.requested_amount_cents


# --- plain words for the customer's tracker ----------------------------------------------------


def explain(ticket: Ticket) -> str:
    """Why the system decided this ticket on its own, in the reader's language ('' if it did not)."""
    rule, facts = ticket.fast_track_rule, ticket.fast_track_facts or {}
    amount = money(facts.get("amount_cents") or ticket.approved_amount_cents or 0)
    if rule == "wrong_order_cooling_off":
        return _(
            "You reported the wrong order within %(minutes)s minutes of paying and the goods were "
            "not used, so the full %(amount)s is refunded automatically.",
            minutes=facts.get("window_minutes"),
            amount=amount,
        )
    if rule == "small_amount":
        return _(
            "Small refunds for customers in good standing are approved automatically: %(amount)s is on its way.",
            amount=amount,
        )
    if rule == "membership_not_activated":
        return _("Your membership was never activated, so the full %(amount)s is refunded.", amount=amount)
    if rule == "membership_pro_rata":
        return _(
            "Your membership was used for %(used)s of %(term)s days. An agent is reviewing a refund of "
            "the unused share minus benefits already used: %(amount)s.",
            used=facts.get("used_days"),
            term=facts.get("term_days"),
            amount=money(facts.get("proposal_cents") or 0),
        )
    if rule == "duplicate_charge":
        return _(
            "We can see you paid twice for the same product within minutes, so the duplicate payment "
            "of %(amount)s is refunded.",
            amount=amount,
        )
    if rule == "incident":
        return _("A platform incident affected your order, so no evidence is needed: an agent is reviewing it now.")
    return ""
