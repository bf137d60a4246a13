"""The workflow table, checked against an expected table written out from the design.

EXPECTED is literal data (docs: DESIGN.md's workflow table; managers act as agents, the system
may start a review for a fast-track rule): for every state × event × actor it says what happens.
It is deliberately not derived from app.workflow.machine, so a wrong row there fails here.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta

import pytest
import time_machine

from app.errors import Forbidden, Invalid, NotAllowed
from app.workflow.machine import EVENTS, STATES
from app.workflow.models import TicketEvent
from app.workflow.policies import refundable_balance
from app.workflow.service import allowed_events, apply_event
from tests.factories import PATHS, make_order, make_ticket, make_user, merchant_user, staff

# Actors: the ticket's own customer, another customer, staff roles, the platform client, the system.
# "merchant": a user of the ticket's own merchant; "other_merchant": a user of another merchant.
ACTORS = (
    "owner",
    "other_customer",
    "agent",
    "finance",
    "manager",
    "admin",
    "platform",
    "merchant",
    "other_merchant",
    "system",
)
# Y = allowed (offered in allowed_events, and it succeeds);
# N = refused as not allowed here (409 not_allowed: wrong state, not the owner, or out of window);
# F = refused as forbidden (403: this actor's role never fires the event).
#
# state    event             ow ot ag fi ma ad pl me om sy
_TABLE = """
submitted  request_evidence  F  F  Y  F  Y  F  F  F  F  F
submitted  provide_evidence  N  N  F  F  F  F  F  F  F  F
submitted  start_review      F  F  Y  F  Y  F  F  F  F  Y
submitted  approve           F  F  N  F  N  F  F  F  F  F
submitted  reject            F  F  N  F  N  F  F  F  F  F
submitted  resolve           F  F  N  F  N  F  F  F  F  F
submitted  return_to_review  F  F  F  N  F  F  F  F  F  F
submitted  pay               F  F  F  N  F  F  F  F  F  N
submitted  withdraw          Y  N  F  F  F  F  F  F  F  F
submitted  appeal            N  N  F  F  F  F  F  F  F  F
submitted  expire            F  F  F  F  F  F  F  F  F  N
submitted  fast_track        F  F  F  F  F  F  F  F  F  Y
submitted  ask_merchant      F  F  Y  F  Y  F  F  F  F  Y
submitted  merchant_refund   F  F  F  F  F  F  F  N  N  F
submitted  merchant_reissue  F  F  F  F  F  F  F  N  N  F
submitted  merchant_dispute  F  F  F  F  F  F  F  N  N  F
submitted  merchant_timeout  F  F  F  F  F  F  F  F  F  N
submitted  reopen            N  N  F  F  F  F  F  F  F  F
submitted  merge             F  F  Y  F  Y  F  F  F  F  F
submitted  escalate          F  F  N  F  F  F  F  F  F  F

merchant   request_evidence  F  F  N  F  N  F  F  F  F  F
merchant   provide_evidence  N  N  F  F  F  F  F  F  F  F
merchant   start_review      F  F  N  F  N  F  F  F  F  N
merchant   approve           F  F  N  F  N  F  F  F  F  F
merchant   reject            F  F  N  F  N  F  F  F  F  F
merchant   resolve           F  F  N  F  N  F  F  F  F  F
merchant   return_to_review  F  F  F  N  F  F  F  F  F  F
merchant   pay               F  F  F  N  F  F  F  F  F  N
merchant   withdraw          N  N  F  F  F  F  F  F  F  F
merchant   appeal            N  N  F  F  F  F  F  F  F  F
merchant   expire            F  F  F  F  F  F  F  F  F  N
merchant   fast_track        F  F  F  F  F  F  F  F  F  N
merchant   ask_merchant      F  F  N  F  N  F  F  F  F  N
merchant   merchant_refund   F  F  F  F  F  F  F  Y  N  F
merchant   merchant_reissue  F  F  F  F  F  F  F  Y  N  F
merchant   merchant_dispute  F  F  F  F  F  F  F  Y  N  F
merchant   merchant_timeout  F  F  F  F  F  F  F  F  F  Y
merchant   reopen            N  N  F  F  F  F  F  F  F  F
merchant   merge             F  F  N  F  N  F  F  F  F  F
merchant   escalate          F  F  N  F  F  F  F  F  F  F

