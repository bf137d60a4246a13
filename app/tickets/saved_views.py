"""Saved views of the staff queue: named filters with live counts, personal or shared.

A view stores the queue's filters (state, kind, SLA status, assignee, merchant code, marker:
"customer replied", "appealed", "urged", "escalated" above the approval limit; the order's product
type and payment channel). Anyone with `saved_views` keeps personal
views; `shared_views` (managers) create, rename and delete the shared ones everyone with the
queue sees. Nobody else's personal view is visible or editable.

Counts, without scanning the tickets table at 1,000,000 tickets:

- a view filtering only on state, kind and assignee is summed from the maintained counters
  (app/tickets/counters.py: a few thousand rows, exact, read once for all such views);
- any other view (SLA status, merchant, a marker) is counted by a bounded query: the view's
  filter, served by an index (the SLA status by `ix_tickets_sla_due_at`: only tickets whose
  current deadline passed or is near; a marker by its partial index in app/tickets/activity.py:
  only tickets carrying it; the merchant by `ix_tickets_merchant_queue`: tickets.merchant_id;
  the product type and channel by each ticket's order, by primary key, no index of their own),
  stopped after COUNT_CAP + 1 rows (`SELECT count(*) FROM (… LIMIT 1001)`), shown as "1000+".
  At most MAX_VIEWS personal + MAX_VIEWS shared views are listed, so a queue page asks at most
  that many such counts, each reading at most COUNT_CAP + 1 index entries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from app.auth.models import User
from app.auth.permissions import can
from app.errors import Forbidden, Invalid, NotFound
from app.extensions import Model, db
from app.tickets.counters import UNASSIGNED, TicketStateCount
from app.tickets.models import KINDS, PAYMENT_CHANNELS, PRODUCT_TYPES, Ticket
from app.types import UTCDateTime, utcnow
from app.workflow.machine import STATES

COUNT_CAP = 1000
MAX_VIEWS = 20
FILTER_KEYS = ("state", "kind", "who", "sla", "merchant", "flag", "product_type", "channel")
SLA_CHOICES = ("warning", "breached")
FLAGS = ("replied", "appealed", "urged", "escalated")
COUNTER_KEYS = frozenset({"state", "kind", "who"})  # what the counters can answer


class SavedView(Model):
    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    shared: Mapped[bool] = mapped_column(default=False)
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_saved_views_owner_id", "owner_id", "shared"),)


def clean_filters(raw: dict[str, Any]) -> dict[str, str]:
    """The queue filters a view keeps, validated (unknown keys dropped; bad values refused)."""
    out: dict[str, str] = {}
    for key in FILTER_KEYS:
        value = str(raw.get(key) or "").strip()
        if not value or (key == "who" and value == "all"):
            continue
        ok = {
            "state": value in STATES and value != "new",
            "kind": value in KINDS,
            "who": value in ("mine", "unassigned") or (value.isascii() and value.isdigit() and len(value) <= 9),
            "sla": value in SLA_CHOICES,
            "merchant": len(value) <= 64,
            "flag": value in FLAGS,
            "product_type": value in PRODUCT_TYPES,
            "channel": value in PAYMENT_CHANNELS,
        }[key]
        if not ok:
            raise Invalid(str(_l("Some filters are invalid.")), fields={key: ["invalid"]})
        out[key] = value
    return out


def visible_views(user: User) -> list[SavedView]:
    """The user's own views, then the shared ones (one query)."""
    q = (
        select(SavedView)
        .where(or_(SavedView.owner_id == user.id, SavedView.shared.is_(True)))
        .order_by(SavedView.shared, SavedView.name, SavedView.id)
        .limit(2 * MAX_VIEWS)
    )
    return list(db.session.scalars(q))


def get_view(view_id: int, user: User) -> SavedView:
    view = db.session.get(SavedView, view_id)
    if view is None or not (view.shared or view.owner_id == user.id):
        raise NotFound(str(_l("No such view.")))
    return view


