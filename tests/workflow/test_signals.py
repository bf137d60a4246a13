"""After the commit: `ticket_transitioned` and its isolated receivers; which errors are conflicts."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text

from app.errors import Conflict, IntegrityViolation
from app.tickets.models import Ticket
from app.workflow import service
from app.workflow.models import TicketEvent
from app.workflow.signals import ticket_transitioned
from tests.factories import make_ticket, staff


def _capture(caplog, monkeypatch, name: str) -> None:
    """Capture `name`'s records (Alembic's fileConfig in the migration test disables existing loggers)."""
    monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    caplog.set_level(logging.ERROR, logger=name)


def test_receivers_get_the_documented_arguments_after_the_commit(app, db):
    ticket = make_ticket("submitted")
    agent = staff("agent")
    seen = []

    def receiver(sender, **kwargs):
        committed = db.session.execute(text("SELECT state FROM tickets WHERE id = :id"), {"id": kwargs["ticket_id"]})
        seen.append((sender, kwargs, committed.scalar_one()))

    with ticket_transitioned.connected_to(receiver, sender=app):
        service.apply_event(ticket, "start_review", agent)
    assert seen == [
        (
            app,
            {
                "ticket_id": ticket.id,
                "ticket_ref": ticket.ref,
                "event": "start_review",
                "from_state": "submitted",
                "to_state": "review",
                "actor_id": agent.id,
                "actor_role": "agent",
            },
            "review",
        )
    ]


def test_a_failing_receiver_is_logged_and_the_transition_still_answers_200(app, db, api, caplog, monkeypatch):
    ticket = make_ticket("submitted")
    headers = api.headers(staff("agent"))
    others = []

    def broken(sender, **kwargs):
        raise RuntimeError("mail server on fire")

    def other(sender, **kwargs):
        others.append(kwargs["event"])

    _capture(caplog, monkeypatch, "app.workflow.signals")
    with ticket_transitioned.connected_to(broken, sender=app), ticket_transitioned.connected_to(other, sender=app):
        resp = api.client.post(f"/api/v1/tickets/{ticket.ref}/events", json={"event": "start_review"}, headers=headers)
    assert resp.status_code == 200, resp.json
    assert resp.json["state"] == "review"
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "review"
    assert others == ["start_review"]  # the other receiver still ran
    failure = next(r for r in caplog.records if r.exc_info and "mail server on fire" in str(r.exc_info[1]))
    assert ticket.ref in failure.getMessage()


def test_a_version_changed_underneath_is_a_conflict(app, db, monkeypatch):
    ticket = make_ticket("review")

    def someone_else_writes(ctx, t):  # another transaction committed a change first
        with db.session.no_autoflush:
            db.session.execute(text("UPDATE tickets SET version = version + 1 WHERE id = :id"), {"id": ctx.ticket.id})

    monkeypatch.setattr(service, "EVERY_TRANSITION", (*service.EVERY_TRANSITION, someone_else_writes))
    with pytest.raises(Conflict):
        service.apply_event(ticket, "reject", staff("agent"), reason="no proof")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "review"


def test_two_writers_appending_to_one_audit_chain_is_a_conflict(app, db, monkeypatch):
    ticket = make_ticket("review")
    original = service.record_event

    def racing_record_event(ticket, event, *args, **kwargs):
        ev = original(ticket, event, *args, **kwargs)
        db.session.add(  # a concurrent writer took the same sequence number
            TicketEvent(
                ticket_id=ev.ticket_id,
                seq=ev.seq,
                event="note",
                to_state=ev.to_state,
                actor_role="agent",
                payload={},
                prev_hash=ev.prev_hash,
                hash="0" * 64,
            )
        )
        return ev

    monkeypatch.setattr(service, "record_event", racing_record_event)
    with pytest.raises(Conflict):
        service.apply_event(ticket, "reject", staff("agent"), reason="no proof")


def test_any_other_integrity_error_is_its_own_error_not_a_conflict(app, db, monkeypatch, caplog):
    ticket = make_ticket("review")
    other = make_ticket("review")

    def duplicate_ref(ctx, t):  # a bug: breaks the unique ticket reference
        ctx.ticket.ref = other.ref

    monkeypatch.setattr(service, "EVERY_TRANSITION", (*service.EVERY_TRANSITION, duplicate_ref))
    _capture(caplog, monkeypatch, "app.workflow.service")
    with pytest.raises(IntegrityViolation) as exc:
        service.apply_event(ticket, "reject", staff("agent"), reason="no proof")
    assert not isinstance(exc.value, Conflict)
    assert exc.value.code == "integrity_error" and exc.value.status == 409
    assert any(ticket.ref in r.getMessage() for r in caplog.records)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "review"
    events = db.session.scalars(select(TicketEvent.event).where(TicketEvent.ticket_id == ticket.id)).all()
    assert "reject" not in events


def test_an_integrity_error_over_the_api_is_a_clear_409(app, db, api, monkeypatch):
    ticket = make_ticket("review")
    other = make_ticket("review")
    headers = api.headers(staff("agent"))

    def duplicate_ref(ctx, t):
        ctx.ticket.ref = other.ref

    monkeypatch.setattr(service, "EVERY_TRANSITION", (*service.EVERY_TRANSITION, duplicate_ref))
    resp = api.client.post(
        f"/api/v1/tickets/{ticket.ref}/events", json={"event": "reject", "reason": "no proof"}, headers=headers
    )
    assert resp.status_code == 409
    assert resp.json["error"]["code"] == "integrity_error"


def test_a_crashing_fast_track_rule_leaves_the_filed_ticket_submitted(app, db, monkeypatch, caplog):
    from app.tickets.services import create_ticket
    from app.workflow import receivers
    from tests.factories import make_order

    def crash(ticket):
        raise RuntimeError("rule engine bug")

    monkeypatch.setattr(receivers, "decide", crash)
    _capture(caplog, monkeypatch, "app.workflow.signals")
    order = make_order(amount_cents=1_000)  # small enough for the small_amount rule
    ticket = create_ticket(order.order_no, "not_delivered", "never arrived", order.customer)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).state == "submitted"  # filed; an agent triages it
    assert any("fast_track_on_submit" in r.getMessage() and ticket.ref in r.getMessage() for r in caplog.records)
