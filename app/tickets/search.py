"""Ticket search for staff: ref, order number, customer e-mail or name, merchant, and words of the
description and messages.

Each word must match (AND); a word matches a ticket when it appears in any of those fields,
case-insensitively: anywhere inside the text fields (a substring, so it works for Chinese without a
word segmenter), and at the start or the end of the identifiers — the ticket ref and the order
number, which agents paste whole or read out by their last digits (`_affix`, served by b-tree
indexes; a trigram index serves them badly, since every ref and order number shares most of its
trigrams with all the others). `filter_by_text`
is that definition as one query: the matching ids come from a UNION of one branch per field, each
served by its own index — on PostgreSQL trigram GIN indexes (`pg_trgm`, see the models' `ix_trgm_*`),
which serve `ILIKE '%word%'` for words with three letters or digits in a row, and for identifiers
the prefix and suffix b-trees (`types.affix_indexes`); shorter words (e.g. a
two-character Chinese word) still match, by scanning. SQLite falls back to LIKE scans.

A page is ordered by urgency (the queue's order, index ix_tickets_sla_queue) over *all* matches,
which costs in proportion to the matches. `TextSearch.narrow` gives the same rows in the same
order more cheaply, choosing per page part (see `list_tickets`):

1. **Few matches** — each word with trigrams is first counted through its indexes, at most
   `PROBE_LIMIT` + 1 ids. If some word matches at most `PROBE_LIMIT` tickets, those ids (the
   intersection over such words) are every candidate; the page is those in urgency order that match
   the other words too (checked row by row).
2. **A merchant's tickets** — no word is rare, but one word's only frequent field is the merchant
   (a merchant's code or name, naming at most `MERCHANT_RANGES` merchants): tickets carry their
   merchant (`tickets.merchant_id`), so each merchant's tickets are a range of
   ix_tickets_merchant_queue in the queue order; the page is the first `need` of each range (the
   other words checked row by row) and of the word's few other matches, merged.
3. **Many matches** — every word is frequent (or has no trigram): the first `PREFIX_ROWS` tickets of
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
from collections.abc import Callable

from sqlalchemy import Boolean, ColumnElement, CompoundSelect, Select, func, literal, or_, select, union, union_all
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
    (it splits words on anything else). Without one, counting a word's matches means a scan."""
    run = 0
    for ch in word:
        run = run + 1 if ch.isalnum() else 0
        if run >= 3:
            return True
    return False


def _like(col, word: str):
    return col.ilike(f"%{word}%", escape="\\")


def _affix(col, word: str) -> ColumnElement[bool]:
    """An identifier (ticket ref, order number) starts or ends with `word`, case-insensitively: the
    b-tree indexes of `types.affix_indexes` serve both on PostgreSQL (a trigram index cannot serve a
    ref or an order number well: every row shares most of their trigrams)."""
    low = word.lower()
    raw = re.sub(r"\\(.)", r"\1", low)  # the word as typed, its LIKE escapes undone
    backwards = raw[::-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
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
        select(Ticket.id).where(or_(_affix(Ticket.ref, word), _like(Ticket.description, word))),
        select(Message.ticket_id).where(_like(Message.body, word)),
        select(Ticket.id).join(Order, Order.id == Ticket.order_id).where(_affix(Order.order_no, word)),
        select(Ticket.id)
        .join(User, User.id == Ticket.customer_id)
        .where(or_(_like(User.email, word), _like(User.name, word))),
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
            return select(Ticket.id).where(or_(_affix(Ticket.ref, w), _like(Ticket.description, w)))
        if branch == "messages":
            return select(Message.ticket_id).where(_like(Message.body, w))
        if branch == "order_no":
            return select(Ticket.id).join(Order, Order.id == Ticket.order_id).where(_affix(Order.order_no, w))
        if branch == "customer":
            return (
                select(Ticket.id)
                .join(User, User.id == Ticket.customer_id)
                .where(or_(_like(User.email, w), _like(User.name, w)))
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
        serves: all for a word with trigrams, else only the merchants'."""
        if self._probed:
            return
        self._probed = True
        named = [select(literal(i).label("w"), _merchants_of(w.text).subquery().c[0]) for i, w in enumerate(self.words)]
        for i, merchant_id in db.session.execute(union_all(*named)):
            self.words[i].merchants.append(merchant_id)
        probes: list[Select] = []
        found: dict[tuple[int, int], list[int]] = {}
        for i, word in enumerate(self.words):
            for b, branch in enumerate(BRANCHES):
                if branch == "merchant" and not word.merchants:
                    word.listed[branch] = set()
                elif has_trigram(word.text) or branch in INDEXED_WITHOUT_TRIGRAMS:
                    sub = word.branch_ids(branch).limit(PROBE_LIMIT + 1).subquery()
                    probes.append(select(literal(i).label("w"), literal(b).label("b"), sub.c[0].label("id")))
                    found[i, b] = []
        if probes:
            for i, b, ticket_id in db.session.execute(union_all(*probes)):
                found[i, b].append(ticket_id)
        for (i, b), ids in found.items():
            if len(ids) <= PROBE_LIMIT:  # else that branch is checked row by row
                self.words[i].listed[BRANCHES[b]] = set(ids)
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


def _merchants_of(word: str) -> Select:
    return select(Merchant.id).where(or_(_like(Merchant.code, word), _like(Merchant.name, word)))