def _may_edit(view: SavedView, user: User) -> bool:
    return can(user, "shared_views") if view.shared else view.owner_id == user.id


def create_view(user: User, name: str, filters: dict[str, Any], shared: bool = False) -> SavedView:
    if not can(user, "saved_views"):
        raise Forbidden(str(_l("Your account cannot save views.")))
    if shared and not can(user, "shared_views"):
        raise Forbidden(str(_l("Only managers create shared views.")))
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise Invalid(str(_l("Give the view a name (up to 80 characters).")), fields={"name": ["required"]})
    mine = db.session.scalar(
        select(func.count(SavedView.id)).where(SavedView.owner_id == user.id, SavedView.shared.is_(shared))
    )
    if (mine or 0) >= MAX_VIEWS:
        raise Invalid(str(_l("At most %(n)s views each; delete one first.", n=MAX_VIEWS)), fields={"name": ["limit"]})
    view = SavedView(name=name, owner_id=user.id, shared=shared, filters=clean_filters(filters))
    db.session.add(view)
    db.session.commit()
    return view


def rename_view(view_id: int, user: User, name: str) -> SavedView:
    view = get_view(view_id, user)
    if not _may_edit(view, user):
        raise Forbidden(str(_l("Only managers change shared views.")))
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise Invalid(str(_l("Give the view a name (up to 80 characters).")), fields={"name": ["required"]})
    view.name = name
    db.session.commit()
    return view


def delete_view(view_id: int, user: User) -> None:
    view = get_view(view_id, user)
    if not _may_edit(view, user):
        raise Forbidden(str(_l("Only managers change shared views.")))
    db.session.delete(view)
    db.session.commit()


def _counter_sum(rows: list[tuple[str, str, int, int]], f: dict[str, str], user: User) -> int:
    who = f.get("who")
    target = {"mine": user.id, "unassigned": UNASSIGNED}.get(who or "", int(who) if who and who.isdigit() else None)
    return sum(
        n
        for state, kind, assignee, n in rows
        if (not f.get("state") or state == f["state"])
        and (not f.get("kind") or kind == f["kind"])
        and (target is None or assignee == target)
    )


def _bounded_count(f: dict[str, str], user: User) -> int:
    from app.tickets.services import filtered_tickets

    ids = filtered_tickets(user, select(Ticket.id), **queue_kwargs(f)).limit(COUNT_CAP + 1)
    return int(db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0)


def queue_kwargs(f: dict[str, str]) -> dict[str, Any]:
    """A view's filters as list_tickets' keyword arguments."""
    who = f.get("who")
    return {
        "state": f.get("state") or None,
        "kind": f.get("kind") or None,
        "assignee": {"mine": "me", "unassigned": "none", "all": None}.get(who or "", who or None),
        "sla": f.get("sla") or None,
        "merchant": f.get("merchant") or None,
        "flag": f.get("flag") or None,
        "product_type": f.get("product_type") or None,
        "channel": f.get("channel") or None,
    }


def builtin_views(user: User) -> list[SavedView]:
    """Views every user of a role has without saving them: managers, the tickets agents escalated
    above their approval limit (not stored; `id` None)."""
    if can(user, "escalations"):
        return [SavedView(id=None, name=str(_l("Escalated to managers")), shared=True, filters={"flag": "escalated"})]
    return []


def with_counts(views: list[SavedView], user: User) -> list[tuple[SavedView, int, bool]]:
    """(view, count, capped) for each view: counters where they answer, else a bounded query."""
    rows: list[tuple[str, str, int, int]] | None = None
    out = []
    for view in views:
        f = view.filters or {}
        if set(f) <= COUNTER_KEYS:
            if rows is None:
                c = TicketStateCount
                rows = [
                    (r[0], r[1], r[2], r[3]) for r in db.session.execute(select(c.state, c.kind, c.assignee_id, c.n))
                ]
            out.append((view, _counter_sum(rows, f, user), False))
        else:
            n = _bounded_count(f, user)
            out.append((view, min(n, COUNT_CAP), n > COUNT_CAP))
    return out
