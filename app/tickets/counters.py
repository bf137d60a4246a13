"""Tickets per (state, kind, assignee), kept in step with the tickets table in the same transaction.

The queue's state chips and the staff home read these few thousand rows instead of a GROUP BY
over every ticket. Every ORM flush that inserts, deletes or changes a ticket's state, kind or
assignee adds its deltas here (`after_flush`), inside the flush's own transaction: a rollback
undoes both, a commit publishes both, so the counts are never stale — a reader sees exactly the
committed tickets. Writers that bypass the ORM (bulk COPY in bench/) call `rebuild_state_counts`.

Concurrency: each delta is one `INSERT .. ON CONFLICT DO UPDATE SET n = n + delta` on a row keyed
by (state, kind, assignee); rows are touched in sorted key order so two transactions cannot
deadlock on them. Transactions that file tickets of the same kind briefly queue on that row's
lock until they commit.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Integer, String, event, func, insert, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import get_history

from app.extensions import Model, db
from app.tickets.models import Ticket

UNASSIGNED = 0  # assignee_id of unassigned tickets (a key column cannot be NULL)
TRACKED = ("state", "kind", "assignee_id")


class TicketStateCount(Model):
    __tablename__ = "ticket_state_counts"

    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    assignee_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(default=0)


Key = tuple[str, str, int]


def _key(state: str, kind: str, assignee_id: int | None) -> Key:
    return (state, kind, assignee_id or UNASSIGNED)


def _old_and_new(ticket: Ticket) -> tuple[Key, Key]:
    old, new = [], []
    for name in TRACKED:
        hist = get_history(ticket, name)
        current = hist.added[0] if hist.added else (hist.unchanged[0] if hist.unchanged else getattr(ticket, name))
        new.append(current)
        old.append(hist.deleted[0] if hist.deleted else current)
    return _key(*old), _key(*new)


def _deltas(session: Session) -> Counter[Key]:
    deltas: Counter[Key] = Counter()
    for obj in session.new:
        if isinstance(obj, Ticket):
            deltas[_key(obj.state, obj.kind, obj.assignee_id)] += 1
    for obj in session.dirty:
        if isinstance(obj, Ticket) and session.is_modified(obj, include_collections=False):
            old, new = _old_and_new(obj)
            if old != new:
                deltas[old] -= 1
                deltas[new] += 1
    for obj in session.deleted:
        if isinstance(obj, Ticket):
            old, _new = _old_and_new(obj)
            deltas[old] -= 1
    return deltas


def _upsert(dialect_name: str):
    table = TicketStateCount.__table__
    mod = postgresql if dialect_name == "postgresql" else sqlite
    stmt = mod.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.state, table.c.kind, table.c.assignee_id], set_={"n": table.c.n + stmt.excluded.n}
    )


@event.listens_for(Session, "after_flush")
def _count_changes(session: Session, _flush_context) -> None:
    deltas = _deltas(session)
    if not any(deltas.values()):
        return
    conn = session.connection()
    stmt = _upsert(conn.dialect.name)
    for (state, kind, assignee_id), n in sorted(deltas.items()):
        if n:
            conn.execute(stmt, {"state": state, "kind": kind, "assignee_id": assignee_id, "n": n})


# The old value of a tracked attribute must be known when it changes, even if it was not loaded.
for _name in TRACKED:
    event.listen(getattr(Ticket, _name), "set", lambda *a: None, active_history=True)


def count_by_state(*, kind: str | None = None, assignee_id: int | None = None, unassigned: bool = False) -> dict:
    """{state: tickets} under the queue's filters, from the counters (one small query)."""
    c = TicketStateCount
    q = select(c.state, func.sum(c.n)).group_by(c.state)
    if kind:
        q = q.where(c.kind == kind)
    if assignee_id is not None:
        q = q.where(c.assignee_id == assignee_id)
    elif unassigned:
        q = q.where(c.assignee_id == UNASSIGNED)
    return {state: int(n) for state, n in db.session.execute(q) if n}


def rebuild_state_counts() -> None:
    """Recount from the tickets table (after writes that bypassed the ORM, e.g. a bulk load)."""
    c, t = TicketStateCount.__table__, Ticket.__table__
    who = func.coalesce(t.c.assignee_id, literal_column(str(UNASSIGNED)))
    db.session.execute(c.delete())
    db.session.execute(
        insert(c).from_select(
            ["state", "kind", "assignee_id", "n"],
            select(t.c.state, t.c.kind, who, func.count()).group_by(t.c.state, t.c.kind, who),
        )
    )
    db.session.commit()
