"""Requested evidence items: created by `request_evidence`, checked by `provide_evidence`.

Both run as workflow checks (see hooks.py) inside the transition's transaction.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.errors import Invalid
from app.evidence.checklists import free_text_code, known_item
from app.evidence.models import Evidence, EvidenceRequestItem
from app.extensions import db

MAX_ITEMS = 20
MAX_LABEL = 500


def item_label(item: EvidenceRequestItem) -> str:
    """The item's label in the current locale (checklist items) or the agent's words."""
    known = known_item(item.code)
    return str(known.label) if known is not None else (item.label or item.code)


def item_hint(item: EvidenceRequestItem) -> str:
    known = known_item(item.code)
    return str(known.hint) if known is not None else ""


def current_round(ticket_id: int) -> int:
    return (
        db.session.scalar(
            select(func.coalesce(func.max(EvidenceRequestItem.round), 0)).where(
                EvidenceRequestItem.ticket_id == ticket_id
            )
        )
        or 0
    )


def current_items(ticket_id: int) -> list[EvidenceRequestItem]:
    """The items of the latest request round (what the customer is asked for now), in order."""
    rnd = current_round(ticket_id)
    if not rnd:
        return []
    return list(
        db.session.scalars(
            select(EvidenceRequestItem)
            .where(EvidenceRequestItem.ticket_id == ticket_id, EvidenceRequestItem.round == rnd)
            .order_by(EvidenceRequestItem.id)
        )
    )


def find_item(ticket_id: int, code: str | None) -> EvidenceRequestItem | None:
    """The current-round item named by `code` (its code, or its id as a string); None for no code."""
    code = (code or "").strip()
    if not code:
        return None
    for item in current_items(ticket_id):
        if item.code == code or str(item.id) == code:
            return item
    raise Invalid(str(_l("This ticket has no open request for that item.")), fields={"item": [code]})


def _parse_items(raw) -> list[tuple[str, str | None]]:
    if not isinstance(raw, (list, tuple)):
        raw = []
    parsed: dict[str, str | None] = {}
    for value in raw:
        if not isinstance(value, str):
            raise Invalid(str(_l("Evidence items must be text.")), fields={"items": ["strings"]})
        value = " ".join(value.split())
        if not value:
            continue
        if len(value) > MAX_LABEL:
            raise Invalid(
                str(_l("An evidence item is too long (at most %(n)s characters).", n=MAX_LABEL)),
                fields={"items": [f"max {MAX_LABEL}"]},
            )
        if known_item(value) is not None:
            parsed.setdefault(value, None)
        else:
            parsed.setdefault(free_text_code(value), value)
    if not parsed:
        raise Invalid(str(_l("Name at least one evidence item to request.")), fields={"items": [str(_l("Required."))]})
    if len(parsed) > MAX_ITEMS:
        raise Invalid(
            str(_l("Ask for at most %(n)s items at once.", n=MAX_ITEMS)), fields={"items": [f"max {MAX_ITEMS}"]}
        )
    return list(parsed.items())


def sent_codes(ticket_id: int) -> set[str]:
    """The checklist items the customer already sent a file for (at filing or in an earlier round)."""
    return set(
        db.session.scalars(
            select(Evidence.item_code).where(
                Evidence.ticket_id == ticket_id, Evidence.is_staff.is_(False), Evidence.item_code.is_not(None)
            )
        )
    )


def create_request_items(ctx) -> None:
    """Check for `request_evidence`: ctx.items (checklist codes or free text) become a new round.

    An item the customer already sent a file for counts as provided at once: it is not asked again."""
    parsed = _parse_items(ctx.items)
    rnd = current_round(ctx.ticket.id) + 1
    sent = sent_codes(ctx.ticket.id)
    for code, label in parsed:
        db.session.add(
            EvidenceRequestItem(
                ticket_id=ctx.ticket.id,
                round=rnd,
                code=code,
                label=label,
                requested_by_id=getattr(ctx.user, "id", None),
                requested_at=ctx.now,
                satisfied_at=ctx.now if code in sent else None,
            )
        )


def require_items_provided(ctx) -> None:
    """Check for `provide_evidence`: every requested item has a file or a written answer."""
    missing = [i for i in current_items(ctx.ticket.id) if i.satisfied_at is None]
    if missing:
        names = "; ".join(item_label(i) for i in missing)
        raise Invalid(
            str(_l("Still missing: %(items)s. Upload a file or write why you cannot provide it.", items=names)),
            fields={"items": [i.code for i in missing]},
        )
