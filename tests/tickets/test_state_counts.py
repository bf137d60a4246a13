"""The queue's state chips come from maintained counters that always equal a count of the tickets."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.tickets.counters import count_by_state, rebuild_state_counts
from app.tickets.models import Ticket
from app.tickets.services import assign_ticket
from app.workflow.service import apply_event
from tests.factories import make_ticket, staff


def counted(**where) -> dict[str, int]:
    """The truth: a GROUP BY over every ticket."""
    q = select(Ticket.state, func.count()).group_by(Ticket.state)
    for col, value in where.items():
        q = q.where(getattr(Ticket, col).is_(None) if value is None else getattr(Ticket, col) == value)
    return {state: n for state, n in db.session.execute(q)}  # noqa: C416


def assert_counts_match(agent) -> None:
    assert count_by_state() == counted()
    assert count_by_state(kind="invalid_card") == counted(kind="invalid_card")
    assert count_by_state(assignee_id=agent.id) == counted(assignee_id=agent.id)
    assert count_by_state(unassigned=True) == counted(assignee_id=None)
    assert count_by_state(kind="not_delivered", unassigned=True) == counted(kind="not_delivered", assignee_id=None)


def test_counts_follow_filing_transitions_and_assignment(app):
    agent, manager = staff("agent"), staff("manager")
    tickets = [
        make_ticket(state, kind=kind)
        for state in ("submitted", "review", "paid", "rejected", "evidence")
        for kind in ("not_delivered", "invalid_card")
    ]
    assert count_by_state()["submitted"] == 2 and count_by_state()["paid"] == 2
    assign_ticket(tickets[0], agent, agent)
    assign_ticket(tickets[2], manager, manager)
    apply_event(tickets[0], "start_review", agent)
    apply_event(tickets[1], "start_review", agent)
    assign_ticket(tickets[2], None, manager)
    assert_counts_match(agent)
    assert count_by_state(assignee_id=agent.id) == {"review": 1}


def test_a_rolled_back_change_leaves_the_counts(app):
    agent = staff("agent")
    ticket = make_ticket()
    before = count_by_state()
    ticket.assignee_id = agent.id
    db.session.flush()
    assert count_by_state(assignee_id=agent.id) == {"submitted": 1}  # inside the transaction
    db.session.rollback()
    assert count_by_state() == before
    assert count_by_state(assignee_id=agent.id) == {}
    assert_counts_match(agent)


def test_deleting_a_ticket_and_rebuilding(app):
    agent = staff("agent")
    keep, gone = make_ticket(), make_ticket("review")
    db.session.delete(gone)
    db.session.commit()
    assert count_by_state() == {"submitted": 1}
    rebuild_state_counts()
    assert count_by_state() == counted() == {"submitted": 1}
    assert keep.state == "submitted"
    assert_counts_match(agent)
