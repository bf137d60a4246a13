"""How SLA clocks are shown: the `sla_view(ticket)` and `sla_short_time(dt)` template helpers
(registered in create_app; used by app/templates/sla/_badge.html and _tracker_eta.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _

from app.sla import clock
from app.types import utcnow


def duration_text(seconds: int | None) -> str:
    seconds = max(0, int(seconds or 0))
    h, m = seconds // 3600, (seconds % 3600) // 60
    return _("%(h)dh %(m)02dm", h=h, m=m) if h else _("%(m)dm", m=m)


def short_time(dt: datetime | None) -> str:
    return format_datetime(dt, _("MMM d, HH:mm")) if dt else ""


@dataclass
class SlaView:
    status: str  # none | ok | warning | breached
    metric: str | None
    metric_label: str
    paused: bool
    due_at: datetime | None
    evidence_due_at: datetime | None
    left: str  # business time left, e.g. "3h 20m" ("" when none / overdue)
    overdue: str  # business time overdue ("" unless breached)


def sla_view(ticket, now: datetime | None = None) -> SlaView:
    now = now or utcnow()
    st = clock.sla_status(ticket, now)
    paused = st["paused"]
    return SlaView(
        status=st["status"],
        metric=ticket.sla_metric,
        metric_label=clock.metric_label(ticket.sla_metric),
        paused=paused,
        due_at=ticket.sla_due_at,
        evidence_due_at=ticket.evidence_due_at if paused else None,
        left=duration_text(st["business_seconds_left"]) if st["business_seconds_left"] is not None else "",
        overdue=duration_text(st["business_seconds_overdue"]) if st["business_seconds_overdue"] is not None else "",
    )