evidence   request_evidence  F  F  N  F  N  F  F  F  F  F
evidence   provide_evidence  Y  N  F  F  F  F  F  F  F  F
evidence   start_review      F  F  N  F  N  F  F  F  F  N
evidence   approve           F  F  N  F  N  F  F  F  F  F
evidence   reject            F  F  N  F  N  F  F  F  F  F
evidence   resolve           F  F  N  F  N  F  F  F  F  F
evidence   return_to_review  F  F  F  N  F  F  F  F  F  F
evidence   pay               F  F  F  N  F  F  F  F  F  N
evidence   withdraw          Y  N  F  F  F  F  F  F  F  F
evidence   appeal            N  N  F  F  F  F  F  F  F  F
evidence   expire            F  F  F  F  F  F  F  F  F  Y
evidence   fast_track        F  F  F  F  F  F  F  F  F  N
evidence   ask_merchant      F  F  N  F  N  F  F  F  F  N
evidence   merchant_refund   F  F  F  F  F  F  F  N  N  F
evidence   merchant_reissue  F  F  F  F  F  F  F  N  N  F
evidence   merchant_dispute  F  F  F  F  F  F  F  N  N  F
evidence   merchant_timeout  F  F  F  F  F  F  F  F  F  N
evidence   reopen            N  N  F  F  F  F  F  F  F  F
evidence   merge             F  F  Y  F  Y  F  F  F  F  F
evidence   escalate          F  F  N  F  F  F  F  F  F  F

review     request_evidence  F  F  Y  F  Y  F  F  F  F  F
review     provide_evidence  N  N  F  F  F  F  F  F  F  F
review     start_review      F  F  N  F  N  F  F  F  F  N
review     approve           F  F  Y  F  Y  F  F  F  F  F
review     reject            F  F  Y  F  Y  F  F  F  F  F
review     resolve           F  F  Y  F  Y  F  F  F  F  F
review     return_to_review  F  F  F  N  F  F  F  F  F  F
review     pay               F  F  F  N  F  F  F  F  F  N
review     withdraw          Y  N  F  F  F  F  F  F  F  F
review     appeal            N  N  F  F  F  F  F  F  F  F
review     expire            F  F  F  F  F  F  F  F  F  N
review     fast_track        F  F  F  F  F  F  F  F  F  N
review     ask_merchant      F  F  Y  F  Y  F  F  F  F  Y
review     merchant_refund   F  F  F  F  F  F  F  N  N  F
review     merchant_reissue  F  F  F  F  F  F  F  N  N  F
review     merchant_dispute  F  F  F  F  F  F  F  N  N  F
review     merchant_timeout  F  F  F  F  F  F  F  F  F  N
review     reopen            N  N  F  F  F  F  F  F  F  F
review     merge             F  F  Y  F  Y  F  F  F  F  F
review     escalate          F  F  N  F  F  F  F  F  F  F

finance    request_evidence  F  F  N  F  N  F  F  F  F  F
finance    provide_evidence  N  N  F  F  F  F  F  F  F  F
finance    start_review      F  F  N  F  N  F  F  F  F  N
finance    approve           F  F  N  F  N  F  F  F  F  F
finance    reject            F  F  N  F  N  F  F  F  F  F
finance    resolve           F  F  N  F  N  F  F  F  F  F
finance    return_to_review  F  F  F  Y  F  F  F  F  F  F
finance    pay               F  F  F  Y  F  F  F  F  F  Y
finance    withdraw          N  N  F  F  F  F  F  F  F  F
finance    appeal            N  N  F  F  F  F  F  F  F  F
finance    expire            F  F  F  F  F  F  F  F  F  N
finance    fast_track        F  F  F  F  F  F  F  F  F  N
finance    ask_merchant      F  F  N  F  N  F  F  F  F  N
finance    merchant_refund   F  F  F  F  F  F  F  N  N  F
finance    merchant_reissue  F  F  F  F  F  F  F  N  N  F
finance    merchant_dispute  F  F  F  F  F  F  F  N  N  F
finance    merchant_timeout  F  F  F  F  F  F  F  F  F  N
finance    reopen            N  N  F  F  F  F  F  F  F  F
finance    merge             F  F  N  F  N  F  F  F  F  F
finance    escalate          F  F  N  F  F  F  F  F  F  F

