"""Words of every length find the same tickets on SQLite (LIKE scans) and on PostgreSQL, where a
word without a trigram (two characters: most Chinese words; one character; `#7`) is found through
the gram indexes (`search_grams`, migration 0021) and rechecked by the exact ILIKE: in
descriptions, messages, customer e-mails and names, Chinese and Latin, any case, wildcards literal."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.auth.models import User
from app.extensions import db
from app.tickets import search
from app.tickets.models import Message, Ticket
from app.tickets.services import add_message, create_ticket, list_tickets
from tests.conftest import on_postgres
from tests.factories import make_order, make_user, staff

TICKETS = (
    # description, message (or None), customer name
    ("充值卡提示已被使用，无法激活", None, "李雷"),
    ("点卡充值后没有到账 #7", "已联系商家补发卡密", "韩梅梅"),
    ("The game card code is INVALID", "Please send a screenshot (AB-12)", "Ann Lee"),
    ("下错单了，想退款 100%", "退货已收到", "王五"),
    ("Charged twice: ab_cd", None, "Bo"),
)


@pytest.fixture
def desk(app, monkeypatch):
    monkeypatch.setitem(app.config, "FAST_TRACK_ENABLED", False)
    agent = staff("agent")
    made = []
    for i, (description, message, name) in enumerate(TICKETS):
        customer = make_user("customer", email=f"buyer{i}.x{i}@example.com", name=name)
        ticket = create_ticket(make_order(customer).order_no, "invalid_card", description, customer)
        if message:
            add_message(ticket, agent, message)
        made.append((ticket.ref, ticket.order.order_no))
    return agent, [ref for ref, _ in made], made


def _found(made: list[tuple[str, str]], q: str) -> set[int]:
    """The definition in Python: the indexes (into TICKETS) of the tickets matching every word, in
    a text field or at the start or end of an identifier."""
    out = set()
    for i, (description, message, name) in enumerate(TICKETS):
        fields = [description, message or "", name, f"buyer{i}.x{i}@example.com", "M1", "Star Cards"]
        ids = [x.lower() for x in made[i]]

        if all(_hit(w.lower(), fields, ids) for w in q.split()):
            out.add(i)
    return out


def _hit(w: str, fields: list[str], ids: list[str]) -> bool:
    return any(w in f.lower() for f in fields) or any(x.startswith(w) or x.endswith(w) for x in ids)


# fmt: off
QUERIES = (
    # one character, two characters (no trigram): the gram indexes on PostgreSQL
    "卡", "退", "#", "%", "_", "7", "z", "Z", "鑫", "，",
    "到账", "退货", "卡密", "激活", "李雷", "王五", "ab", "AB", "Bo", "#7", "0%", "b_", "_c", "x1", "（A",
    "(A", "@e", "货已", "zz", "退 款",
    # three or more: trigrams (or grams when no three letters or digits are in a row)
    "补发卡密", "已被使用", "invalid", "AB-12", "ab_cd", "韩梅梅", "buyer3.x3@", "a@b", "x3@e", "zzzz",
    "充值 到账", "充值卡 #7", "Lee 卡",
)
# fmt: on


@pytest.mark.parametrize("probe", [10**6, 0])
def test_every_length_of_word_finds_the_defined_tickets(desk, monkeypatch, probe):
    monkeypatch.setattr(search, "PROBE_LIMIT", probe)  # listed (rare) or checked row by row
    agent, refs, made = desk
    for q in QUERIES:
        expected = _found(made, q)
        rows, _ = list_tickets(agent, search=q, limit=50)
        assert {refs.index(t.ref) for t in rows} == expected, q
        plain = search.filter_by_text(select(Ticket), q)
        assert {refs.index(t.ref) for t in db.session.scalars(plain)} == expected, q
    assert _found(made, "到账") == {1} and _found(made, "退货") == {3} and _found(made, "ab") == {2, 4}


@pytest.mark.skipif(not on_postgres(), reason="PostgreSQL's functions and indexes")
def test_grams_are_the_lower_cased_texts_characters_and_two_character_substrings(app):
    for value in ("退货已收到", "AbC", "a", "", "aaa", "Ab-12 ab", "İx"):
        got = db.session.scalar(text("SELECT search_grams(:v)"), {"v": value})
        word = db.session.scalar(text("SELECT search_word_grams(:v)"), {"v": value})
        low = db.session.scalar(text("SELECT lower(:v)"), {"v": value})
        pairs = {low[i : i + 2] for i in range(len(low) - 1)}
        assert sorted(got) == sorted(set(low) | pairs), value
        assert sorted(word) == sorted({low} if len(low) == 1 else pairs), value
        assert set(word) <= set(got)  # a text contains itself


@pytest.mark.skipif(not on_postgres(), reason="PostgreSQL's indexes")
@pytest.mark.parametrize(
    "column,index",
    [
        (Ticket.description, "ix_grams_tickets_description"),
        (Message.body, "ix_grams_messages_body"),
        (User.email, "ix_grams_users_email"),
        (User.name, "ix_grams_users_name"),
    ],
)
def test_a_word_without_a_trigram_is_looked_up_in_the_gram_index(app, monkeypatch, column, index):
    """The condition search writes is the indexes' expression (with scans off, the plan uses it),
    the word's keys computed when planning."""
    monkeypatch.setattr(search, "_gram_stats", dict)  # no statistics: whatever autovacuum did
    for word in ("退货", "鑫", "#7"):
        stmt = select(column.table.c.id).where(search._contains(column, word))
        sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db.session.scalars(text(f"EXPLAIN {sql}")))
        db.session.rollback()
        assert index in plan and "search_word_grams" not in plan, plan


