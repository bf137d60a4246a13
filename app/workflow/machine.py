"""The ticket workflow, whole: states, and one row per event saying who may fire it from where,
under which guards, with which input checks, and what it changes.

How an event runs (`app.workflow.service.apply_event`, the only writer of `ticket.state`):

1. the row for the event (unknown event → Invalid); `version` given and stale → Conflict;
2. the actor's role must be in `roles` (else Forbidden), the ticket's state in `source` and every
   guard true (else NotAllowed, with the events that are allowed) — `allowed_events` asks the same;
3. `checks`, in order, inside the transaction: they refuse bad input (Invalid, Forbidden,
   Conflict) and may settle it (`ctx.amount_cents`, `ctx.payload`, rows of their own package);
4. the state becomes `dest`; the `effects` run, in order, then `EVERY_TRANSITION` (the SLA clock:
   the stage left ends its metric — met when `meets_sla`, else stopped — and the stage entered
   starts or resumes its own);
5. one audit event (app/workflow/events.py) is appended, and everything commits at once;
6. after the commit, the `ticket_transitioned` signal (app/workflow/signals.py) is sent; its
   receivers are connected in `app/__init__.py` (`_connect_receivers`): fast-track rules on
   submit (app/workflow/receivers.py), auto-pay on reaching finance (app/payouts/receivers.py).

Guards decide whether an event is offered at all (they see the ticket, the actor and the time,
never the input); checks judge the input of an event that is offered.

No `transitions` library: it would only add a layer. Our guards need the acting user and must be
evaluated without firing (to list `allowed_events` for buttons and API errors); our checks must
run in a fixed order inside our transaction and raise domain errors, where the library's
conditions silently return False; and the write itself is one assignment after the source check.
The table is validated at import instead (unknown states or duplicate events fail at once).

Adding an event (e.g. a merchant answer):
- add its state(s) to STATES (and OPEN_STATES / TERMINAL) and a label in app/workflow/labels.py;
- add a row: `T("merchant_refund", ("merchant",), "finance", {"merchant"}, guards=(...,),
  checks=(...,), effects=(...,), meets_sla=True)`, referring to functions taking an
  `EventContext` (checks, effects) or `(ticket, user, now)` (guards); a package's own checks
  live in that package (e.g. app/payouts/checks.py) and must not import app.workflow.service;
- after-commit work is a receiver of `ticket_transitioned`, connected in `app/__init__.py`;
- write the new (state, event, role) outcomes into tests/workflow/test_machine.py's table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.auth.permissions import role_can
from app.errors import Forbidden, Invalid
from app.evidence.items import create_request_items, require_items_provided
from app.extensions import db
from app.i18n import money
from app.merchants import workflow as merchants
from app.payouts.checks import check_pay, check_return_to_review
from app.sla import clock
from app.tickets import merge
from app.tickets.models import Order, Ticket
from app.workflow.policies import check_fast_track, record_rule, refundable_balance

if TYPE_CHECKING:
    from app.auth.models import User

STATES = (
    "new",
    "submitted",
    "merchant",
    "evidence",
    "review",
    "finance",
    "paid",
    "rejected",
    "resolved",
    "withdrawn",
    "closed",
)
TERMINAL = frozenset({"paid", "rejected", "resolved", "withdrawn", "closed"})
OPEN_STATES = frozenset({"submitted", "merchant", "evidence", "review", "finance"})

AGENTS = frozenset({"agent", "manager"})
MERCHANT = frozenset({"merchant"})


@dataclass
class EventContext:
    """One event being applied: what checks and effects see (and may settle)."""

    ticket: Ticket
    event: str
    user: User | None  # None: the system
    role: str
    now: datetime
    from_state: str
    reason: str | None = None
    amount_cents: int | None = None
    items: list[Any] | None = None
    payload: dict[str, Any] = field(default_factory=dict)  # recorded on the TicketEvent


Guard = Callable[[Ticket, "User | None", datetime], bool]
Check = Callable[[EventContext], None]
Effect = Callable[[EventContext], None]


# ---------------------------------------------------------------- guards


def owner(ticket: Ticket, user: User | None, now: datetime) -> bool:
    """The actor is the ticket's own customer."""
    return user is not None and user.id == ticket.customer_id


