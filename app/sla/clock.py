"""SLA clock: deadlines stored on the ticket (and one SlaRecord per metric run) on every transition.

Metrics (business time on the desk's calendar, configurable per ticket kind):
  first_response   `submitted` until the first agent action or automatic decision (4h)
  review_decision  time in `review`; pauses in `evidence`, the time used carries over (2d)
  payout           time in `finance` until paid (1d)
  merchant_response  time in `merchant` for the merchant's answer (48h business hours); past
                   it the sweep fires `merchant_timeout` (app/merchants)
  evidence_window  the customer's window in `evidence`, calendar days (7d, reminder 2 days
                   before the end, then the sweep fires `expire`)
"1d" is one working day of the calendar (9h with the default Mon–Fri 09:00–18:00).

Breach and warning are always computed from the stored times and now (`sla_status`); the
sweep (sla/sweep.py) only marks them once for notifications and escalation.
"""

from __future__ import annotations

import time as _time
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.settings import SlaPolicy, WorkHours
from app.sla.calendar import BusinessCalendar
from app.sla.models import DESK_METRICS, EVIDENCE_WINDOW, MERCHANT_RESPONSE, BusinessDate, SlaRecord

STATE_METRIC = {
    "submitted": "first_response",
    "merchant": MERCHANT_RESPONSE,
    "review": "review_decision",
    "finance": "payout",
}
# Whether leaving a stage by an event meets its target (else the clock stops) is said by the
# event's row in app/workflow/machine.py (`meets_sla`).
METRIC_LABELS = {
    "first_response": _l("First response"),
    "review_decision": _l("Review decision"),
    "payout": _l("Refund payout"),
    EVIDENCE_WINDOW: _l("Customer evidence window"),
    MERCHANT_RESPONSE: _l("Merchant response"),
}
CALENDAR_RECHECK_SECONDS = 30
_US = 1_000_000

# ---------------------------------------------------------------- calendar

_calendars: dict[tuple, BusinessCalendar] = {}  # one shared instance per configuration


def _calendar_for(hours: WorkHours, tz: str, holidays: frozenset, workdays: frozenset) -> BusinessCalendar:
    key = (hours, tz, holidays, workdays)
    cal = _calendars.get(key)
    if cal is None:
        cal = _calendars[key] = BusinessCalendar(hours.by_weekday(), tz, holidays, workdays)
    return cal


def get_calendar() -> BusinessCalendar:
    """The desk's calendar: working hours from config + admin dates (rechecked every 30 s)."""
    state = current_app.extensions.setdefault("sla_calendar", {})
    if state.get("cal") is not None and _time.monotonic() - state["checked"] < CALENDAR_RECHECK_SECONDS:
        return state["cal"]
    with db.session.no_autoflush:
        fingerprint = tuple(db.session.execute(select(func.count(BusinessDate.id), func.max(BusinessDate.id))).one())
        if state.get("fingerprint") != fingerprint or state.get("cal") is None:
            rows = db.session.execute(select(BusinessDate.day, BusinessDate.kind)).all()
            state["cal"] = _calendar_for(
                current_app.config["SLA_WORK_HOURS"],
                current_app.config["TZ_DISPLAY"],
                frozenset(d for d, k in rows if k == "holiday"),
                frozenset(d for d, k in rows if k == "workday"),
            )
            state["fingerprint"] = fingerprint
    state["checked"] = _time.monotonic()
    return state["cal"]


def invalidate_calendar() -> None:
    current_app.extensions.pop("sla_calendar", None)


def set_business_date(day: date, kind: str, note: str = "", actor=None) -> BusinessDate:
    """Admin: declare `day` a holiday or a working day (replaces an earlier entry). Commits; with
    an `actor` (the calendar page) the change is in the admin audit log."""
    if kind not in ("holiday", "workday"):
        raise ValueError("kind must be holiday or workday")
    row = db.session.scalar(select(BusinessDate).where(BusinessDate.day == day))
    if row is None:
        row = BusinessDate(day=day)
        db.session.add(row)
    row.kind, row.note = kind, note
    if actor is not None:
        from app.admin.services import record

        record(actor, "calendar_date_set", "calendar", None, day.isoformat(), kind=kind, note=note[:200])
    db.session.commit()
    invalidate_calendar()
    return row


