"""Ticket search for staff: ref, order number, customer e-mail or name, merchant, and words of the
description and messages.

Each word must match (AND); a word matches a ticket when it appears in any of those fields
(case-insensitive substring, so it works for Chinese without a word segmenter). The matching ids
come from a UNION of one branch per field, each served by its own index: on PostgreSQL trigram GIN
indexes (`pg_trgm`, see the models' `ix_trgm_*`), which serve `ILIKE '%word%'` for words of three
characters or more; shorter words (e.g. a two-character Chinese word) still match, by scanning.
SQLite falls back to LIKE scans. `bench/search_bench.py` measures it at 1,000,000 tickets.
"""

from __future__ import annotations

from sqlalchemy import CompoundSelect, Select, or_, select, union

from app.auth.models import User
from app.tickets.models import Merchant, Message, Order, Ticket

MAX_WORDS = 5
MAX_WORD_LENGTH = 100


def words(q: str) -> list[str]:
    """The words of a query (at most MAX_WORDS, each cut to MAX_WORD_LENGTH); LIKE wildcards are literal."""
    out = []
    for w in q.split()[:MAX_WORDS]:
        w = w[:MAX_WORD_LENGTH]
        out.append(w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    return out


def _like(col, word: str):
    return col.ilike(f"%{word}%", escape="\\")


def _ids_matching(word: str) -> CompoundSelect:
    """Ids of the tickets one word matches, one index-served branch per field."""
    return union(
        select(Ticket.id).where(or_(_like(Ticket.ref, word), _like(Ticket.description, word))),
        select(Message.ticket_id).where(_like(Message.body, word)),
        select(Ticket.id).join(Order, Order.id == Ticket.order_id).where(_like(Order.order_no, word)),
        select(Ticket.id)
        .join(User, User.id == Ticket.customer_id)
        .where(or_(_like(User.email, word), _like(User.name, word))),
        select(Ticket.id)
        .join(Order, Order.id == Ticket.order_id)
        .join(Merchant, Merchant.id == Order.merchant_id)
        .where(or_(_like(Merchant.code, word), _like(Merchant.name, word))),
    )


def filter_by_text(query: Select, q: str | None) -> Select:
    """`query` (over Ticket) narrowed to the tickets matching every word of `q`."""
    for word in words(q or ""):
        query = query.where(Ticket.id.in_(select(_ids_matching(word).subquery().c[0])))
    return query
