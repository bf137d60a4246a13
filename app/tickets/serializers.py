"""Orders and tickets in the API: what each response is made of, dumped by the schemas of
app/tickets/schemas.py (the only list of output fields; the OpenAPI document is built from them).

`TicketView` holds what the schema reads beyond the ticket's own columns — computed for one
viewer at one moment, and filtered by `visibility` (the one rule of what a viewer may see).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.api_support import dump
from app.extensions import db
from app.sla.clock import sla_status
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


class TicketView:
    """A ticket as one viewer sees it now: the Ticket schemas read its attributes."""

    def __init__(self, ticket: Ticket, user, *, full: bool = True, now: datetime | None = None):
        self._ticket, self._user, self._full = ticket, user, full
        self._now = now or utcnow()
        self._viewer = visibility.viewer_of(user)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ticket, name)

    @property
    def state_label(self) -> str:
        return state_label(self._ticket.state)

    @property
    def order(self) -> OrderView:
        return OrderView(self._ticket.order, full=self._full)

    @property
    def allowed_events(self) -> list[str]:
        return allowed_events(self._ticket, self._user, self._now)

    @property
    def sla(self) -> dict:
        return sla_status(self._ticket, self._now)

    @property
    def tracker_url(self) -> str:
        return tracker_url(self._ticket)

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
    now = utcnow()
    items = [TicketView(t, user, full=False, now=now) for t in tickets]
    return dump(TicketPageSchema, {"items": items, "next_cursor": next_cursor})
