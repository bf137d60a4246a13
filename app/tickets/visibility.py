"""What a viewer may see of a ticket: the one rule used by the HTML pages, the API, e-mail and the public link.

Viewers (`viewer_of(user)`):
- ``staff`` (agent, finance, manager, admin): everything — every reason, internal notes, staff
  files, the fast-track rule with the facts it saw.
- ``platform`` (the shop's machine client, acting for its customers): what the customer sees,
  plus the fast-track rule's facts (the platform relays automatic decisions and may need them).
  It may show what it gets to the customer, so staff-only reasons and files stay out.
- ``customer`` (the ticket's customer, logged in or with a token) and ``public`` (the tracker
  link, no login; also the basis of customer e-mail): the reasons addressed to the customer
  (`CUSTOMER_REASONS`: a rejection's reason, what a resolution did, what evidence is asked for,
  why the ticket closed) and whatever the customer wrote; no internal notes; no staff files nor
  their audit entries; an automatic decision in plain words (`policies.explain`), without the raw
  facts.
- ``merchant`` (a merchant user, on its own merchant's tickets only — app/merchants/access.py):
  what the customer sees (public messages, customer-side files; images only as metadata-stripped
  copies), plus the reasons the merchant side wrote itself; never internal notes, staff files or
  staff-only reasons. Any other role sees what the public link sees.

Everything new is hidden from customers by default: an event's reason reaches them only when the
event is listed in `CUSTOMER_REASONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from app.auth.permissions import can

if TYPE_CHECKING:
    from app.auth.models import User
    from app.evidence.models import Evidence
    from app.tickets.models import Message, Ticket
    from app.workflow.models import TicketEvent

Viewer = Literal["staff", "platform", "customer", "merchant", "public"]

# Events whose reason is written for the customer (the design: "reject: reason required, shown to
# the customer"; resolve says what was done; request_evidence what is needed; expire why it closed).
CUSTOMER_REASONS = frozenset({"reject", "resolve", "request_evidence", "expire"})
# Audit entries about staff-only material (their payload says `staff: true`).
STAFF_MATERIAL_EVENTS = frozenset({"evidence_added", "tag_added", "assigned"})


def viewer_of(user: User | None) -> Viewer:
    """The viewer class of `user`; None (no login, e.g. the tracker link) is ``public``."""
    if can(user, "staff"):
        return "staff"
    if can(user, "platform_view"):
        return "platform"
    if can(user, "own_tickets"):
        return "customer"
    if can(user, "merchant_tickets"):
        return "merchant"
    return "public"


def sees_internal(viewer: Viewer) -> bool:
    """Internal notes, staff-only reasons and staff files."""
    return viewer == "staff"


def sees_fast_track_facts(viewer: Viewer) -> bool:
    return viewer in ("staff", "platform")


def reason_visible(viewer: Viewer, event: str, actor_role: str | None) -> bool:
    """May `viewer` read the reason written with `event` by someone acting as `actor_role`?"""
    return (
        sees_internal(viewer)
        or event in CUSTOMER_REASONS
        or actor_role == "customer"
        or (viewer == "merchant" and actor_role == "merchant")
    )


def entry_visible(viewer: Viewer, event: TicketEvent) -> bool:
    """May `viewer` see this timeline entry at all? (Staff-only material is left out for others.)"""
    if sees_internal(viewer) or event.event not in STAFF_MATERIAL_EVENTS:
        return True
    return not (event.payload or {}).get("staff")


@dataclass(frozen=True)
class FastTrack:
    """An automatic decision: the rule, its plain-word explanation, and (for some viewers) its facts."""

    rule: str
    explanation: str
    facts: dict[str, Any] | None = None


@dataclass(frozen=True)
class Entry:
    """One timeline entry as a viewer sees it."""

    event: str
    from_state: str | None
    to_state: str
    actor_role: str
    reason: str | None
    at: datetime
    fast_track: FastTrack | None = None


def _fast_track(rule: str, facts: dict[str, Any] | None, ticket: Ticket, viewer: Viewer) -> FastTrack:
    from app.workflow.policies import explain

    return FastTrack(
        rule=rule,
        explanation=explain(ticket),
        facts=dict(facts or {}) if sees_fast_track_facts(viewer) else None,
    )


def fast_track(ticket: Ticket, viewer: Viewer) -> FastTrack | None:
    """The fast-track rule that decided `ticket` (None when no rule fired), as `viewer` may see it."""
    if not ticket.fast_track_rule:
        return None
    return _fast_track(ticket.fast_track_rule, ticket.fast_track_facts, ticket, viewer)


def timeline(ticket: Ticket, events: list[TicketEvent], viewer: Viewer) -> list[Entry]:
    """The ticket's audit trail as `viewer` may see it: hidden entries left out, hidden reasons None."""
    out = []
    for e in events:
        if not entry_visible(viewer, e):
            continue
        payload = e.payload or {}
        rule = payload.get("rule") if e.actor_role == "system" else None
        out.append(
            Entry(
                event=e.event,
                from_state=e.from_state,
                to_state=e.to_state,
                actor_role=e.actor_role,
                reason=e.reason if reason_visible(viewer, e.event, e.actor_role) else None,
                at=e.created_at,
                fast_track=_fast_track(rule, payload.get("facts"), ticket, viewer) if rule else None,
            )
        )
    return out


def ending_reason(events: list[TicketEvent], viewer: Viewer) -> str | None:
    """The reason of the transition that ended the ticket (reject, resolve, …), if `viewer` may read it."""
    for e in reversed(events):
        if e.from_state != e.to_state:
            return e.reason if reason_visible(viewer, e.event, e.actor_role) else None
    return None


def file_visible(viewer: Viewer, ev: Evidence) -> bool:
    return sees_internal(viewer) or not ev.is_staff


def evidence(files: list[Evidence], viewer: Viewer) -> list[Evidence]:
    """The evidence files `viewer` may see (staff files only for staff)."""
    return [ev for ev in files if file_visible(viewer, ev)]


def messages(ticket: Ticket, viewer: Viewer) -> list[Message]:
    """The ticket's messages `viewer` may read (internal notes only for staff), oldest first."""
    from app.tickets.queries import messages as query

    return query(ticket.id, include_internal=sees_internal(viewer))