paid       request_evidence  F  F  N  F  N  F  F  F  F  F
paid       provide_evidence  N  N  F  F  F  F  F  F  F  F
paid       start_review      F  F  N  F  N  F  F  F  F  N
paid       approve           F  F  N  F  N  F  F  F  F  F
paid       reject            F  F  N  F  N  F  F  F  F  F
paid       resolve           F  F  N  F  N  F  F  F  F  F
paid       return_to_review  F  F  F  N  F  F  F  F  F  F
paid       pay               F  F  F  N  F  F  F  F  F  N
paid       withdraw          N  N  F  F  F  F  F  F  F  F
paid       appeal            N  N  F  F  F  F  F  F  F  F
paid       expire            F  F  F  F  F  F  F  F  F  N
paid       fast_track        F  F  F  F  F  F  F  F  F  N
paid       ask_merchant      F  F  N  F  N  F  F  F  F  N
paid       merchant_refund   F  F  F  F  F  F  F  N  N  F
paid       merchant_reissue  F  F  F  F  F  F  F  N  N  F
paid       merchant_dispute  F  F  F  F  F  F  F  N  N  F
paid       merchant_timeout  F  F  F  F  F  F  F  F  F  N
paid       reopen            N  N  F  F  F  F  F  F  F  F
paid       merge             F  F  N  F  N  F  F  F  F  F
paid       escalate          F  F  N  F  F  F  F  F  F  F

rejected   request_evidence  F  F  N  F  N  F  F  F  F  F
rejected   provide_evidence  N  N  F  F  F  F  F  F  F  F
rejected   start_review      F  F  N  F  N  F  F  F  F  N
rejected   approve           F  F  N  F  N  F  F  F  F  F
rejected   reject            F  F  N  F  N  F  F  F  F  F
rejected   resolve           F  F  N  F  N  F  F  F  F  F
rejected   return_to_review  F  F  F  N  F  F  F  F  F  F
rejected   pay               F  F  F  N  F  F  F  F  F  N
rejected   withdraw          N  N  F  F  F  F  F  F  F  F
rejected   appeal            Y  N  F  F  F  F  F  F  F  F
rejected   expire            F  F  F  F  F  F  F  F  F  N
rejected   fast_track        F  F  F  F  F  F  F  F  F  N
rejected   ask_merchant      F  F  N  F  N  F  F  F  F  N
rejected   merchant_refund   F  F  F  F  F  F  F  N  N  F
rejected   merchant_reissue  F  F  F  F  F  F  F  N  N  F
rejected   merchant_dispute  F  F  F  F  F  F  F  N  N  F
rejected   merchant_timeout  F  F  F  F  F  F  F  F  F  N
rejected   reopen            N  N  F  F  F  F  F  F  F  F
rejected   merge             F  F  N  F  N  F  F  F  F  F
rejected   escalate          F  F  N  F  F  F  F  F  F  F

