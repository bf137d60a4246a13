"""Bulk actions on tickets selected in the queue: assign, request the same evidence, add a tag,
merge duplicates into one ticket.

Each ticket is its own transaction through the same service a single action uses — assign
(`services.assign_ticket`, audited as an `assigned` entry), the workflow (`apply_event`: one
audited transition per ticket; nothing else writes `ticket.state`) or `tags.add_tag` — so one
ticket failing (wrong state, someone else changed it first, not allowed) never undoes another.
The result says, per ticket, what happened and why not.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import User
from app.auth.permissions import can
from app.errors import DomainError, Forbidden, Invalid
from app.extensions import db
from app.tickets import services, tags
from app.tickets.models import Ticket
from app.workflow.labels import event_label
from app.workflow.service import apply_event

ACTIONS = ("assign", "request_evidence", "tag", "merge")
MAX_BULK = 100


@dataclass
class Outcome:
    ref: str
    ok: bool
    message: str


def _tickets(refs: list[str]) -> list[tuple[str, Ticket | None]]:
    """The selected tickets in the order given (None: no such ticket), loaded in one query."""
    refs = list(dict.fromkeys(r.strip().upper() for r in refs if r and r.strip()))
    if not refs:
        raise Invalid(str(_l("Select at least one ticket.")), fields={"refs": ["required"]})
    if len(refs) > MAX_BULK:
        raise Invalid(str(_l("At most %(n)s tickets at once.", n=MAX_BULK)), fields={"refs": [f"<= {MAX_BULK}"]})
    found = {t.ref: t for t in db.session.scalars(select(Ticket).where(Ticket.ref.in_(refs)))}
    return [(r, found.get(r)) for r in refs]


def run(
    actor: User,
    action: str,
    refs: list[str],
    *,
    assignee: User | None = None,
    items: list[str] | None = None,
    note: str | None = None,
    tag: str | None = None,
    into: str | None = None,
) -> list[Outcome]:
    """Apply `action` to each ticket of `refs`, one transaction each; the outcome of every ticket."""
    if not can(actor, "bulk_actions"):
        raise Forbidden(str(_l("Your role may not act on several tickets at once.")))
    if action not in ACTIONS:
        raise Invalid(str(_l("Unknown action.")), fields={"action": list(ACTIONS)})
    if action == "tag":
        tag = tags.clean_tag(tag)
    if action == "request_evidence" and not items:
        raise Invalid(str(_l("Name at least one item the customer should send.")), fields={"items": ["required"]})
    if action == "merge" and not (into or "").strip():
        raise Invalid(str(_l("Name the ticket to merge into (its ref).")), fields={"into": ["required"]})
    out: list[Outcome] = []
    for ref, ticket in _tickets(refs):
        if ticket is None:
            out.append(Outcome(ref, False, str(_l("No such ticket."))))
            continue
        try:
            out.append(Outcome(ref, True, _one(actor, action, ticket, assignee, items, note, tag, into)))
        except DomainError as exc:
            db.session.rollback()
            out.append(Outcome(ref, False, exc.message))
    return out


def _one(actor, action, ticket, assignee, items, note, tag, into) -> str:
    if action == "assign":
        if ticket.assignee_id == (assignee.id if assignee else None):
            return str(_l("already assigned to %(who)s", who=assignee.display_name if assignee else _l("nobody")))
        services.assign_ticket(ticket, assignee, actor)
        return str(_l("assigned to %(who)s", who=assignee.display_name if assignee else _l("nobody")))
    if action == "request_evidence":
        apply_event(ticket, "request_evidence", actor, items=list(items or []), reason=note)
        return event_label("request_evidence")
    if action == "tag":
        if tags.add_tag(ticket, tag or "", actor):
            return str(_l("tagged %(tag)s", tag=tag))
        return str(_l("already tagged %(tag)s", tag=tag))
    apply_event(ticket, "merge", actor, reason=note, payload={"into": into})
    return str(_l("merged into %(ref)s", ref=ticket_ref_of(into)))


def action_label(action: str) -> str:
    return str(
        {
            "assign": _l("Assign"),
            "request_evidence": _l("Request evidence"),
            "tag": _l("Add a tag"),
            "merge": _l("Merge into another ticket"),
        }.get(action, action)
    )


def ticket_ref_of(ref: str | None) -> str:
    return (ref or "").strip().upper()