def appeal_open(ticket: Ticket, user: User | None, now: datetime) -> bool:
    """Never appealed, and rejected at most APPEAL_WINDOW_DAYS ago."""
    window = timedelta(days=current_app.config["APPEAL_WINDOW_DAYS"])
    return ticket.appealed_at is None and ticket.rejected_at is not None and now <= ticket.rejected_at + window


def reopen_open(ticket: Ticket, user: User | None, now: datetime) -> bool:
    """Resolved at most REOPEN_WINDOW_DAYS ago, and never reopened (once)."""
    from sqlalchemy import select

    from app.workflow.models import TicketEvent

    window = timedelta(days=current_app.config.get("REOPEN_WINDOW_DAYS", 7))
    if ticket.state != "resolved" or now > ticket.state_changed_at + window:
        return False
    done = select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id, TicketEvent.event == "reopen").limit(1)
    return db.session.scalar(done) is None


def over_limit_unescalated(ticket: Ticket, user: User | None, now: datetime) -> bool:
    """The request is above the agents' approval limit, and not waiting for a manager already."""
    return ticket.escalated_at is None and ticket.requested_amount_cents > current_app.config["APPROVAL_LIMIT_CENTS"]


# ---------------------------------------------------------------- checks


def require_reason(ctx: EventContext) -> None:
    """A non-blank reason (shown to the customer or to the next desk)."""
    if not ctx.reason:
        raise Invalid(str(_l("A reason is required.")), fields={"reason": [str(_l("Required."))]})


def approval_within_balance(ctx: EventContext) -> None:
    """0 < amount (default: the requested amount) ≤ the order's refundable balance.

    The order row is locked, so two approvals on different tickets of one order cannot overdraw it.
    """
    ticket = ctx.ticket
    amount = ctx.amount_cents if ctx.amount_cents is not None else ticket.requested_amount_cents
    order = db.session.get_one(Order, ticket.order_id, with_for_update=True, populate_existing=True)
    balance = refundable_balance(order, exclude_ticket_id=ticket.id)
    if amount <= 0 or amount > balance:
        raise Invalid(
            str(_l("The amount must be more than 0 and at most the refundable balance (%(b)s).", b=money(balance))),
            fields={"amount_cents": [f"1..{balance}"]},
        )
    ctx.amount_cents = amount
    ctx.payload["amount_cents"] = amount


def approval_within_limit(ctx: EventContext) -> None:
    """Agents (permission `capped_approvals`) approve up to APPROVAL_LIMIT_CENTS; above it a manager must."""
    if role_can(ctx.role, "capped_approvals") and (ctx.amount_cents or 0) > current_app.config["APPROVAL_LIMIT_CENTS"]:
        raise Forbidden(str(_l("Amounts above the approval limit need a manager's approval.")))


def escalation_above_limit(ctx: EventContext) -> None:
    """The agent's proposal (default: the requested amount) is above the approval limit — below it
    the agent approves it — and within the order's refundable balance."""
    ticket = ctx.ticket
    amount = ctx.amount_cents if ctx.amount_cents is not None else ticket.requested_amount_cents
    limit = current_app.config["APPROVAL_LIMIT_CENTS"]
    balance = refundable_balance(db.session.get_one(Order, ticket.order_id), exclude_ticket_id=ticket.id)
    if amount <= limit:
        raise Invalid(
            str(_l("%(amount)s is within your approval limit: approve it yourself.", amount=money(amount))),
            fields={"amount_cents": [f"> {limit}"]},
        )
    if amount > balance:
        raise Invalid(
            str(_l("The amount must be more than 0 and at most the refundable balance (%(b)s).", b=money(balance))),
            fields={"amount_cents": [f"1..{balance}"]},
        )
    ctx.amount_cents = amount
    ctx.payload["amount_cents"] = amount


# ---------------------------------------------------------------- effects


def set_approved_amount(ctx: EventContext) -> None:
    ctx.ticket.approved_amount_cents = ctx.amount_cents


def clear_approved_amount(ctx: EventContext) -> None:
    ctx.ticket.approved_amount_cents = None


def mark_rejected(ctx: EventContext) -> None:
    """Starts the appeal window; the reason is what the customer reads."""
    ctx.ticket.rejected_at = ctx.now
    ctx.ticket.closed_reason = ctx.reason


def mark_appealed(ctx: EventContext) -> None:
    ctx.ticket.appealed_at = ctx.now


def keep_closing_reason(ctx: EventContext) -> None:
    ctx.ticket.closed_reason = ctx.reason


