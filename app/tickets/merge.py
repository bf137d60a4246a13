"""Merging a duplicate request into another ticket: the `merge` row's check and effect
(app/workflow/machine.py). The duplicate is closed by the workflow; both tickets keep a link.

The target (`payload["into"]`, a ticket ref) must be another open ticket of the same customer.
The duplicate's `merge` event records `into`; in the same transaction the target gets a
`merged_from` audit entry naming the duplicate — so each ticket's timeline links to the other
and a failure leaves both unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.errors import Invalid
from app.extensions import db
from app.tickets.models import Ticket

if TYPE_CHECKING:
    from app.workflow.machine import EventContext

OPEN = ("submitted", "merchant", "evidence", "review", "finance")  # machine.OPEN_STATES (not imported: no cycle)


def check_merge_target(ctx: EventContext) -> None:
    """`into` names another open ticket of the same customer."""
    ref = str(ctx.payload.get("into") or "").strip().upper()
    target = db.session.scalar(select(Ticket).where(Ticket.ref == ref)) if ref and len(ref) <= 24 else None
    if target is None:
        raise Invalid(str(_l("Name the ticket to merge into (its ref).")), fields={"into": ["unknown ticket"]})
    if target.id == ctx.ticket.id:
        raise Invalid(str(_l("A ticket cannot be merged into itself.")), fields={"into": ["same ticket"]})
    if target.customer_id != ctx.ticket.customer_id:
        raise Invalid(
            str(_l("Only a request of the same customer can be merged into %(ref)s.", ref=target.ref)),
            fields={"into": ["another customer"]},
        )
    if target.state not in OPEN:
        raise Invalid(str(_l("%(ref)s is not open any more.", ref=target.ref)), fields={"into": ["not open"]})
    ctx.payload["into"] = target.ref
    ctx.payload["into_id"] = target.id


def link_merge(ctx: EventContext) -> None:
    """The target's `merged_from` entry (same transaction). The agent's note stays on the audit
    entries (staff only); nothing is written for the customer to read."""
    from app.workflow.events import record_entry

    target = db.session.get_one(Ticket, ctx.payload["into_id"])
    record_entry(
        target,
        "merged_from",
        actor_id=getattr(ctx.user, "id", None),
        actor_role=ctx.role,
        reason=ctx.reason,
        payload={"from": ctx.ticket.ref},
        at=ctx.now,
    )
