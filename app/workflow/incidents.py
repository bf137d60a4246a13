"""Platform incidents: managers and admins declare them (start, end, affected product types —
none chosen means all of them —, note); each declaration and end is in the admin audit log.

Orders paid inside an incident window for an affected product type skip evidence
(the `incident` fast-track rule in app/workflow/policies.py).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.admin.services import record
from app.auth.models import User
from app.auth.permissions import can
from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.tickets.models import PRODUCT_TYPES
from app.workflow.models import Incident


def _require_manager(actor: User) -> None:
    if not can(actor, "incidents"):
        raise Forbidden(str(_l("Only managers and admins declare incidents.")))


def covers_all(product_types: list[str]) -> bool:
    """Whether an incident's types are every product type (shown as "all product types")."""
    return set(PRODUCT_TYPES) <= set(product_types or [])


def _check_window(starts_at: datetime, ends_at: datetime | None) -> None:
    if ends_at is not None and ends_at <= starts_at:
        raise Invalid(str(_l("The end must be after the start.")), fields={"ends_at": ["after starts_at"]})


def declare_incident(
    starts_at: datetime, ends_at: datetime | None, product_types: list[str], note: str, actor: User
) -> Incident:
    _require_manager(actor)
    _check_window(starts_at, ends_at)
    chosen = set(product_types or [])
    types = [t for t in PRODUCT_TYPES if t in chosen] if chosen else list(PRODUCT_TYPES)  # none: all
    if len(types) != (len(chosen) or len(PRODUCT_TYPES)):
        raise Invalid(
            str(_l("Choose the affected product types.")),
            fields={"product_types": [f"some of {', '.join(PRODUCT_TYPES)}"]},
        )
    incident = Incident(
        starts_at=starts_at,
        ends_at=ends_at,
        product_types=types,
        note=(note or "").strip()[:2000],
        declared_by_id=actor.id,
    )
    db.session.add(incident)
    db.session.flush()
    record(
        actor,
        "incident_declared",
        "incident",
        incident.id,
        incident.note[:80],
        product_types=types,
        starts_at=starts_at.isoformat(),
        ends_at=ends_at.isoformat() if ends_at else None,
    )
    db.session.commit()
    return incident


def end_incident(incident_id: int, ends_at: datetime, actor: User) -> Incident:
    _require_manager(actor)
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(str(_l("No such incident.")))
    _check_window(incident.starts_at, ends_at)
    old, incident.ends_at = incident.ends_at, ends_at
    record(
        actor,
        "incident_ended",
        "incident",
        incident.id,
        incident.note[:80],
        ends_before=old.isoformat() if old else None,
        ends_at=ends_at.isoformat(),
    )
    db.session.commit()
    return incident


def recent_incidents(limit: int = 100) -> list[Incident]:
    return list(db.session.scalars(select(Incident).order_by(Incident.starts_at.desc()).limit(limit)))
