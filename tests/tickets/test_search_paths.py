"""Staff search's fast paths (app/tickets/search.py) give exactly the plain query's rows in the
queue's order: every path forced in turn (few matches listed, the ranges of a word's merchants, a
prefix of the queue checked row by row, the plain query after a prefix that held too few), over
every page of a cursor walk, against a straightforward filter in Python over the same tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.tickets import search
from app.tickets.models import Merchant, Ticket
from app.tickets.services import add_message, create_ticket, list_tickets
from app.types import utcnow
from tests.factories import make_order, make_user, merchant_user, staff

PHRASES = ("充值卡提示已被使用，无法激活", "点卡充值后没有到账", "The game card code is invalid", "下错单了，想退款")
MERCHANTS = (("STAR", "星星数码专营店"), ("MOON", "Moon Cards"), ("SUN", "太阳 Game Shop"), ("MOONLIT", "月光卡店"))


@pytest.fixture
def desk(app, monkeypatch):
    """36 tickets: four phrases, four merchants, twelve customers, a message on every fifth; deadlines
    with ties and without (NULLS LAST), creation times with ties (broken by id)."""
    monkeypatch.setitem(app.config, "FAST_TRACK_ENABLED", False)
    merchants = []
    for code, name in MERCHANTS:
        m = Merchant(code=code, name=name)
        db.session.add(m)
        merchants.append(m)
    db.session.commit()
    customers = [make_user("customer", email=f"buyer{i}@example.com", name=f"顾客{i}") for i in range(12)]
    agent = staff("agent")
    base = utcnow().replace(microsecond=0)
    for i in range(36):
        order = make_order(customers[i % 12])
        order.merchant = merchants[i % 4 if i % 9 else 3]
        db.session.commit()
        ticket = create_ticket(order.order_no, "invalid_card", f"{PHRASES[i % 4]} #{i}", customers[i % 12])
        if i % 5 == 0:
            add_message(ticket, agent, "已联系商家补发卡密" if i % 10 == 0 else "Please send a screenshot")
        ticket.sla_due_at = None if i % 4 == 3 else base + timedelta(hours=(i * 7) % 5)
        ticket.created_at = base - timedelta(minutes=(i * 5) % 9)
    db.session.commit()
    return agent


def _expected(user, q: str, **filters) -> list[str]:
    """The definition, in Python: every word in some text field or at the start or end of an
    identifier (case-insensitive), in queue order."""
    out = []
    for t in db.session.query(Ticket).all():
        if filters.get("state") and t.state != filters["state"]:
            continue
        if user.merchant_id and t.order.merchant_id != user.merchant_id:
            continue
        if filters.get("merchant") and t.order.merchant.code != filters["merchant"]:
            continue
        fields = [t.description, t.customer.email, t.customer.name or ""]
        fields += [t.order.merchant.code, t.order.merchant.name] + [m.body for m in t.messages]
        ids = [t.ref.lower(), t.order.order_no.lower()]  # identifiers: by their start or end

        if all(_found(w.lower(), fields, ids) for w in q.split()):
            out.append(t)
    out.sort(key=lambda t: (t.sla_due_at is None, t.sla_due_at or t.created_at, t.created_at, t.id))
    return [t.ref for t in out]


def _found(w: str, fields: list[str], ids: list[str]) -> bool:
    return any(w in f.lower() for f in fields) or any(i.startswith(w) or i.endswith(w) for i in ids)


def _walk(user, q: str, page: int, **filters) -> list[str]:
    """Every page of the search, following the cursor."""
    refs, cursor = [], None
    while True:
        rows, cursor = list_tickets(user, search=q, cursor=cursor, limit=page, **filters)
        refs += [t.ref for t in rows]
        if cursor is None:
            return refs


QUERIES = (
    "无法激活",  # a quarter of the tickets (description)
    "GAME",  # description and a merchant name, any case
    "MOON",  # a merchant code (and the start of another's): two merchants
    "moonlit",  # one merchant, any case
    "MOON 无法激活",  # a merchant's tickets and a frequent word
    "月光 #2",  # a merchant name (no trigram) and a rare description word
    "MOON buyer3@",  # a merchant's tickets and a rare customer
    "太阳",  # two characters (no trigram), a merchant name
    "到账",  # two characters, a quarter (description)
    "buyer3@",  # one customer
    "顾客1",  # customer names 顾客1, 顾客10, 顾客11
    "补发卡密",  # messages only
    "#7",  # one description (no trigram)
    "STAR 退款",  # two words
    "无法激活 到账",  # two frequent words that never meet
    "card 顾客2",  # frequent and rare
    "km0",  # every order number starts so (an identifier's start, any case)
    "rd",  # every ref starts so; also inside words of no description
    "3",  # the end of some order numbers and of descriptions "#3", "#13", …
    "zzzznotthere",
    "KM",  # every order number
)

# (PROBE_LIMIT, MERCHANT_RANGES, PREFIX_ROWS): which path each forces
MODES = {
    "candidates": (10**6, 20, 10**6),  # every word with trigrams is rare
    "merchant": (0, 20, 10**6),  # nothing listed but empty branches: a merchant word by its ranges
    "prefix": (0, 0, 10**6),  # no branch with a match is listed; the prefix is the whole queue
    "plain": (0, 0, 1),  # a prefix of one row: the plain query after it
    "mixed": (3, 1, 7),
}


def _force(monkeypatch, mode: str) -> None:
    probe, ranges, prefix = MODES[mode]
    monkeypatch.setattr(search, "PROBE_LIMIT", probe)
    monkeypatch.setattr(search, "MERCHANT_RANGES", ranges)
    monkeypatch.setattr(search, "PREFIX_ROWS", prefix)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_path_gives_the_plain_rows_in_queue_order(desk, monkeypatch, mode):
    _force(monkeypatch, mode)
    paths = []
    narrow = search.TextSearch.narrow

    def spy(self, *args, **kwargs):
        result = narrow(self, *args, **kwargs)
        paths.append(self.path[-1])
        return result

    monkeypatch.setattr(search.TextSearch, "narrow", spy)
    for q in QUERIES:
        expected = _expected(desk, q)
        first, _ = list_tickets(desk, search=q, limit=25)
        assert [t.ref for t in first] == expected[:25], q
        assert _walk(desk, q, page=4) == expected, q  # through the cursor: both parts of the order
    every = {"candidates", "merchant", "prefix", "plain"}
    assert every >= set(paths)
    assert mode == "mixed" or mode in paths
    if mode == "mixed":
        assert set(paths) == every


@pytest.mark.parametrize("mode", ["prefix", "merchant", "candidates"])
def test_paths_keep_the_other_filters_and_the_merchant_scope(desk, monkeypatch, mode):
    _force(monkeypatch, mode)
    assert _walk(desk, "卡", page=3, state="submitted") == _expected(desk, "卡", state="submitted")
    assert _walk(desk, "卡", page=3, state="review") == []
    for q in ("MOON", "MOON 无法激活", "卡"):
        assert _walk(desk, q, page=3, merchant="MOONLIT") == _expected(desk, q, merchant="MOONLIT"), q
        assert _walk(desk, q, page=3, merchant="NOBODY") == [], q
    star = db.session.query(Merchant).filter_by(code="STAR").one()
    member = merchant_user("STAR")
    assert member.merchant_id == star.id
    for q in ("激活", "GAME", "buyer3@", "MOON", "STAR 激活"):
        assert _walk(member, q, page=3) == _expected(member, q), q


def test_the_plain_query_is_the_reference(desk):
    """The Python definition above agrees with filter_by_text itself (the fallback)."""
    from sqlalchemy import select

    from app.tickets.services import queue_order

    for q in QUERIES:
        stmt = search.filter_by_text(select(Ticket), q).order_by(*queue_order(Ticket))
        assert [t.ref for t in db.session.scalars(stmt)] == _expected(desk, q), q


def test_trigram_words():
    assert search.has_trigram("到账了") and search.has_trigram("M137") and search.has_trigram("c10077@bench")
    assert not search.has_trigram("到账") and not search.has_trigram("#7") and not search.has_trigram("a@b.c")