def test_which_words_use_grams_and_their_keys():
    assert search.uses_grams("到账") and search.uses_grams("#7") and search.uses_grams("a@b.c")
    assert search.uses_grams("卡") and search.uses_grams("\\%")  # "%" as typed
    assert not search.uses_grams("到账了") and not search.uses_grams("M137")
    assert search.word_grams("卡") == {"卡"} and search.word_grams("AB") == {"ab"}
    assert search.word_grams("\\%x_") == {"%x", "x_"} and search.word_grams("到账了") == {"到账", "账了"}


def test_a_text_field_is_probed_unless_the_statistics_say_the_word_is_frequent(app, monkeypatch):
    frequent = {"到账": 0.125, "服到": 0.125, "客服": 0.125, "卡": 0.5}
    stats = {
        "ix_grams_tickets_description": (1_000_000.0, frequent, 0.002),
        "ix_grams_users_name": (20_000.0, {"李雷": 0.5}, 0.001),
    }
    monkeypatch.setattr(search, "_gram_stats", lambda: stats)
    cheap = search._cheap_probe
    assert not cheap("ticket", "到账") and not cheap("ticket", "客服到账")  # every key in 1 of 8
    assert cheap("ticket", "退货") and cheap("ticket", "客服退货")  # a key not listed: rarer than 0.2 %
    assert not cheap("ticket", "卡") and cheap("ticket", "鑫")
    assert cheap("messages", "到账")  # messages are not analyzed: probed
    assert cheap("customer", "李雷")  # 10,000 of 20,000 users: not more than PROBE_ESTIMATE_ROWS
    monkeypatch.setattr(search, "PROBE_ESTIMATE_ROWS", 5_000)
    assert not cheap("customer", "李雷")
    assert not cheap("merchant", "退货") and not cheap("order_no", "退货")  # not a text field


@pytest.mark.skipif(not on_postgres(), reason="PostgreSQL's setting")
def test_the_probe_runs_without_parallel_workers_and_restores_the_setting(desk):
    agent, refs, made = desk
    db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 3"))
    seen = []
    with search._serial():
        seen.append(db.session.scalar(text("SHOW max_parallel_workers_per_gather")))
    assert seen == ["0"] and db.session.scalar(text("SHOW max_parallel_workers_per_gather")) == "3"
    rows, _ = list_tickets(agent, search="退货")
    assert [t.ref for t in rows] == [refs[3]]
    assert db.session.scalar(text("SHOW max_parallel_workers_per_gather")) == "3"


def test_a_word_in_a_large_share_of_a_column_is_looked_up_by_ilike_alone(app, monkeypatch):
    stats = {"ix_grams_messages_body": (1_000.0, {"查收": 1.0, "卡": 0.05}, 0.01)}
    monkeypatch.setattr(search, "_gram_stats", lambda: stats)
    served = search._gram_served
    assert not served("messages.body", "查收")  # in every message: a scan would compute grams per row
    assert served("messages.body", "卡") and served("messages.body", "退货")  # 5 %; not listed: < 1 %
    assert served("tickets.description", "查收")  # no statistics for that column
    assert not served("messages.body", "补发卡密")  # trigrams
    assert "search_grams" not in str(search._contains(Message.body, "查收").compile(db.engine))
