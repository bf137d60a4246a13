"""Every ticket carries its order's merchant (tickets.merchant_id, migration 0020), however it was
created: the customer's form, the API (customer and platform), the workflow's every state, a merge,
a ticket built directly; and the desk's merchant filter, scope and views use it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.merchants.models import Merchant
from app.tickets.models import Order, Ticket
from app.tickets.saved_views import SavedView, with_counts
from app.tickets.services import list_tickets
from tests.factories import PATHS, make_order, make_ticket, make_user, merchant_user, staff
from tests.helpers import csrf_token


def mismatched() -> int:
    """Tickets whose merchant is not their order's (or is missing)."""
    stmt = (
        select(func.count())
        .select_from(Ticket)
        .join(Order, Order.id == Ticket.order_id)
        .where(or_none(Ticket.merchant_id, Order.merchant_id))
    )
    return int(db.session.scalar(stmt) or 0)


def or_none(a, b):
    return a.is_(None) | (a != b)


@pytest.fixture
def quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FAST_TRACK_ENABLED", False)


def order_of(code: str, customer=None) -> Order:
    """An order of merchant `code` (make_order's are all M1's)."""
    merchant = db.session.scalar(select(Merchant).where(Merchant.code == code))
    if merchant is None:
        merchant = Merchant(code=code, name=f"{code} 卡店")
        db.session.add(merchant)
    order = make_order(customer)
    order.merchant = merchant
    db.session.commit()
    return order


def test_every_way_of_filing_sets_the_orders_merchant(app, client, api, auth, quiet):
    by_api = order_of("STAR")
    resp = client.post(
        "/api/v1/tickets",
        json={"order_no": by_api.order_no, "kind": "invalid_card", "description": "卡密无效"},
        headers=api.headers(by_api.customer),
    )
    assert resp.status_code == 201, resp.json
    by_platform = order_of("MOON")
    resp = client.post(
        "/api/v1/tickets",
        json={"order_no": by_platform.order_no, "kind": "not_delivered"},
        headers=api.headers(make_user("platform")),
    )
    assert resp.status_code == 201, resp.json
    by_form = order_of("SUN")
    auth.login(by_form.customer)
    form = client.get(f"/orders/{by_form.order_no}/ticket")
    resp = client.post(
        f"/orders/{by_form.order_no}/ticket",
        data={"csrf_token": csrf_token(form), "kind": "not_delivered", "description": "没到账", "amount": "1"},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    tickets = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert [t.order_id for t in tickets] == [by_api.id, by_platform.id, by_form.id]
    assert [t.merchant_id for t in tickets] == [by_api.merchant_id, by_platform.merchant_id, by_form.merchant_id]
    assert len({t.merchant_id for t in tickets}) == 3  # each order its own merchant (not a default)


@pytest.mark.parametrize("state", sorted(PATHS))
def test_the_merchant_stays_through_the_workflow(app, quiet, state):
    ticket = make_ticket(state)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).merchant_id == ticket.order.merchant_id
    assert mismatched() == 0


def test_a_merged_duplicate_and_its_target_keep_their_merchants(app, client, auth, quiet):
    customer = make_user("customer")
    target = make_ticket("review", order=order_of("STAR", customer))
    dup = make_ticket("submitted", order=order_of("MOON", customer))
    auth.login(staff("agent"))
    page = client.get("/queue?state=")
    data = {"csrf_token": csrf_token(page), "ref": [dup.ref], "back": "/queue?state=", "action": "merge"}
    client.post("/queue/bulk?lang=en", data={**data, "into": target.ref})
    db.session.expire_all()
    assert db.session.get(Ticket, dup.id).state == "closed"
    assert mismatched() == 0 and target.merchant_id != dup.merchant_id


def test_a_ticket_built_directly_gets_it_on_insert(app, db):
    loaded, by_id = order_of("STAR"), order_of("MOON")
    for i, kw in enumerate(({"order": loaded}, {"order_id": by_id.id})):
        order = kw.get("order") or by_id
        db.session.add(
            Ticket(
                ref=f"RD-DIRECT-{i}",
                tracker_token=f"direct-{i}",
                kind="other",
                customer_id=order.customer_id,
                requested_amount_cents=1,
                **kw,
            )
        )
    db.session.commit()
    assert mismatched() == 0 and db.session.scalar(select(func.count()).select_from(Ticket)) == 2
    assert {t.merchant_id for t in db.session.scalars(select(Ticket))} == {loaded.merchant_id, by_id.merchant_id}


def test_the_merchant_filter_scope_and_views_use_it(app, quiet):
    tickets = {i: make_ticket("submitted", order=order_of(code)) for i, code in enumerate(("STAR", "STAR", "MOON"))}
    agent = staff("agent")
    refs = lambda rows: {t.ref for t in rows}  # noqa: E731
    assert refs(list_tickets(agent, merchant="STAR")[0]) == {tickets[0].ref, tickets[1].ref}
    assert refs(list_tickets(agent, merchant="MOON")[0]) == {tickets[2].ref}
    assert list_tickets(agent, merchant="NOBODY")[0] == []
    assert refs(list_tickets(merchant_user("MOON"))[0]) == {tickets[2].ref}
    views = [SavedView(id=None, name=c, shared=True, filters={"merchant": c}) for c in ("STAR", "MOON", "NOBODY")]
    assert [n for _, n, _ in with_counts(views, agent)] == [2, 1, 0]