def mark_escalated(ctx: EventContext) -> None:
    """In the managers' view (the queue's "escalated" filter) with the agent's proposal."""
    ctx.ticket.escalated_at = ctx.now
    ctx.ticket.escalated_amount_cents = ctx.amount_cents


def run_sla_clock(ctx: EventContext, t: Transition) -> None:
    """End the left stage's metric (met when the row `meets_sla`, else stopped); start or resume
    the entered stage's (app/sla/clock.py). A row that `keeps_stage` leaves the clock running."""
    if not t.keeps_stage:
        clock.on_transition(ctx.ticket, ctx.event, ctx.now, met=t.meets_sla)


def end_escalation(ctx: EventContext, t: Transition) -> None:
    """Any decision (any row that moves the ticket on) takes it out of the managers' view."""
    if not t.keeps_stage and ctx.ticket.escalated_at is not None:
        ctx.ticket.escalated_at = None
        ctx.ticket.escalated_amount_cents = None


# Run after every row's own effects, in this order.
EVERY_TRANSITION: tuple[Callable[[EventContext, Transition], None], ...] = (run_sla_clock, end_escalation)


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Transition:
    trigger: str
    source: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    guards: tuple[Guard, ...] = ()
    checks: tuple[Check, ...] = ()
    effects: tuple[Effect, ...] = ()
    meets_sla: bool = False  # leaving the source stage this way meets its SLA target
    keeps_stage: bool = False  # source == dest: the stage (and its SLA clock) goes on

    @property
    def reason_required(self) -> bool:
        return require_reason in self.checks


def T(
    trigger: str,
    source: tuple[str, ...],
    dest: str,
    roles: set[str] | frozenset[str],
    *,
    guards: tuple[Guard, ...] = (),
    checks: tuple[Check, ...] = (),
    effects: tuple[Effect, ...] = (),
    meets_sla: bool = False,
    keeps_stage: bool = False,
) -> Transition:
    return Transition(trigger, source, dest, frozenset(roles), guards, checks, effects, meets_sla, keeps_stage)


