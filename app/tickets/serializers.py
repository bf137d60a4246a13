"""Orders and tickets in the API: what each response is made of, dumped by the schemas of
app/tickets/schemas.py (the only list of output fields; the OpenAPI document is built from them).

`TicketView` holds what the schema reads beyond the ticket's own columns — computed for one
viewer at one moment, and filtered by `visibility` (the one rule of what a viewer may see).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from app.api_support import dump
from app.extensions import db
from app.sla.calendar import BusinessCalendar
from app.sla.clock import get_calendar, sla_status
from app.tickets import visibility
from app.tickets.models import Order, Ticket
from app.tickets.schemas import OrderSchema, TicketPageSchema, TicketSchema, TicketSummarySchema
from app.types import utcnow
from app.urls import public_url
from app.workflow.labels import state_label
from app.workflow.models import TicketEvent
from app.workflow.policies import refundable_balance
from app.workflow.service import allowed_events


@dataclass(frozen=True)
class Membership:
    activated_at: datetime | None
    term_days: int | None
    benefits_used_cents: int


class OrderView:
    """An order as the Order schema reads it (`refundable_cents` is computed only when `full`)."""

    def __init__(self, order: Order, *, full: bool = True):
        self._order, self._full = order, full

    def __getattr__(self, name: str) -> Any:
        return getattr(self._order, name)

    @property
    def refundable_cents(self) -> int | None:
        return refundable_balance(self._order) if self._full else None

    @property
    def membership(self) -> Membership | None:
        o = self._order
        if o.product_type != "membership" and not o.membership_term_days:
            return None
        return Membership(o.membership_activated_at, o.membership_term_days, o.membership_benefits_used_cents or 0)


class Viewing:
    """What every ticket of one answer shares: the viewer, the moment, the calendar, and what is
    the same for every ticket in a state or for every token — worked out once per answer, not per
    ticket (a list page has 25 tickets, most in two or three states)."""

    def __init__(self, user, now: datetime | None = None):
        self.user, self.now = user, now or utcnow()
        self.viewer = visibility.viewer_of(user)
        self._calendar: BusinessCalendar | None = None
        self._labels: dict[str, str] = {}
        self._tracker: tuple[str, str] | None = None

    @property
    def calendar(self) -> BusinessCalendar:
        if self._calendar is None:  # asked for only by a ticket whose clock runs (as sla_status does)
            self._calendar = get_calendar()
        return self._calendar

    def state_label(self, state: str) -> str:
        label = self._labels.get(state)
        if label is None:
            label = self._labels[state] = state_label(state)
        return label

    def tracker_url(self, ticket: Ticket) -> str:
        """`tracker_url(ticket)`: for a token of URL-safe characters (every token: token_urlsafe)
        the route's URL around it, built once; anything else is built by the router."""
        token = ticket.tracker_token
        if self._tracker is None:
            built = public_url("tickets.tracker", token=_TOKEN_SLOT)
            head, sep, tail = built.partition(_TOKEN_SLOT)
            self._tracker = (head, tail) if sep and _TOKEN_SLOT not in tail else ("", "")
        head, tail = self._tracker
        if head and token and _URL_SAFE.fullmatch(token):
            return head + token + tail  # what the router writes: these characters are never quoted
        return tracker_url(ticket)


_TOKEN_SLOT = "T0kenSl0t"
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


class TicketView:
    """A ticket as one viewer sees it now: the Ticket schemas read its attributes."""

    def __init__(self, ticket: Ticket, user, *, full: bool = True, now: datetime | None = None, viewing=None):
        self._ticket, self._user, self._full = ticket, user, full
        self._viewing: Viewing = viewing or Viewing(user, now)
        self._now = self._viewing.now
        self._viewer = self._viewing.viewer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ticket, name)

    @property
    def state_label(self) -> str:
        return self._viewing.state_label(self._ticket.state)

    @property
    def order(self) -> OrderView:
        return OrderView(self._ticket.order, full=self._full)

    @property
    def allowed_events(self) -> list[str]:
        return allowed_events(self._ticket, self._user, self._now)

    @property
    def sla(self) -> dict:
        viewing = self._viewing
        return sla_status(self._ticket, self._now, viewing.calendar if self._ticket.sla_due_at is not None else None)

    @property
    def tracker_url(self) -> str:
        return self._viewing.tracker_url(self._ticket)

    @property
    def fast_track(self) -> visibility.FastTrack | None:
        return visibility.fast_track(self._ticket, self._viewer)

    @property
    def timeline(self) -> list[visibility.Entry]:
        return visibility.timeline(self._ticket, timeline(self._ticket), self._viewer)

    @property
    def evidence_items(self) -> list:
        from app.evidence.services import requested_items

        return requested_items(self._ticket)

    @property
    def evidence(self) -> list:
        from app.evidence.services import evidence_for

        return visibility.evidence(evidence_for(self._ticket), self._viewer)


def _read_through(view: type, source: str, model: type) -> None:
    """Give `view` a property for every column attribute of `model` it does not define itself,
    reading it from the wrapped object (`view.<source>`): what `__getattr__` does, without a failed
    lookup first (the schemas read ~25 of them per ticket of a list). Relationships and anything
    else still go through `__getattr__`."""
    for column in model.__table__.columns:  # type: ignore[attr-defined]
        key = column.key
        if isinstance(getattr(model, key, None), InstrumentedAttribute) and not hasattr(view, key):
            setattr(view, key, property(attrgetter(f"{source}.{key}")))


_read_through(OrderView, "_order", Order)
_read_through(TicketView, "_ticket", Ticket)


def timeline(ticket: Ticket) -> list[TicketEvent]:
    return list(
        db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.seq))
    )


def tracker_url(ticket: Ticket) -> str:
    return public_url("tickets.tracker", token=ticket.tracker_token)


def order_json(order: Order, *, full: bool = True) -> dict:
    return dump(OrderSchema, OrderView(order, full=full))


def ticket_json(ticket: Ticket, user, *, with_timeline: bool = True) -> dict:
    """The Ticket (with timeline and evidence) or, for list pages, the TicketSummary of `ticket` for `user`."""
    schema = TicketSchema if with_timeline else TicketSummarySchema
    return dump(schema, TicketView(ticket, user, full=with_timeline))


def ticket_page_json(tickets: list[Ticket], user, next_cursor: str | None) -> dict:
    viewing = Viewing(user)
    items = [TicketView(t, user, full=False, viewing=viewing) for t in tickets]
    return dump(TicketPageSchema, {"items": items, "next_cursor": next_cursor})
