"""After `merchant_reissue`: the customer sees the new delivery and says whether it works.

The merchant's reissue note (e.g. a replacement card key) is addressed to the customer: the
logged-in customer, the merchant and staff read it — never the public tracker link, since a card
key is as good as money. The customer answers once per reissue ("it works" / "it does not"): an
audit entry `reissue_feedback` on the ticket's hash chain plus a public message in the
conversation, so the agent — who decides — sees it where they read replies.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from app.auth.models import User
from app.auth.permissions import can
from app.errors import Conflict, Forbidden, NotAllowed
from app.extensions import db
from app.tickets.models import Message, Ticket
from app.types import utcnow

MAX_NOTE = 1000


def _last_reissue(events) -> int | None:
    """Index of the newest merchant_reissue in `events` (oldest first), if any."""
    for i in range(len(events) - 1, -1, -1):
        if events[i].event == "merchant_reissue":
            return i
    return None


def reissue_note(events, viewer: str) -> str | None:
    """The newest reissue's delivery note, for the viewers it is addressed to (not the public link)."""
    if viewer not in ("customer", "merchant", "staff", "platform"):
        return None
    i = _last_reissue(events)
    return str((events[i].payload or {}).get("note") or "") or None if i is not None else None


def feedback_open(ticket: Ticket, events) -> bool:
    """In review after a reissue, and the customer has not yet said whether it works."""
    i = _last_reissue(events)
    return (
        ticket.state == "review" and i is not None and not any(e.event == "reissue_feedback" for e in events[i + 1 :])
    )


def give_feedback(ticket: Ticket, user: User, works: bool, note: str = "", now: datetime | None = None) -> Message:
    """The ticket's customer says whether the replacement works. Commits; once per reissue."""
    from app.notifications import causes
    from app.tickets.queries import timeline
    from app.workflow.events import record_entry

    now = now or utcnow()
    if not can(user, "own_tickets") or user.id != ticket.customer_id:
        raise Forbidden(str(_l("Only the ticket's customer can say whether the replacement works.")))
    db.session.refresh(ticket, with_for_update=True)  # one answer at a time per ticket
    if not feedback_open(ticket, timeline(ticket.id)):
        db.session.rollback()
        raise NotAllowed(str(_l("There is no replacement waiting for your answer.")))
    note = " ".join((note or "").split())[:MAX_NOTE]
    with force_locale(user.locale or "zh_Hans_CN"):  # the message is the customer's own words
        body = _("The replacement works.") if works else _("The replacement does not work.")
    if note:
        body = f"{body} {note}"
    try:
        record_entry(
            ticket,
            "reissue_feedback",
            actor_id=user.id,
            actor_role=user.role,
            reason=note or None,
            payload={"works": works},
            at=now,
        )
        msg = Message(ticket_id=ticket.id, author_id=user.id, body=body, internal=False, created_at=now)
        db.session.add(msg)
        causes.message_posted(ticket, msg, user)  # the agent hears about it like any reply
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(str(_l("Someone else changed this ticket first. Reload and try again.")))
    return msg
