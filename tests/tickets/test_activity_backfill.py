"""Migration 0019: the queue markers of tickets whose history predates `ticket_activity`, derived
from the messages and the audit trail, equal what the flush listener writes as it happens."""

from __future__ import annotations

import importlib.util
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import delete, select

from app.evidence.services import attach_evidence
from app.extensions import db
from app.notifications.urge import urge
from app.tickets.activity import TicketActivity
from app.tickets.services import add_message, assign_ticket
from app.tickets.tags import add_tag
from app.workflow.service import apply_event
from tests.evidence.helpers import image_bytes
from tests.factories import make_order, make_ticket, make_user, staff
from tests.translations import ensure_compiled

ensure_compiled()

_path = Path(__file__).parents[2] / "migrations" / "versions" / "0019_activity_backfill.py"
_spec = importlib.util.spec_from_file_location("migration_0019", _path)
assert _spec and _spec.loader
migration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(migration)

COLUMNS = ("customer_waiting_since", "waiting_for", "appealed_at", "urged_at", "staff_acted_at")


@pytest.fixture
def quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FAST_TRACK_ENABLED", False)


def _rows() -> dict[int, tuple]:
    db.session.expire_all()
    return {a.ticket_id: tuple(getattr(a, c) for c in COLUMNS) for a in db.session.scalars(select(TicketActivity))}


def _badges(client) -> dict[str, list[str]]:
    html = client.get("/queue", query_string={"lang": "en", "state": ""}).get_data(as_text=True)
    rows = re.findall(r'<tr data-ref="([^"]+)">(.*?)</tr>', html, re.S)
    assert rows
    return {ref: re.findall(r'class="badge marker[^"]*"[^>]*>([^<]+)<', body) for ref, body in rows}


def _histories() -> dict[str, object]:
    """One ticket per rule of the listener, each through the real services."""
    agent, manager, admin, finance = staff("agent"), staff("manager"), staff("admin"), staff("finance")
    t = {}
    t["replied"] = make_ticket("review")
    add_message(t["replied"], t["replied"].customer, "Any news?")
    add_message(t["replied"], t["replied"].customer, "Still waiting.")  # waiting since the first

    t["answered"] = make_ticket("review")
    add_message(t["answered"], t["answered"].customer, "Hello?")
    add_message(t["answered"], agent, "We are on it.")

    t["noted"] = make_ticket("review")
    add_message(t["noted"], t["noted"].customer, "Hello?")
    add_message(t["noted"], manager, "checking the merchant", internal=True)  # a note is acting

    t["evidence"] = make_ticket("evidence")
    attach_evidence(t["evidence"], io.BytesIO(image_bytes()), "receipt.png", t["evidence"].customer)

    t["evidence_then_message"] = make_ticket("evidence")
    attach_evidence(t["evidence_then_message"], io.BytesIO(image_bytes()), "a.png", t["evidence_then_message"].customer)
    add_message(t["evidence_then_message"], t["evidence_then_message"].customer, "see the receipt")

    t["message_then_evidence"] = make_ticket("evidence")
    add_message(t["message_then_evidence"], t["message_then_evidence"].customer, "sending it now")
    attach_evidence(t["message_then_evidence"], io.BytesIO(image_bytes()), "b.png", t["message_then_evidence"].customer)

    t["staff_evidence"] = make_ticket("review")
    add_message(t["staff_evidence"], t["staff_evidence"].customer, "Hello?")
    attach_evidence(t["staff_evidence"], io.BytesIO(image_bytes()), "c.png", agent)  # an agent's upload acts

    t["bookkeeping"] = make_ticket("review")  # assigned and tagged after the customer: still waiting
    add_message(t["bookkeeping"], t["bookkeeping"].customer, "Hello?")
    assign_ticket(t["bookkeeping"], agent, agent)
    add_tag(t["bookkeeping"], "vip", agent)

    t["not_the_desk"] = make_ticket("finance")  # finance and admins do not answer for the desk
    add_message(t["not_the_desk"], t["not_the_desk"].customer, "When is the money coming?")
    add_message(t["not_the_desk"], admin, "looking")
    apply_event(t["not_the_desk"], "pay", finance)

    t["appealed"] = make_ticket("rejected")
    apply_event(t["appealed"], "appeal", t["appealed"].customer, reason="the key was never revealed")

    t["appeal_answered"] = make_ticket("rejected")
    apply_event(t["appeal_answered"], "appeal", t["appeal_answered"].customer, reason="no")
    apply_event(t["appeal_answered"], "reject", agent, reason="still no proof")

    t["reopened"] = make_ticket("resolved")
    apply_event(t["reopened"], "reopen", t["reopened"].customer, reason="the new card does not work either")

    t["urged"] = make_ticket("review")
    with time_machine.travel(t["urged"].sla_due_at + timedelta(minutes=1), tick=False):
        urge(t["urged"], t["urged"].customer)
    add_message(t["urged"], t["urged"].customer, "please")

    customer = make_user("customer")
    t["merge_target"] = make_ticket("review", order=make_order(customer))
    add_message(t["merge_target"], customer, "Hello?")
    t["duplicate"] = make_ticket("submitted", order=make_order(customer))
    add_message(t["duplicate"], customer, "same problem")
    apply_event(t["duplicate"], "merge", agent, payload={"into": t["merge_target"].ref})  # merged_from: bookkeeping

    t["untouched"] = make_ticket("submitted")  # only filed: no row
    return t


