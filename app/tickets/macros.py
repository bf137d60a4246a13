"""Macros: canned replies agents insert into the reply box of the ticket page.

Written by managers and admins (`manage_macros`) on /macros: a name, the language it is written
in (zh or en: the customer reads it as written), the ticket kind it is for (or every kind) and the
text. Placeholders, filled in for the ticket at hand when the page is shown:

- ``{customer_name}``: the customer's display name;
- ``{ref}``: the ticket's ref;
- ``{amount}``: the approved amount if any, else the requested amount, in yuan (¥12.34);
- ``{due}``: the current deadline (the evidence window, else the SLA deadline), in Shanghai time.

Anything else in braces is left as written (no format-string evaluation: each placeholder is one
plain replacement).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from app.auth.models import User
from app.auth.permissions import can
from app.errors import Forbidden, Invalid, NotFound
from app.extensions import Model, db
from app.i18n import local_time, money
from app.tickets.models import KINDS, Ticket
from app.types import UTCDateTime, utcnow

LANGUAGES = ("zh", "en")
PLACEHOLDERS = ("{customer_name}", "{ref}", "{amount}", "{due}")
MAX_MACROS = 200


class Macro(Model):
    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(5))
    kind: Mapped[str | None] = mapped_column(String(30))  # None: every kind
    body: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def render(body: str, ticket: Ticket) -> str:
    amount = ticket.approved_amount_cents if ticket.approved_amount_cents is not None else ticket.requested_amount_cents
    due = ticket.evidence_due_at if ticket.state == "evidence" else ticket.sla_due_at
    values = {
        "{customer_name}": ticket.customer.display_name,
        "{ref}": ticket.ref,
        "{amount}": money(amount),
        "{due}": local_time(due) if due else "",
    }
    for key, value in values.items():
        body = body.replace(key, value)
    return body


def for_ticket(ticket: Ticket) -> list[tuple[Macro, str]]:
    """The macros for the ticket's kind (and every kind), each rendered for it (one query)."""
    q = (
        select(Macro)
        .where(or_(Macro.kind.is_(None), Macro.kind == ticket.kind))
        .order_by(Macro.language, Macro.name)
        .limit(MAX_MACROS)
    )
    return [(m, render(m.body, ticket)) for m in db.session.scalars(q)]


def all_macros() -> list[Macro]:
    return list(db.session.scalars(select(Macro).order_by(Macro.kind, Macro.language, Macro.name).limit(MAX_MACROS)))


def _clean(name: str, language: str, kind: str | None, body: str) -> tuple[str, str, str | None, str]:
    name, body, kind = (name or "").strip(), (body or "").strip(), (kind or None)
    if not name or len(name) > 80:
        raise Invalid(str(_l("Give the macro a name (up to 80 characters).")), fields={"name": ["required"]})
    if language not in LANGUAGES:
        raise Invalid(str(_l("Choose the language the macro is written in.")), fields={"language": list(LANGUAGES)})
    if kind is not None and kind not in KINDS:
        raise Invalid(str(_l("Unknown ticket kind.")), fields={"kind": list(KINDS)})
    if not body or len(body) > 4000:
        raise Invalid(str(_l("Write the reply (up to 4000 characters).")), fields={"body": ["required"]})
    return name, language, kind, body


def _require(user: User) -> None:
    if not can(user, "manage_macros"):
        raise Forbidden(str(_l("Only managers and admins write macros.")))


def save_macro(user: User, name: str, language: str, kind: str | None, body: str, macro_id: int | None = None) -> Macro:
    _require(user)
    name, language, kind, body = _clean(name, language, kind, body)
    if macro_id is None:
        macro = Macro()
        db.session.add(macro)
    else:
        found = db.session.get(Macro, macro_id)
        if found is None:
            raise NotFound(str(_l("No such macro.")))
        macro = found
    macro.name, macro.language, macro.kind, macro.body = name, language, kind, body
    macro.updated_by_id, macro.updated_at = user.id, utcnow()
    db.session.flush()
    from app.admin.services import record  # the audit log of admin actions (macros are written by managers and admins)

    record(user, "macro_saved", "macro", macro.id, name, language=language, kind=kind or "")
    db.session.commit()
    return macro


def delete_macro(user: User, macro_id: int) -> None:
    _require(user)
    macro = db.session.get(Macro, macro_id)
    if macro is None:
        raise NotFound(str(_l("No such macro.")))
    from app.admin.services import record

    record(user, "macro_deleted", "macro", macro.id, macro.name)
    db.session.delete(macro)
    db.session.commit()