resolved   request_evidence  F  F  N  F  N  F  F  F  F  F
resolved   provide_evidence  N  N  F  F  F  F  F  F  F  F
resolved   start_review      F  F  N  F  N  F  F  F  F  N
resolved   approve           F  F  N  F  N  F  F  F  F  F
resolved   reject            F  F  N  F  N  F  F  F  F  F
resolved   resolve           F  F  N  F  N  F  F  F  F  F
resolved   return_to_review  F  F  F  N  F  F  F  F  F  F
resolved   pay               F  F  F  N  F  F  F  F  F  N
resolved   withdraw          N  N  F  F  F  F  F  F  F  F
resolved   appeal            N  N  F  F  F  F  F  F  F  F
resolved   expire            F  F  F  F  F  F  F  F  F  N
resolved   fast_track        F  F  F  F  F  F  F  F  F  N
resolved   ask_merchant      F  F  N  F  N  F  F  F  F  N
resolved   merchant_refund   F  F  F  F  F  F  F  N  N  F
resolved   merchant_reissue  F  F  F  F  F  F  F  N  N  F
resolved   merchant_dispute  F  F  F  F  F  F  F  N  N  F
resolved   merchant_timeout  F  F  F  F  F  F  F  F  F  N
resolved   reopen            Y  N  F  F  F  F  F  F  F  F
resolved   merge             F  F  N  F  N  F  F  F  F  F
resolved   escalate          F  F  N  F  F  F  F  F  F  F

withdrawn  request_evidence  F  F  N  F  N  F  F  F  F  F
withdrawn  provide_evidence  N  N  F  F  F  F  F  F  F  F
withdrawn  start_review      F  F  N  F  N  F  F  F  F  N
withdrawn  approve           F  F  N  F  N  F  F  F  F  F
withdrawn  reject            F  F  N  F  N  F  F  F  F  F
withdrawn  resolve           F  F  N  F  N  F  F  F  F  F
withdrawn  return_to_review  F  F  F  N  F  F  F  F  F  F
withdrawn  pay               F  F  F  N  F  F  F  F  F  N
withdrawn  withdraw          N  N  F  F  F  F  F  F  F  F
withdrawn  appeal            N  N  F  F  F  F  F  F  F  F
withdrawn  expire            F  F  F  F  F  F  F  F  F  N
withdrawn  fast_track        F  F  F  F  F  F  F  F  F  N
withdrawn  ask_merchant      F  F  N  F  N  F  F  F  F  N
withdrawn  merchant_refund   F  F  F  F  F  F  F  N  N  F
withdrawn  merchant_reissue  F  F  F  F  F  F  F  N  N  F
withdrawn  merchant_dispute  F  F  F  F  F  F  F  N  N  F
withdrawn  merchant_timeout  F  F  F  F  F  F  F  F  F  N
withdrawn  reopen            N  N  F  F  F  F  F  F  F  F
withdrawn  merge             F  F  N  F  N  F  F  F  F  F
withdrawn  escalate          F  F  N  F  F  F  F  F  F  F