def business_dates() -> list[BusinessDate]:
    """The admin dates, newest first."""
    return list(db.session.scalars(select(BusinessDate).order_by(BusinessDate.day.desc())))


def remove_business_date(day: date, actor=None) -> bool:
    row = db.session.scalar(select(BusinessDate).where(BusinessDate.day == day))
    if row is not None:
        db.session.delete(row)
        if actor is not None:
            from app.admin.services import record

            record(actor, "calendar_date_removed", "calendar", None, day.isoformat(), kind=row.kind)
        db.session.commit()
    invalidate_calendar()
    return row is not None


# ---------------------------------------------------------------- policies


def target(metric: str, kind: str) -> timedelta:
    """The business-time target of a desk metric for a ticket kind (SLA_POLICY, parsed at boot)."""
    policy: SlaPolicy = current_app.config["SLA_POLICY"]
    return policy.target(metric, kind)


def _us(td: timedelta) -> int:
    return (td.days * 86_400 + td.seconds) * _US + td.microseconds


# ---------------------------------------------------------------- the clock


def _open_records(ticket) -> list[SlaRecord]:
    if ticket.id is None:
        return []
    with db.session.no_autoflush:
        return list(
            db.session.scalars(
                select(SlaRecord).where(
                    SlaRecord.ticket_id == ticket.id, SlaRecord.met_at.is_(None), SlaRecord.stopped_at.is_(None)
                )
            )
        )


def _settle_thresholds(rec: SlaRecord, now: datetime) -> None:
    """Whatever crossed before `now` counts, whether or not a sweep has run."""
    if rec.warn_at is not None and rec.warned_at is None and rec.warn_at <= now:
        rec.warned_at = rec.warn_at
    if rec.due_at is not None and rec.breached_at is None and rec.due_at <= now:
        rec.breached_at = rec.due_at


def _used(rec: SlaRecord, cal: BusinessCalendar, now: datetime) -> int:
    if rec.metric == EVIDENCE_WINDOW:
        return _us(now - rec.started_at)
    if rec.paused_at is not None:
        return rec.elapsed_us
    return rec.elapsed_us + _us(cal.business_time_between(rec.resumed_at or rec.started_at, now))


def _end(rec: SlaRecord, event: str, met: bool, cal: BusinessCalendar, now: datetime) -> None:
    _settle_thresholds(rec, now)
    rec.elapsed_us = _used(rec, cal, now)
    if met:
        rec.met_at = now
    else:
        rec.stopped_at = now
    rec.ended_by = event


def _run(rec: SlaRecord, cal: BusinessCalendar, now: datetime) -> None:
    """(Re)start the clock at `now` with the business time already used carried over."""
    ratio = current_app.config["SLA_WARN_RATIO"]
    rec.due_at = cal.add_business_time(now, timedelta(microseconds=max(0, rec.target_us - rec.elapsed_us)))
    warn_left = int(rec.target_us * ratio) - rec.elapsed_us
    rec.warn_at = cal.add_business_time(now, timedelta(microseconds=max(0, warn_left)))