def test_backfill_writes_what_the_listener_wrote(app, client, auth, quiet):
    tickets = _histories()
    live = _rows()
    auth.login(staff("agent"))
    live_badges = _badges(client)
    # the histories cover every marker and its absence (else the comparison below proves little)
    by_name = {name: live.get(t.id) for name, t in tickets.items()}
    assert by_name["untouched"] is None
    assert by_name["replied"][1] == "message" and by_name["evidence"][1] == "evidence"
    assert by_name["message_then_evidence"][1] == "evidence" and by_name["evidence_then_message"][1] == "message"
    for name in ("answered", "noted", "staff_evidence", "appeal_answered", "duplicate"):
        assert by_name[name][:4] == (None, None, None, None), name
    for name in ("bookkeeping", "not_the_desk", "merge_target"):
        assert by_name[name][0] is not None, name
    assert by_name["appealed"][2] and by_name["reopened"][2] and by_name["urged"][3] and by_name["urged"][1]
    assert {b for bs in live_badges.values() for b in bs} >= {"Customer replied", "New evidence", "Appealed", "Urged"}

    db.session.execute(delete(TicketActivity))  # as before the table existed
    db.session.commit()
    assert _rows() == {} and not any(_badges(client).values())

    written = migration.backfill(db.session.connection())
    db.session.commit()
    assert written == len(live)
    assert _rows() == live
    assert _badges(client) == live_badges

    assert migration.backfill(db.session.connection()) == 0  # idempotent
    db.session.commit()
    assert _rows() == live


def test_backfill_keeps_a_row_the_listener_already_wrote(app, quiet):
    old, recent = make_ticket("review"), make_ticket("review")
    add_message(old, old.customer, "before the upgrade")
    add_message(recent, recent.customer, "before the upgrade")
    db.session.execute(delete(TicketActivity))
    db.session.commit()
    with time_machine.travel(recent.sla_due_at + timedelta(minutes=1), tick=False):
        urge(recent, recent.customer)  # after the upgrade: the listener writes this ticket's row
    kept = _rows()[recent.id]
    assert migration.backfill(db.session.connection()) == 1
    db.session.commit()
    rows = _rows()
    assert rows[recent.id] == kept and kept[0] is None  # left alone (its earlier message is not merged in)
    assert rows[old.id][0] is not None and rows[old.id][1] == "message"
