"""The one definition of the ticket workflow: states, transitions, who may fire them.

Everything else asks `app.workflow.service` (allowed_events / apply_event).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transitions import Machine

STATES = (
    "new",
    "submitted",
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
OPEN_STATES = frozenset({"submitted", "evidence", "review", "finance"})

AGENTS = frozenset({"agent", "manager"})


@dataclass(frozen=True)
class Transition:
    trigger: str
    source: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    reason_required: bool = False
    # Named conditions checked in service.py (they depend on the ticket and actor,
    # not on input): "owner" = the ticket's own customer, "appeal_open" = once, in window.
    conditions: tuple[str, ...] = field(default=())


TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", ("new",), "submitted", frozenset({"customer", "platform"})),
    Transition("request_evidence", ("submitted", "review"), "evidence", AGENTS),
    Transition("provide_evidence", ("evidence",), "review", frozenset({"customer"}), conditions=("owner",)),
    Transition("start_review", ("submitted",), "review", AGENTS | {"system"}),
    Transition("approve", ("review",), "finance", AGENTS),
    Transition("reject", ("review",), "rejected", AGENTS, reason_required=True),
    Transition("resolve", ("review",), "resolved", AGENTS, reason_required=True),
    Transition("return_to_review", ("finance",), "review", frozenset({"finance"}), reason_required=True),
    Transition("pay", ("finance",), "paid", frozenset({"finance", "system"})),
    Transition(
        "withdraw", ("submitted", "evidence", "review"), "withdrawn", frozenset({"customer"}), conditions=("owner",)
    ),
    Transition("appeal", ("rejected",), "review", frozenset({"customer"}), conditions=("owner", "appeal_open")),
    Transition("expire", ("evidence",), "closed", frozenset({"system"})),
    Transition("fast_track", ("submitted",), "finance", frozenset({"system"})),
)

BY_TRIGGER: dict[str, Transition] = {t.trigger: t for t in TRANSITIONS}
EVENTS: tuple[str, ...] = tuple(BY_TRIGGER)

# One class-level machine for all tickets: a machine per row is slow and leaks.
MACHINE = Machine(
    model=None,
    states=list(STATES),
    transitions=[{"trigger": t.trigger, "source": list(t.source), "dest": t.dest} for t in TRANSITIONS],
    initial="new",
    model_attribute="state",
    auto_transitions=False,
    send_event=True,
)


def fire(ticket, trigger: str) -> None:
    """Move `ticket` along `trigger` (the only writer of ticket.state)."""
    MACHINE.events[trigger].trigger(ticket)
