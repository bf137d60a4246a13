"""One open request per order and kind, also when two submits race: the partial unique index
`uq_tickets_one_open_request` turns the loser into the same 409 (with the open ticket's ref) that
the service's own check gives."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.errors import NotAllowed
from app.tickets import services
from app.tickets.models import OPEN_STATES_SQL, Ticket
from app.workflow.events import verify_chains
from app.workflow.machine import OPEN_STATES
from app.workflow.service import apply_event
from tests.conftest import on_postgres
from tests.factories import make_order, make_ticket, staff
from tests.helpers import client_call, run_at_once


def test_the_index_names_the_machines_open_states():
    assert set(re.findall(r"'(\w+)'", OPEN_STATES_SQL)) == set(OPEN_STATES)


def test_the_database_refuses_a_second_open_row_but_not_a_finished_one(app, db):
    order = make_order()
    first = make_ticket("review", order=order)
    twin = Ticket(
        ref="RD-TWIN",
        tracker_token="twin-token",
        kind=first.kind,
        customer_id=order.customer_id,
        order_id=order.id,
        requested_amount_cents=100,
        state="submitted",
    )
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    twin.state = "withdrawn"  # finished requests of the same kind are any number
    db.session.add(twin)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 2


def test_a_submit_losing_the_race_gets_the_409_with_the_winners_ref(app, db, monkeypatch):
    """Another submit commits between this one's check and its insert (as a concurrent request would)."""
    order = make_order()
    original = services.new_ref  # runs after the check, before the insert
    winner: list[Ticket] = []

    def competing(now):
        if not winner:
            winner.append(None)  # type: ignore[arg-type]
            winner[0] = services.create_ticket(order.order_no, "not_delivered", "first", order.customer)
        return original(now)

    monkeypatch.setattr(services, "new_ref", competing)
    with pytest.raises(NotAllowed) as exc:
        services.create_ticket(order.order_no, "not_delivered", "second", order.customer)
    assert exc.value.status == 409 and exc.value.fields == {"open_ticket": [winner[0].ref]}
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert verify_chains() is None


def test_an_appeal_while_a_newer_request_of_that_kind_is_open_is_refused_with_its_link(app, api, db):
    order = make_order()
    rejected = make_ticket("rejected", order=order)
    newer = services.create_ticket(order.order_no, rejected.kind, "filed after the rejection", order.customer)
    resp = api.client.post(
        f"/api/v1/tickets/{rejected.ref}/events",
        json={"event": "appeal", "reason": "the card never arrived"},
        headers=api.headers(order.customer),
    )
    assert resp.status_code == 409, resp.json
    assert resp.json["error"]["code"] == "not_allowed"
    assert resp.json["error"]["fields"]["open_ticket"] == [newer.ref]
    db.session.expire_all()
    assert db.session.get(Ticket, rejected.id).state == "rejected"
    apply_event(newer, "withdraw", order.customer)
    appealed = apply_event(db.session.get(Ticket, rejected.id), "appeal", order.customer, reason="never arrived")
    assert appealed.state == "review" and verify_chains() is None


@pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL (run by `make test`)")
def test_two_submits_racing_on_postgresql_one_wins_one_gets_409(app, api, db, monkeypatch):
    order = make_order()
    headers = api.headers(order.customer)
    staff("platform")
    barrier = threading.Barrier(2, timeout=10)
    original = services.new_ref

    def synchronized(now):
        barrier.wait()  # both requests have passed the service's check: only the index can refuse one
        return original(now)

    monkeypatch.setattr(services, "new_ref", synchronized)
    body = {"order_no": order.order_no, "kind": "invalid_card", "description": "卡密无效"}
    results = run_at_once([client_call(app, "post", "/api/v1/tickets", json=body, headers=headers) for _ in range(2)])
    codes = sorted(code for code, _ in results)
    assert codes == [201, 409], results
    won = next(b for c, b in results if c == 201)
    lost = next(b for c, b in results if c == 409)
    assert lost["error"]["code"] == "not_allowed"
    assert lost["error"]["fields"]["open_ticket"] == [won["ref"]]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.order_id == order.id)) == 1