TRANSITIONS: tuple[Transition, ...] = (
    # Filed against an order the customer owns (app/tickets/services.create_ticket); fast-track
    # rules then run as a receiver (app/workflow/receivers.fast_track_on_submit).
    T("submit", ("new",), "submitted", {"customer", "platform"}),
    # Names the items needed (a checklist round); the review clock pauses, the evidence window opens.
    T(
        "request_evidence",
        ("submitted", "review"),
        "evidence",
        AGENTS,
        checks=(create_request_items,),
        meets_sla=True,
    ),
    # Every requested item has a file or a written answer; the review clock resumes.
    T(
        "provide_evidence",
        ("evidence",),
        "review",
        {"customer"},
        guards=(owner,),
        checks=(require_items_provided,),
        meets_sla=True,
    ),
    # Triage: evidence already sufficient (agents), or a fast-track rule sent it to review (system).
    T("start_review", ("submitted",), "review", AGENTS | {"system"}, checks=(record_rule,), meets_sla=True),
    T(
        "approve",
        ("review",),
        "finance",
        AGENTS,
        checks=(approval_within_balance, approval_within_limit, merchants.hold_if_merchant_liable),
        effects=(set_approved_amount,),
        meets_sla=True,
    ),
    T(
        "reject",
        ("review",),
        "rejected",
        AGENTS,
        checks=(require_reason,),
        effects=(mark_rejected,),
        meets_sla=True,
    ),
    # Non-money outcome (goods reissued, card replaced).
    T(
        "resolve",
        ("review",),
        "resolved",
        AGENTS,
        checks=(require_reason,),
        effects=(keep_closing_reason,),
        meets_sla=True,
    ),
    # Finance found a problem; refused while a payout is under way (a failed one is cancelled).
    T(
        "return_to_review",
        ("finance",),
        "review",
        {"finance"},
        checks=(require_reason, check_return_to_review, merchants.reverse_pending_charge),
        effects=(clear_approved_amount,),
    ),
    # Exactly once: the payout job closing its own payout (system), or a manual payout (finance).
    # … and a refund the merchant is liable for is charged to its deposit in the same transaction.
    T(
        "pay",
        ("finance",),
        "paid",
        {"finance", "system"},
        checks=(check_pay, merchants.deduct_merchant_charge),
        meets_sla=True,
    ),
    T(
        "withdraw",
        ("submitted", "evidence", "review"),
        "withdrawn",
        {"customer"},
        guards=(owner,),
        effects=(keep_closing_reason,),
    ),
    # Once, within the window; the customer says why (the tracker asks to confirm first).
    T(
        "appeal",
        ("rejected",),
        "review",
        {"customer"},
        guards=(owner, appeal_open),
        checks=(require_reason,),
        effects=(mark_appealed,),
    ),
    # Once, within REOPEN_WINDOW_DAYS of the resolution: the fix did not work (e.g. the new key fails too).
    T("reopen", ("resolved",), "review", {"customer"}, guards=(owner, reopen_open), checks=(require_reason,)),
    # The SLA sweep (app/sla/sweep.py): the customer stayed silent past the evidence window.
    T("expire", ("evidence",), "closed", {"system"}, effects=(keep_closing_reason,)),
    # A fast-track rule fired: its name and facts are kept; never more than the refundable balance.
    T(
        "fast_track",
        ("submitted",),
        "finance",
        {"system"},
        checks=(check_fast_track,),
        effects=(set_approved_amount,),
        meets_sla=True,
    ),
    # --- the agents' desk (docs/desk.md) ---
    # A duplicate request closed into another open ticket of the same customer (app/tickets/merge.py):
    # the duplicate's event names the target, the target gets a `merged_from` entry (same transaction).
    T(
        "merge",
        ("submitted", "evidence", "review"),
        "closed",
        AGENTS,
        checks=(merge.check_merge_target,),
        effects=(merge.link_merge,),
    ),
    # Above the approval limit the agent hands the decision to a manager with a proposal; the ticket
    # stays under review (its clock runs on) and shows in the managers' view until someone decides.
    T(
        "escalate",
        ("review",),
        "review",
        {"agent"},
        guards=(over_limit_unescalated,),
        checks=(escalation_above_limit,),
        effects=(mark_escalated,),
        keeps_stage=True,
    ),
    # --- merchants in the loop (app/merchants/workflow.py) ---
    # Merchant-liable kinds go here on submit (when no fast-track rule fired), or an agent sends one;
    # the deadline `merchant_due_at` (48 business hours) starts the merchant_response clock.
    T(
        "ask_merchant",
        ("submitted", "review"),
        "merchant",
        AGENTS | {"system"},
        guards=(merchants.merchant_open,),
        checks=(merchants.record_merchant,),
        meets_sla=True,
    ),
    # The merchant accepts: 0 < amount ≤ refundable balance; charged to its deposit when paid.
    T(
        "merchant_refund",
        ("merchant",),
        "finance",
        MERCHANT,
        guards=(merchants.own_merchant, merchants.merchant_in_time),
        checks=(merchants.refund_within_balance,),
        effects=(set_approved_amount,),
        meets_sla=True,
    ),
    # The new delivery (e.g. a replacement card key) is on record as evidence or a note; the agent decides.
    T(
        "merchant_reissue",
        ("merchant",),
        "review",
        MERCHANT,
        guards=(merchants.own_merchant, merchants.merchant_in_time),
        checks=(merchants.require_delivery,),
        meets_sla=True,
    ),
    # A reason and at least one evidence file or note.
    T(
        "merchant_dispute",
        ("merchant",),
        "review",
        MERCHANT,
        guards=(merchants.own_merchant, merchants.merchant_in_time),
        checks=(require_reason, merchants.require_dispute_material),
        meets_sla=True,
    ),
    # Silence (the SLA sweep, past merchant_due_at): the requested amount is granted, charged to the merchant.
    T(
        "merchant_timeout",
        ("merchant",),
        "finance",
        {"system"},
        guards=(merchants.merchant_overdue,),
        checks=(merchants.timeout_grants_claim,),
        effects=(set_approved_amount,),
    ),
)

BY_TRIGGER: dict[str, Transition] = {t.trigger: t for t in TRANSITIONS}
EVENTS: tuple[str, ...] = tuple(BY_TRIGGER)


def _validate(transitions: tuple[Transition, ...]) -> None:
    """Fail at import on a row naming an unknown state or repeating an event."""
    if len(BY_TRIGGER) != len(transitions):
        raise ValueError("TRANSITIONS repeats an event")
    for t in transitions:
        unknown = (set(t.source) | {t.dest}) - set(STATES)
        if unknown:
            raise ValueError(f"transition {t.trigger!r} names unknown states {sorted(unknown)}")


_validate(TRANSITIONS)