closed     request_evidence  F  F  N  F  N  F  F  F  F  F
closed     provide_evidence  N  N  F  F  F  F  F  F  F  F
closed     start_review      F  F  N  F  N  F  F  F  F  N
closed     approve           F  F  N  F  N  F  F  F  F  F
closed     reject            F  F  N  F  N  F  F  F  F  F
closed     resolve           F  F  N  F  N  F  F  F  F  F
closed     return_to_review  F  F  F  N  F  F  F  F  F  F
closed     pay               F  F  F  N  F  F  F  F  F  N
closed     withdraw          N  N  F  F  F  F  F  F  F  F
closed     appeal            N  N  F  F  F  F  F  F  F  F
closed     expire            F  F  F  F  F  F  F  F  F  N
closed     fast_track        F  F  F  F  F  F  F  F  F  N
closed     ask_merchant      F  F  N  F  N  F  F  F  F  N
closed     merchant_refund   F  F  F  F  F  F  F  N  N  F
closed     merchant_reissue  F  F  F  F  F  F  F  N  N  F
closed     merchant_dispute  F  F  F  F  F  F  F  N  N  F
closed     merchant_timeout  F  F  F  F  F  F  F  F  F  N
closed     reopen            N  N  F  F  F  F  F  F  F  F
closed     merge             F  F  N  F  N  F  F  F  F  F
closed     escalate          F  F  N  F  F  F  F  F  F  F
"""
OUTCOME = {"Y": None, "N": NotAllowed, "F": Forbidden}


def _parse(table: str) -> dict[tuple[str, str, str], str]:
    cells = {}
    for line in filter(None, (raw.strip() for raw in table.splitlines())):
        state, event, *marks = line.split()
        assert len(marks) == len(ACTORS), line
        for actor, mark in zip(ACTORS, marks, strict=True):
            cells[state, event, actor] = mark
    return cells


EXPECTED = _parse(_TABLE)
DEST = {
    "request_evidence": "evidence",
    "provide_evidence": "review",
    "start_review": "review",
    "approve": "finance",
    "reject": "rejected",
    "resolve": "resolved",
    "return_to_review": "review",
    "pay": "paid",
    "withdraw": "withdrawn",
    "appeal": "review",
    "expire": "closed",
    "fast_track": "finance",
    "reopen": "review",
    "ask_merchant": "merchant",
    "merchant_refund": "finance",
    "merchant_reissue": "review",
    "merchant_dispute": "review",
    "merchant_timeout": "finance",
    "merge": "closed",
    "escalate": "review",
}
OPTIONS = {
    "reject": {"reason": "no proof"},
    "resolve": {"reason": "reissued"},
    "return_to_review": {"reason": "wrong account"},
    "request_evidence": {"items": ["payment record"]},
    "appeal": {"reason": "the card key was never revealed"},
    "reopen": {"reason": "the reissued key fails too"},
    "merchant_reissue": {"payload": {"note": "new card key XJ3K-22QP-9M7L"}},
    "merchant_dispute": {"reason": "delivered and redeemed", "payload": {"note": "redemption log attached"}},
}


def options_for(event, ticket):
    """OPTIONS, and for `merge` a target: another open ticket of the same customer."""
    if event == "merge":
        target = make_ticket("review", order=make_order(ticket.customer))
        return {"payload": {"into": target.ref}}
    return OPTIONS.get(event, {})


def clock_for(event, ticket):
    """merchant_timeout is the system's only once the merchant's deadline has passed (the merchant's
    answers only before it): that event's cells are checked just after the deadline."""
    if event == "merchant_timeout" and ticket.merchant_due_at is not None:
        return time_machine.travel(ticket.merchant_due_at + timedelta(minutes=1))
    return nullcontext()


def answer_all_items(ticket):
    from app.evidence.items import current_items
    from app.evidence.services import answer_item

    for item in current_items(ticket.id):
        answer_item(ticket, item.code, "cannot provide: the bill was deleted", ticket.customer)


def actor_for(actor, ticket):
    if actor == "owner":
        return ticket.customer
    if actor == "other_customer":
        return make_user("customer")
    if actor == "system":
        return None
    if actor == "merchant":
        return merchant_user(ticket.order.merchant.code)
    if actor == "other_merchant":
        return merchant_user("M-OTHER")
    return staff(actor)


def test_the_expected_table_covers_every_state_and_event():
    assert {(s, e) for s, e, _ in EXPECTED} == {(s, e) for s in STATES if s != "new" for e in EVENTS if e != "submit"}
    assert set(DEST) == set(EVENTS) - {"submit"}


@pytest.mark.parametrize("state", [s for s in STATES if s != "new"])
@pytest.mark.parametrize("event", [e for e in EVENTS if e != "submit"])
def test_every_state_event_actor(app, state, event):
    ticket = make_ticket(state)
    winners = []
    for actor in ACTORS:
        user = actor_for(actor, ticket)
        mark = EXPECTED[state, event, actor]
        with clock_for(event, ticket):
            if mark == "Y":
                assert event in allowed_events(ticket, user), actor
                winners.append(actor)
                continue
            assert event not in allowed_events(ticket, user), actor
            with pytest.raises(OUTCOME[mark]) as exc:
                apply_event(ticket, event, user, **OPTIONS.get(event, {}))
            assert exc.value.allowed_events == allowed_events(ticket, user)
        assert ticket.state == state
    for actor in winners:  # each allowed actor succeeds on a fresh ticket in that state
        fresh = make_ticket(state)
        if event == "provide_evidence":  # the customer answers every requested item first
            answer_all_items(fresh)
        before = TicketEvent.query.filter_by(ticket_id=fresh.id).count()
        user = actor_for(actor, fresh)
        with clock_for(event, fresh):
            apply_event(fresh, event, user, **options_for(event, fresh))
        assert fresh.state == DEST[event]
        assert TicketEvent.query.filter_by(ticket_id=fresh.id).count() == before + 1


