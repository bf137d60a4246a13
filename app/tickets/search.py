"""Ticket search for staff: ref, order number, customer e-mail or name, merchant, and words of the
description and messages.

Each word must match (AND); a word matches a ticket when it appears in any of those fields,
case-insensitively: anywhere inside the text fields (a substring, so it works for Chinese without a
word segmenter), and at the start or the end of the identifiers — the ticket ref and the order
number, which agents paste whole or read out by their last digits (`_affix`, served by b-tree
indexes; a trigram index serves them badly, since every ref and order number shares most of its
trigrams with all the others). `filter_by_text`
is that definition as one query: the matching ids come from a UNION of one branch per field, each
served by its own index on PostgreSQL — for the text fields trigram GIN indexes (`pg_trgm`, the
models' `ix_trgm_*`), which serve `ILIKE '%word%'` for words with three letters or digits in a row,
and for every other word (a two-character Chinese word, one character, `#7`) GIN indexes of the
text's characters and two-character substrings that need no extension (`search_grams`, migration
0021; the models' `ix_grams_*`), the exact ILIKE rechecking what they find (`_contains`); for
identifiers the prefix and suffix b-trees (`types.affix_indexes`). SQLite falls back to LIKE scans.

A page is ordered by urgency (the queue's order, index ix_tickets_sla_queue) over *all* matches,
which costs in proportion to the matches. `TextSearch.narrow` gives the same rows in the same
order more cheaply, choosing per page part (see `list_tickets`):

1. **Few matches** — each word is first counted through its indexes, at most `PROBE_LIMIT` + 1
   ids per field, in the fields where that is cheap: order numbers and merchants always, the text
   fields unless ANALYZE's statistics of the gram indexes say the word is in many tickets
   (`_cheap_probe`: counting a frequent word reads all its postings, and only learns that it is
   frequent). If some word matches at most `PROBE_LIMIT` tickets, those ids
   (the intersection over such words) are every candidate; the page is those in urgency order that
   match the other words too (checked row by row).
2. **A merchant's tickets** — no word is rare, but one word's only frequent field is the merchant
   (a merchant's code or name, naming at most `MERCHANT_RANGES` merchants): tickets carry their
   merchant (`tickets.merchant_id`), so each merchant's tickets are a range of
   ix_tickets_merchant_queue in the queue order; the page is the first `need` of each range (the
   other words checked row by row) and of the word's few other matches, merged.
3. **Many matches** — every word is frequent: the first `PREFIX_ROWS` tickets of
   the queue order (from the cursor, under the other filters) are checked row by row, in order,
   until the page is full. A full page from a prefix of the order is the exact answer; so is a
   short page when the prefix held every remaining ticket.
4. Otherwise (frequent words that rarely meet, or rare matches among many frequent-word tickets):
   `filter_by_text`, the plain query.

`bench/search_bench.py` measures it at 1,000,000 tickets; tests/tickets/test_search_paths.py forces
each path and compares it with a plain filter in Python.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import (
    Boolean,
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.auth.models import User
from app.extensions import db
from app.tickets.models import Merchant, Message, Order, Ticket

MAX_WORDS = 5
MAX_WORD_LENGTH = 100
# A word counted through its indexes at most this many matches is "rare": its ids are the candidates.
PROBE_LIMIT = 2000
# At most this many queue rows are checked row by row for a page of frequent words.
PREFIX_ROWS = 10_000
# A word naming at most this many merchants is served by their ranges of the queue order.
MERCHANT_RANGES = 20


def words(q: str) -> list[str]:
    """The words of a query (at most MAX_WORDS, each cut to MAX_WORD_LENGTH); LIKE wildcards are literal."""
    out = []
    for w in q.split()[:MAX_WORDS]:
        w = w[:MAX_WORD_LENGTH]
        out.append(w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    return out


def has_trigram(word: str) -> bool:
    """Whether pg_trgm can serve `ILIKE '%word%'` from an index: three letters or digits in a row
    (it splits words on anything else). Without one, the gram indexes serve it (`uses_grams`)."""
    run = 0
    for ch in word:
        run = run + 1 if ch.isalnum() else 0
        if run >= 3:
            return True
    return False


def _raw(word: str) -> str:
    """The word as typed: its LIKE escapes undone."""
    return re.sub(r"\\(.)", r"\1", word)


def uses_grams(word: str) -> bool:
    """Whether PostgreSQL finds the word's text-field matches through the gram indexes: a word
    without a trigram (most Chinese words, one character, `#7`, `a@b.c`). A word with one keeps the
    trigram indexes, which count a frequent word more cheaply (the planner estimates its `ILIKE`
    from the column's statistics and stops a scan early, where a GIN bitmap reads every posting)."""
    return not has_trigram(word) and len(_raw(word)) >= 1


def word_grams(word: str) -> set[str]:
    """The index keys a word needs (`search_word_grams` in Python, lower-cased as Python does: for
    estimates only): its character, or its two-character substrings."""
    low = _raw(word).lower()
    return {low} if len(low) == 1 else {low[i : i + 2] for i in range(len(low) - 1)}


def _like(col, word: str):
    """`col` contains `word`, case-insensitively: the exact test, checked row by row."""
    return col.ilike(f"%{word}%", escape="\\")


def _contains(col, word: str) -> ColumnElement[bool]:
    """`_like`, with the index condition that finds its rows: for a word served by grams in this
    column (`_gram_served`; on PostgreSQL), the word's keys are among the column's (`search_grams`,
    migration 0021) — necessary, not sufficient, so the exact `_like` rechecks each row and the
    result is the same. `col` is a model's column attribute (Ticket.description, …). The ILIKE
    comes first: a scan (which the functions' high COST discourages) tests it first."""
    if _gram_served(f"{col.class_.__tablename__}.{col.key}", word):
        return and_(_like(col, word), _Grams(col, literal(_raw(word))))
    return _like(col, word)


class _Grams(FunctionElement):
    """`search_grams(col) @> search_word_grams(word)` on PostgreSQL (a GIN index on the column's
    expression serves it); true elsewhere (SQLite has no such index and scans)."""

    type = Boolean()
    inherit_cache = True
    name = "grams"


@compiles(_Grams)
def _grams(element, compiler, **kw) -> str:
    return "1 = 1"


@compiles(_Grams, "postgresql")
def _grams_postgresql(element, compiler, **kw) -> str:
    col, word = list(element.clauses)
    return compiler.process(func.search_grams(col).op("@>")(func.search_word_grams(word)), **kw)


def _affix(col, word: str) -> ColumnElement[bool]:
    """An identifier (ticket ref, order number) starts or ends with `word`, case-insensitively: the
    b-tree indexes of `types.affix_indexes` serve both on PostgreSQL (a trigram index cannot serve a
    ref or an order number well: every row shares most of their trigrams)."""
    low = word.lower()
    backwards = _raw(low)[::-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(
        func.lower(col).like(f"{low}%", escape="\\"), _EndsWith(col, literal(f"%{low}"), literal(f"{backwards}%"))
    )


class _EndsWith(FunctionElement):
    """`lower(col) LIKE '%w'` — on PostgreSQL written `reverse(lower(col)) LIKE 'reversed w%'`, a
    prefix the index on reverse(lower(col)) serves. Arguments: the column, both patterns."""

    type = Boolean()
    inherit_cache = True
    name = "ends_with"


@compiles(_EndsWith)
def _ends_with(element, compiler, **kw) -> str:
    col, tail, _ = list(element.clauses)
    return compiler.process(func.lower(col).like(tail, escape="\\"), **kw)


@compiles(_EndsWith, "postgresql")
def _ends_with_postgresql(element, compiler, **kw) -> str:
    col, _, backwards = list(element.clauses)
    return compiler.process(func.reverse(func.lower(col)).like(backwards, escape="\\"), **kw)


def _ids_matching(word: str) -> CompoundSelect:
    """Ids of the tickets one word matches, one index-served branch per field."""
    return union(
        select(Ticket.id).where(or_(_affix(Ticket.ref, word), _contains(Ticket.description, word))),
        select(Message.ticket_id).where(_contains(Message.body, word)),
        select(Ticket.id).join(Order, Order.id == Ticket.order_id).where(_affix(Order.order_no, word)),
        select(Ticket.id)
        .join(User, User.id == Ticket.customer_id)
        .where(or_(_contains(User.email, word), _contains(User.name, word))),
        select(Ticket.id).where(Ticket.merchant_id.in_(_merchants_of(word))),
    )


# The fields a word is looked for in, one index-served branch each (as in `_ids_matching`).
BRANCHES = ("ticket", "messages", "order_no", "customer", "merchant")
# Served by an index whatever the word: merchants (found first, then ix_tickets_merchant_queue) and
# order numbers (b-tree prefix and suffix indexes).
INDEXED_WITHOUT_TRIGRAMS = ("order_no", "merchant")


class _Word:
    """One word of a search: the merchants it names and, per branch with few matches (at most
    PROBE_LIMIT), the tickets it matches there."""

    def __init__(self, text: str):
        self.text = text
        self.merchants: list[int] = []
        self.listed: dict[str, set[int]] = {}

    @property
    def rare(self) -> bool:
        """Every ticket the word matches is listed."""
        return len(self.listed) == len(BRANCHES)

    @property
    def merchant_served(self) -> bool:
        """Every ticket the word matches is listed or one of a few merchants' (each a range of
        ix_tickets_merchant_queue in the queue's order)."""
        return set(self.listed) >= set(BRANCHES) - {"merchant"} and 0 < len(self.merchants) <= MERCHANT_RANGES

    def branch_ids(self, branch: str) -> Select:
        w = self.text
        if branch == "ticket":
            return select(Ticket.id).where(or_(_affix(Ticket.ref, w), _contains(Ticket.description, w)))
        if branch == "messages":
            return select(Message.ticket_id).where(_contains(Message.body, w))
        if branch == "order_no":
            return select(Ticket.id).join(Order, Order.id == Ticket.order_id).where(_affix(Order.order_no, w))
        if branch == "customer":
            return (
                select(Ticket.id)
                .join(User, User.id == Ticket.customer_id)
                .where(or_(_contains(User.email, w), _contains(User.name, w)))
            )
        return select(Ticket.id).where(Ticket.merchant_id.in_(self.merchants))

    def check(self, t) -> ColumnElement[bool]:
        """Whether the ticket row `t` (Ticket, or a subquery's columns with its id, ref, description,
        order_id, customer_id and merchant_id) matches: its own columns by value, the listed branches by
        membership, the others by a lookup for this row only (scalar subqueries, which — unlike an
        EXISTS — are never turned into a hash of every match)."""
        w, one = self.text, literal(1)
        checks = [_affix(t.ref, w), _like(t.description, w)]
        listed = set().union(*(ids for b, ids in self.listed.items() if b != "ticket"))
        if listed:
            checks.append(t.id.in_(sorted(listed)))
        if "customer" not in self.listed:
            user = select(one).where(User.id == t.customer_id, or_(_like(User.email, w), _like(User.name, w)))
            checks.append(user.scalar_subquery().is_not(None))
        if "merchant" not in self.listed and self.merchants:
            checks.append(t.merchant_id.in_(self.merchants))
        if "order_no" not in self.listed:
            order = select(one).where(Order.id == t.order_id, _affix(Order.order_no, w))
            checks.append(order.scalar_subquery().is_not(None))
        if "messages" not in self.listed:
            message = select(one).where(Message.ticket_id == t.id, _like(Message.body, w)).limit(1)
            checks.append(message.scalar_subquery().is_not(None))
        return or_(*checks)


def filter_by_text(query: Select, q: str | None) -> Select:
    """`query` (over Ticket) narrowed to the tickets matching every word of `q`."""
    for word in words(q or ""):
        query = query.where(Ticket.id.in_(select(_ids_matching(word).subquery().c[0])))
    return query


class TextSearch:
    """One search (`q`) over the page parts of one `list_tickets` call; its words are probed once."""

    def __init__(self, q: str):
        self.q = q
        self.words = [_Word(w) for w in words(q)]
        self._probed = False
        self.candidates: set[int] | None = None  # every ticket that can match, when some word is rare
        self.path: list[str] = []  # which way each part went: "candidates", "merchant", "prefix" or "plain"

    def _probe(self) -> None:
        """The merchants each word names (a small table); then, in one query, at most PROBE_LIMIT + 1
        matching ids per word and branch (each branch stops at its limit) for the branches an index
        serves cheaply: the merchants' and the order numbers' always; the text fields' for a word of
        two or more characters unless the statistics say it is frequent (`_cheap_probe`)."""
        if self._probed:
            return
        self._probed = True
        named = [select(literal(i).label("w"), _merchants_of(w.text).subquery().c[0]) for i, w in enumerate(self.words)]
        for i, merchant_id in db.session.execute(union_all(*named)):
            self.words[i].merchants.append(merchant_id)
        probes: list[Select] = []
        found: dict[tuple[int, int], set[int] | None] = {}  # None: more than PROBE_LIMIT
        for i, word in enumerate(self.words):
            for b, branch in enumerate(BRANCHES):
                if branch == "merchant" and not word.merchants:
                    word.listed[branch] = set()
                elif branch in INDEXED_WITHOUT_TRIGRAMS or _cheap_probe(branch, word.text):
                    probes.append(_probe_rows(word.branch_ids(branch), i, b))
                    found[i, b] = set()
        if probes:
            with _serial():
                rows = db.session.execute(union_all(*probes)).all()
            for i, b, ticket_id in rows:
                ids = found[i, b]
                if ticket_id is None or ids is None:
                    found[i, b] = None
                else:
                    ids.add(ticket_id)
        for (i, b), listed in found.items():
            if listed is not None:  # else that branch is checked row by row
                self.words[i].listed[BRANCHES[b]] = listed
        for word in self.words:
            if word.rare:
                every: set[int] = set().union(*word.listed.values())
                self.candidates = every if self.candidates is None else self.candidates & every

    def narrow(self, part: Select, order: Callable[..., tuple], need: int) -> Select:
        """`part` (over Ticket, the other filters applied) narrowed so that its first `need` rows in
        the order `order(Ticket)` are exactly those of `filter_by_text(part, q)`."""
        if not self.words:
            return part
        self._probe()
        if self.candidates is not None:  # few: their first `need` in order, then loaded by id
            self.path.append("candidates")
            first = (
                part.with_only_columns(Ticket.id)
                .where(Ticket.id.in_(sorted(self.candidates)), *(w.check(Ticket) for w in self.words if not w.rare))
                .order_by(*order(Ticket))
                .limit(need)
            )
            return part.where(Ticket.id.in_(db.session.scalars(first).all()))
        by_merchant = next((w for w in self.words if w.merchant_served), None)
        if by_merchant is not None:  # the merchants' ranges of the queue order, and the few others
            self.path.append("merchant")
            return part.where(Ticket.id.in_(self._merchant_page(by_merchant, part, order, need)))
        prefix = (
            part.with_only_columns(
                Ticket.id,
                Ticket.ref,
                Ticket.description,
                Ticket.order_id,
                Ticket.customer_id,
                Ticket.merchant_id,
                Ticket.sla_due_at,
                Ticket.created_at,
            )
            .order_by(*order(Ticket))
            .limit(PREFIX_ROWS)
            .subquery("queue_prefix")
        )
        p = prefix.c
        ids = db.session.scalars(
            select(p.id).where(*(w.check(p) for w in self.words)).order_by(*order(p)).limit(need)
        ).all()
        if len(ids) < need:
            scanned = db.session.scalar(
                select(func.count()).select_from(
                    part.with_only_columns(Ticket.id).order_by(*order(Ticket)).limit(PREFIX_ROWS).subquery()
                )
            )
            if (scanned or 0) >= PREFIX_ROWS:  # the prefix did not hold every remaining ticket
                self.path.append("plain")
                return filter_by_text(part, self.q)
        self.path.append("prefix")
        return part.where(Ticket.id.in_(ids))

    def _merchant_page(self, word: _Word, part: Select, order: Callable[..., tuple], need: int) -> list[int]:
        """The first `need` ids in order of `part` matching every word, where `word` is merchant
        served: each of its merchants' first `need` (a range of ix_tickets_merchant_queue, walked in
        order, the other words checked row by row) and the first `need` of its listed tickets,
        merged. Exact: the first `need` of a union are among the first `need` of its parts."""
        others = [w.check(Ticket) for w in self.words if w is not word]
        cols = part.with_only_columns(Ticket.id, Ticket.sla_due_at, Ticket.created_at).where(*others)
        ranges = [cols.where(Ticket.merchant_id == m) for m in sorted(set(word.merchants))]
        listed: set[int] = set().union(*word.listed.values())
        if listed:
            ranges.append(cols.where(Ticket.id.in_(sorted(listed))))
        firsts = [r.order_by(*order(Ticket)).limit(need).subquery() for r in ranges]
        parts = [select(*f.c) for f in firsts]
        merged = (union(*parts) if len(parts) > 1 else parts[0]).subquery()
        return list(db.session.scalars(select(merged.c.id).order_by(*order(merged.c)).limit(need)))


# A word's text field is probed only when the statistics put it in at most this many rows. A
# frequent word's probe only learns that it is frequent, at a cost that grows with it: a GIN bitmap
# reads every posting before the LIMIT applies (到账, 1 ticket in 8: ~100 ms at 1,000,000 tickets),
# a scan stops after PROBE_LIMIT matches but tests ILIKE on 8 rows for each (客服不回复: ~50 ms);
# the prefix finds such a word's page in a few ms.
PROBE_ESTIMATE_ROWS = 20_000
# The gram index of each searched text column, and the columns each branch's probe reads.
GRAM_INDEXES = {
    "tickets.description": "ix_grams_tickets_description",
    "messages.body": "ix_grams_messages_body",
    "users.email": "ix_grams_users_email",
    "users.name": "ix_grams_users_name",
}
BRANCH_COLUMNS = {
    "ticket": ("tickets.description",),
    "messages": ("messages.body",),
    "customer": ("users.email", "users.name"),
}
# A word in more than this share of a column's rows is looked for there by ILIKE alone: the planner
# would scan for it anyway, and a scan that also tests the gram condition computes `search_grams`
# on every row (1,000 messages that all match: 80 ms instead of 1).
GRAM_MAX_SHARE = 0.1
STATS_SECONDS = 600  # the statistics are read again after this long (ANALYZE changes them slowly)
# (when read, {index: (the table's rows, frequency by key, the least frequency listed)}) by database
_stats: dict[str, tuple[float, dict[str, tuple[float, dict[str, float], float]]]] = {}


def _estimate(column: str, word: str) -> tuple[float, float] | None:
    """(the column's table rows, at most how many of them contain `word`) by the most common
    elements ANALYZE keeps for the column's gram index — the word's rarest key (its character or
    two-character substrings; a key not listed is rarer than every listed one) bounds its rows.
    None without statistics (never analyzed; SQLite)."""
    stats = _gram_stats().get(GRAM_INDEXES[column])
    if stats is None or not _raw(word):
        return None
    rows, freq, least = stats
    return rows, rows * min(freq.get(k, least) for k in word_grams(word))


def _cheap_probe(branch: str, word: str) -> bool:
    """Whether to probe a text branch (description, messages, customer) for `word`: unless the
    statistics put it in more than PROBE_ESTIMATE_ROWS rows of a column the branch reads (without
    statistics: probed). Only a cost decision — a branch not probed is checked row by row, with
    the same result."""
    if branch not in BRANCH_COLUMNS or not _raw(word):
        return False
    for column in BRANCH_COLUMNS[branch]:
        found = _estimate(column, word)
        if found is not None and found[1] > PROBE_ESTIMATE_ROWS:
            return False
    return True


def _gram_served(column: str, word: str) -> bool:
    """Whether `_contains` looks for `word` in `column` through the gram index: a word without a
    trigram, unless the statistics put it in more than GRAM_MAX_SHARE of the rows."""
    if not uses_grams(word):
        return False
    found = _estimate(column, word)
    return found is None or found[1] <= GRAM_MAX_SHARE * found[0]


def _gram_stats() -> dict[str, tuple[float, dict[str, float], float]]:
    """For each analyzed gram index: (its table's rows, frequency by key, the least frequency
    listed), from the most common elements ANALYZE keeps for the index's expression; read in one
    query at most every STATS_SECONDS per database. Empty on SQLite."""
    engine = db.engine
    key, now = str(engine.url), time.monotonic()
    cached = _stats.get(key)
    if cached is not None and now - cached[0] <= STATS_SECONDS:
        return cached[1]
    found: dict[str, tuple[float, dict[str, float], float]] = {}
    if engine.dialect.name == "postgresql":
        indexes = list(GRAM_INDEXES.values())
        rows = db.session.execute(
            text(
                "SELECT s.tablename, t.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs "
                "FROM pg_stats s JOIN pg_class i ON i.relname = s.tablename "
                "AND i.relnamespace = current_schema()::regnamespace "
                "JOIN pg_index x ON x.indexrelid = i.oid JOIN pg_class t ON t.oid = x.indrelid "
                "WHERE s.schemaname = current_schema() AND s.tablename = ANY(:indexes) "
                "AND s.most_common_elems IS NOT NULL"
            ),
            {"indexes": indexes},
        )
        for index, reltuples, elems, freqs in rows:  # after the elements' frequencies: their minimum, maximum
            found[index] = (float(reltuples), dict(zip(elems, freqs, strict=False)), float(freqs[len(elems)]))
    _stats[key] = (now, found)
    return found


@contextmanager
def _serial() -> Iterator[None]:
    """No parallel workers for the statement inside (PostgreSQL; restored after): the probe reads
    few rows by design, and starting workers cost more than the scan itself — 15–30 ms of a 20 ms
    probe at 1,000,000 tickets on a busy 2-core machine, where the planner chose a parallel bitmap
    heap scan for a rare word's few thousand estimated rows."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    before = db.session.scalar(text("SELECT current_setting('max_parallel_workers_per_gather')"))
    db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    try:
        yield
    finally:
        db.session.execute(text("SELECT set_config('max_parallel_workers_per_gather', :v, true)"), {"v": before})


def _probe_rows(ids: Select, w: int, b: int) -> Select:
    """Rows (w, b, id) of the first PROBE_LIMIT + 1 of `ids`: every id when there are at most
    PROBE_LIMIT, else one row with id NULL (a frequent branch's 2,001 ids are not worth fetching)."""
    first = ids.limit(PROBE_LIMIT + 1).subquery()
    counted = select(
        first.c[0].label("id"), func.count().over().label("n"), func.row_number().over().label("r")
    ).subquery()
    rare = counted.c.n <= PROBE_LIMIT
    return select(literal(w).label("w"), literal(b).label("b"), case((rare, counted.c.id)).label("id")).where(
        or_(rare, counted.c.r == 1)
    )


def _merchants_of(word: str) -> Select:
    return select(Merchant.id).where(or_(_like(Merchant.code, word), _like(Merchant.name, word)))