def on_transition(ticket, event: str, now: datetime, *, met: bool) -> None:
    """Called inside the transition's transaction, after the state changed (machine.EVERY_TRANSITION).

    `met`: leaving the stage by `event` meets its target (the row's `meets_sla`); else it stops.
    """
    cal = get_calendar()
    to_state = ticket.state
    current: SlaRecord | None = None
    for rec in _open_records(ticket):
        if rec.metric == "review_decision" and rec.paused_at is not None and to_state == "review":
            rec.resumed_at, rec.paused_at = now, None  # provide_evidence: the clock resumes
            _run(rec, cal, now)
            current = rec
        elif rec.metric == "review_decision" and rec.paused_at is None and to_state == "evidence":
            _settle_thresholds(rec, now)  # request_evidence: the clock pauses
            rec.elapsed_us = _used(rec, cal, now)
            rec.paused_at, rec.warn_at, rec.due_at = now, None, None
        else:
            _end(rec, event, met, cal, now)
    metric = STATE_METRIC.get(to_state)
    if current is None and metric is not None:
        current = SlaRecord(
            ticket=ticket, metric=metric, target_us=_us(target(metric, ticket.kind)), started_at=now, elapsed_us=0
        )
        _run(current, cal, now)
        db.session.add(current)
    if to_state == "evidence":
        cfg = current_app.config
        due = now + timedelta(days=cfg["SLA_EVIDENCE_DAYS"])
        window = SlaRecord(
            ticket=ticket,
            metric=EVIDENCE_WINDOW,
            started_at=now,
            elapsed_us=0,
            target_us=_us(due - now),
            due_at=due,
            warn_at=max(now, due - timedelta(days=cfg["SLA_EVIDENCE_REMINDER_DAYS"])),
        )
        db.session.add(window)
        ticket.sla_metric, ticket.sla_warn_at, ticket.sla_due_at = EVIDENCE_WINDOW, None, None
        ticket.sla_paused_at, ticket.evidence_due_at = now, due
        return
    ticket.sla_paused_at = ticket.evidence_due_at = None
    if to_state == "merchant" and current is not None:
        ticket.merchant_due_at = current.due_at  # shown to the customer and the merchant
    ticket.sla_metric = current.metric if current else None
    ticket.sla_warn_at = current.warn_at if current else None
    ticket.sla_due_at = current.due_at if current else None


# ---------------------------------------------------------------- reading


def status_of(ticket, now: datetime) -> str:
    due, warn = ticket.sla_due_at, ticket.sla_warn_at
    if due is None:
        return "none"
    return "breached" if now >= due else "warning" if warn is not None and now >= warn else "ok"


def sla_status(ticket, now: datetime, calendar: BusinessCalendar | None = None) -> dict:
    """What the API and pages show about the current stage's clock (computed, never swept).
    `calendar`: the desk's (`get_calendar()`) when the caller has it already (a list of tickets)."""
    due, warn = ticket.sla_due_at, ticket.sla_warn_at
    status = status_of(ticket, now)
    remaining = overdue = None
    if due is not None:
        cal = calendar or get_calendar()
        if now < due:
            remaining = int(cal.business_time_between(now, due).total_seconds())
        else:
            overdue = int(cal.business_time_between(due, now).total_seconds())
    ev_due = ticket.evidence_due_at if ticket.state == "evidence" else None
    return {
        "metric": ticket.sla_metric,
        "status": status,
        "paused": ticket.state == "evidence",
        "due_at": due.isoformat() if due else None,
        "warn_at": warn.isoformat() if warn else None,
        "evidence_due_at": ev_due.isoformat() if ev_due else None,
        "business_seconds_left": remaining,
        "business_seconds_overdue": overdue,
    }


def metric_label(metric: str | None) -> str:
    if metric is None:
        return ""
    return str(METRIC_LABELS.get(metric, metric))


def records_of(ticket_id: int) -> list[SlaRecord]:
    return list(
        db.session.scalars(
            select(SlaRecord).where(SlaRecord.ticket_id == ticket_id).order_by(SlaRecord.started_at, SlaRecord.id)
        )
    )


__all__ = [
    "DESK_METRICS",
    "EVIDENCE_WINDOW",
    "on_transition",
    "sla_status",
    "get_calendar",
    "target",
    "set_business_date",
    "remove_business_date",
    "records_of",
    "status_of",
    "metric_label",
]
