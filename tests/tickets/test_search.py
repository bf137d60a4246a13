"""Staff search: by ref, order number, customer e-mail or name, merchant, words of the description
and of messages; every word must match; Chinese substrings work; wildcards are literal."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.tickets.models import Merchant
from app.tickets.services import add_message, create_ticket
from tests.factories import make_order, make_user, staff


def _ticket(description: str, email: str, name: str = "", merchant: str = "M1", order_no: str | None = None):
    customer = make_user("customer", email=email, name=name)
    m = db.session.query(Merchant).filter_by(code=merchant).one_or_none()
    if m is None:
        m = Merchant(code=merchant, name=f"{merchant} 数码专营店")
        db.session.add(m)
        db.session.commit()
    kw = {"order_no": order_no} if order_no else {}
    order = make_order(customer, **kw)
    order.merchant = m
    db.session.commit()
    return create_ticket(order.order_no, "invalid_card", description, customer)


@pytest.fixture
def desk(app, monkeypatch):
    monkeypatch.setitem(app.config, "FAST_TRACK_ENABLED", False)
    a = _ticket("充值卡提示已被使用，无法激活", "li.lei@example.com", "李雷", "STAR", order_no="KM-20261101-7788")
    b = _ticket("The game card code is invalid", "han.meimei@example.com", "韩梅梅", merchant="MOON")
    c = _ticket("100% off coupon did not apply", "other@example.com", merchant="MOON")
    add_message(b, staff("agent"), "已联系商家补发卡密", internal=False)
    return a, b, c


def refs(client, api, q, **params):
    resp = client.get("/api/v1/tickets", query_string={"q": q, **params}, headers=api.headers(staff("agent")))
    assert resp.status_code == 200, resp.json
    return {t["ref"] for t in resp.json["items"]}


def test_search_each_field(client, api, desk):
    a, b, c = desk
    assert refs(client, api, a.ref) == {a.ref}
    assert refs(client, api, "7788") == {a.ref}  # order number
    assert refs(client, api, "han.meimei@") == {b.ref}  # customer e-mail
    assert refs(client, api, "韩梅梅") == {b.ref}  # customer name
    assert refs(client, api, "MOON") == {b.ref, c.ref}  # merchant code
    assert refs(client, api, "数码专营") == {a.ref, b.ref, c.ref}  # merchant name
    assert refs(client, api, "已被使用") == {a.ref}  # description, Chinese substring
    assert refs(client, api, "INVALID") == {b.ref}  # case-insensitive
    assert refs(client, api, "补发卡密") == {b.ref}  # a message


def test_refs_and_order_numbers_match_by_their_start_or_end(client, api, desk):
    a, b, c = desk
    assert refs(client, api, "km-20261101") == {a.ref}  # the start, any case
    assert refs(client, api, "1101-7788") == {a.ref}  # the end
    assert refs(client, api, "20261101") == set()  # inside an identifier: not a match
    assert refs(client, api, a.ref[:8].lower()) >= {a.ref}  # a ref's start (the date part)
    assert refs(client, api, a.ref[-6:]) == {a.ref}  # its random end
    assert refs(client, api, a.ref[3:9]) == set()  # inside: no


def test_every_word_must_match_and_wildcards_are_literal(client, api, desk):
    a, b, c = desk
    assert refs(client, api, "MOON coupon") == {c.ref}
    assert refs(client, api, "MOON 已被使用") == set()
    assert refs(client, api, "100%") == {c.ref}
    assert refs(client, api, "%") == {c.ref}  # only the ticket with a literal percent sign
    assert refs(client, api, "_") == set()


def test_search_combines_with_filters(client, api, desk):
    a, b, c = desk
    assert refs(client, api, "MOON", state="submitted") == {b.ref, c.ref}
    assert refs(client, api, "MOON", state="review") == set()


def test_too_long_query_is_a_clear_error(client, api, desk):
    resp = client.get("/api/v1/tickets", query_string={"q": "x" * 201}, headers=api.headers(staff("agent")))
    assert resp.status_code == 422 and "q" in resp.json["error"]["fields"]


def test_queue_page_searches_all_states(client, auth, desk):
    a, b, c = desk
    auth.login(staff("agent"))
    page = client.get("/queue", query_string={"q": "韩梅梅"}).get_data(as_text=True)
    assert b.ref in page and a.ref not in page and c.ref not in page
    assert 'value="韩梅梅"' in page  # the box keeps what was typed


def test_queue_merchant_filter_alone_and_with_words(client, auth, desk):
    a, b, c = desk
    auth.login(staff("agent"))
    page = client.get("/queue", query_string={"state": "", "merchant": "MOON"}).get_data(as_text=True)
    assert b.ref in page and c.ref in page and a.ref not in page
    page = client.get("/queue", query_string={"state": "", "merchant": "MOON", "q": "coupon"}).get_data(as_text=True)
    assert c.ref in page and b.ref not in page and a.ref not in page
    page = client.get("/queue", query_string={"state": "", "merchant": "NOBODY"}).get_data(as_text=True)
    assert a.ref not in page and b.ref not in page and c.ref not in page