def test_unknown_event_is_invalid_and_lists_the_allowed_ones(app):
    ticket = make_ticket("review")
    with pytest.raises(Invalid) as exc:
        apply_event(ticket, "teleport", staff("agent"))
    assert "approve" in exc.value.allowed_events and ticket.state == "review"


@pytest.mark.parametrize("event", ["reject", "resolve"])
def test_reason_required(app, event):
    ticket = make_ticket("review")
    with pytest.raises(Invalid) as exc:
        apply_event(ticket, event, staff("agent"), reason="   ")
    assert "reason" in exc.value.fields
    assert ticket.state == "review"


def test_return_to_review_needs_reason_and_clears_approval(app):
    ticket = make_ticket("finance")
    with pytest.raises(Invalid):
        apply_event(ticket, "return_to_review", staff("finance"))
    apply_event(ticket, "return_to_review", staff("finance"), reason="account closed")
    assert ticket.state == "review" and ticket.approved_amount_cents is None


def test_reject_keeps_the_reason_for_the_customer(app):
    ticket = make_ticket("review")
    apply_event(ticket, "reject", staff("agent"), reason="the card key was redeemed by you")
    assert ticket.closed_reason == "the card key was redeemed by you" and ticket.rejected_at is not None


def test_appeal_once_within_window(app):
    ticket = make_ticket("rejected")
    customer = ticket.customer
    apply_event(ticket, "appeal", customer, reason="I never revealed the key")
    assert ticket.state == "review"
    apply_event(ticket, "reject", staff("agent"), reason="still no proof")
    with pytest.raises(NotAllowed):
        apply_event(ticket, "appeal", customer, reason="again")  # only once


def test_appeal_window_expires_after_15_days(app):
    ticket = make_ticket("rejected")
    with time_machine.travel(ticket.rejected_at + timedelta(days=15, minutes=1)):
        assert "appeal" not in allowed_events(ticket, ticket.customer)
        with pytest.raises(NotAllowed):
            apply_event(ticket, "appeal", ticket.customer, reason="late")
    with time_machine.travel(ticket.rejected_at + timedelta(days=14, hours=23)):
        apply_event(ticket, "appeal", ticket.customer, reason="in time")
    assert ticket.state == "review"


def test_approval_amount_bounds(app):
    ticket = make_ticket("review")  # order of ¥100.00
    agent = staff("agent")
    for bad in (0, -1, 10_001):
        with pytest.raises(Invalid):
            apply_event(ticket, "approve", agent, amount_cents=bad)
    apply_event(ticket, "approve", agent, amount_cents=10_000)
    assert ticket.approved_amount_cents == 10_000


def test_refunds_across_tickets_of_one_order_never_exceed_paid(app):
    first = make_ticket("finance", amount_cents=6_000)
    second = make_ticket("review", order=first.order, amount_cents=4_000, kind="invalid_card")  # one open per kind
    with pytest.raises(Invalid):
        apply_event(second, "approve", staff("agent"), amount_cents=4_001)
    apply_event(second, "approve", staff("agent"), amount_cents=4_000)
    assert refundable_balance(first.order) == 0
    third = make_ticket("review", order=first.order, amount_cents=0, kind="other")
    with pytest.raises(Invalid):
        apply_event(third, "approve", staff("manager"), amount_cents=1)


def test_agent_approval_limit_needs_manager(app):
    order = make_order(amount_cents=80_000)
    ticket = make_ticket("review", order=order)
    with pytest.raises(Forbidden):
        apply_event(ticket, "approve", staff("agent"))
    apply_event(ticket, "approve", staff("manager"))
    assert ticket.state == "finance"


def test_every_state_has_a_path():
    assert set(PATHS) == set(STATES) - {"new"}
