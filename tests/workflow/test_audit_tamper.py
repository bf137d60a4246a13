"""`flask audit verify` catches each kind of tampering with the trail (issue 10, point 4)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text

from app.tickets.models import Ticket
from app.workflow import events as audit
from app.workflow.models import TicketEvent
from tests.factories import make_ticket


def verify(runner):
    result = runner.invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def _sql(db, statement: str, **params) -> None:
    db.session.execute(text(statement), params)
    db.session.commit()
    db.session.expire_all()


@pytest.fixture
def paid(app, db):
    ticket = make_ticket("paid")
    make_ticket("finance")  # an untouched neighbour
    return ticket


def test_intact_trail_verifies_and_the_anchor_follows_every_event(app, db, runner, paid):
    assert verify(runner) == (0, "audit chain intact\n")
    db.session.expire_all()
    head = db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == paid.id).order_by(TicketEvent.seq.desc())
    ).first()
    ticket = db.session.get(Ticket, paid.id)
    assert ticket.audit_seq == head.seq == 4 and ticket.audit_hash not in (None, head.hash)


def test_deleting_the_last_event_is_caught(app, db, runner, paid):
    _sql(db, "DELETE FROM ticket_events WHERE ticket_id = :t AND event = 'pay'", t=paid.id)
    _sql(db, "UPDATE tickets SET state = 'finance' WHERE id = :t", t=paid.id)
    code, out = verify(runner)
    assert code == 1 and f"ticket {paid.id}" in out and "anchor" in out


def test_deleting_the_last_event_and_moving_the_anchor_back_is_caught(app, db, runner, paid):
    prev = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == paid.id, TicketEvent.seq == 3))
    _sql(db, "DELETE FROM ticket_events WHERE ticket_id = :t AND seq = 4", t=paid.id)
    _sql(
        db, "UPDATE tickets SET state = 'finance', audit_seq = 3, audit_hash = :h WHERE id = :t", t=paid.id, h=prev.hash
    )
    code, out = verify(runner)
    assert code == 1 and "anchor does not match" in out


def test_deleting_a_whole_chain_is_caught(app, db, runner, paid):
    _sql(db, "DELETE FROM ticket_events WHERE ticket_id = :t", t=paid.id)
    code, out = verify(runner)
    assert code == 1 and f"ticket {paid.id}" in out and "no events" in out


def test_changing_the_ticket_state_is_caught(app, db, runner, paid):
    _sql(db, "UPDATE tickets SET state = 'finance' WHERE id = :t", t=paid.id)
    code, out = verify(runner)
    assert code == 1 and "state finance" in out


def test_changing_the_approved_amount_is_caught(app, db, runner, paid):
    _sql(db, "UPDATE tickets SET approved_amount_cents = approved_amount_cents + 100000 WHERE id = :t", t=paid.id)
    code, out = verify(runner)
    assert code == 1 and f"ticket {paid.id}" in out and "anchor" in out


@pytest.mark.parametrize("rehash", ["plain sha256", "hmac with another key"])
def test_editing_an_event_and_recomputing_the_hashes_is_caught(app, db, runner, paid, rehash):
    """Someone with SQL access rewrites a reason and recomputes every later hash (without the key)."""
    import hmac

    _sql(db, "UPDATE ticket_events SET reason = 'paid twice, fine' WHERE ticket_id = :t AND seq = 3", t=paid.id)
    chain = db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == paid.id).order_by(TicketEvent.seq)
    ).all()
    prev = chain[1].hash
    for ev in chain[2:]:
        data = (prev + audit._canon(ev)).encode()
        new = (
            hashlib.sha256(data).hexdigest()
            if rehash == "plain sha256"
            else hmac.new(b"guess", data, "sha256").hexdigest()
        )
        _sql(db, "UPDATE ticket_events SET prev_hash = :p, hash = :h WHERE id = :id", p=prev, h=new, id=ev.id)
        prev = new
    code, out = verify(runner)
    assert code == 1 and f"event {chain[2].id}" in out


def test_the_key_comes_from_the_settings(app, db, runner, paid):
    assert verify(runner)[0] == 0
    app.config["AUDIT_HMAC_KEY"] = "another-key"
    assert verify(runner)[0] == 1


def test_pre_hmac_chains_are_reported_then_rehashed_once(app, db, runner, paid):
    """Rows written before keyed hashes: plain SHA-256 chains and no anchor."""
    for ticket in db.session.scalars(select(Ticket)).all():
        prev = audit.GENESIS
        for ev in db.session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.seq)
        ):
            ev.prev_hash, ev.hash = prev, audit._plain_digest(prev, ev)
            prev = ev.hash
        ticket.audit_seq, ticket.audit_hash = 0, None
    db.session.commit()
    code, out = verify(runner)
    assert code == 1 and "pre-HMAC" in out
    result = runner.invoke(args=["audit", "rehash"])
    assert result.exit_code == 0 and "re-signed 2" in result.output, result.output
    assert verify(runner)[0] == 0


def test_rehash_refuses_a_tampered_chain(app, db, runner, paid):
    _sql(db, "UPDATE ticket_events SET reason = 'edited' WHERE ticket_id = :t AND seq = 2", t=paid.id)
    result = runner.invoke(args=["audit", "rehash"])
    assert result.exit_code == 1 and f"ticket {paid.id}" in result.output
    assert verify(runner)[0] == 1


def test_verify_digest_changes_with_any_anchor(app, db, runner, paid):
    first = runner.invoke(args=["audit", "verify", "--digest"]).output
    make_ticket()
    assert runner.invoke(args=["audit", "verify", "--digest"]).output != first
