from sqlalchemy import text

from app.workflow.events import verify_chains
from app.workflow.models import TicketEvent
from tests.factories import make_ticket


def test_chain_links_each_event_to_the_previous(app):
    ticket = make_ticket("paid")
    events = TicketEvent.query.filter_by(ticket_id=ticket.id).order_by(TicketEvent.seq).all()
    assert [e.event for e in events] == ["submit", "start_review", "approve", "pay"]
    assert events[0].prev_hash == "0" * 64
    for prev, ev in zip(events, events[1:], strict=False):
        assert ev.prev_hash == prev.hash
    assert verify_chains() is None


def test_audit_verify_cli_passes_then_detects_an_edited_row(app, runner, db):
    ticket = make_ticket("rejected")
    make_ticket("finance")
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    target = TicketEvent.query.filter_by(ticket_id=ticket.id, event="reject").one()
    db.session.execute(text("UPDATE ticket_events SET reason = 'edited later' WHERE id = :id"), {"id": target.id})
    db.session.commit()
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code != 0
    assert f"event {target.id}" in bad.output


def test_audit_verify_detects_a_deleted_event(app, runner, db):
    ticket = make_ticket("finance")
    middle = TicketEvent.query.filter_by(ticket_id=ticket.id, seq=2).one()
    db.session.execute(text("DELETE FROM ticket_events WHERE id = :id"), {"id": middle.id})
    db.session.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code != 0
