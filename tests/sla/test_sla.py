"""SLA clock on whole journeys, with frozen time (Asia/Shanghai business hours Mon–Fri 09–18)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.notifications.models import Notification
from app.sla.clock import records_of, sla_status
from app.sla.sweep import sweep_sla
from app.workflow.service import apply_event
from tests.factories import make_ticket, staff

SH = ZoneInfo("Asia/Shanghai")


def cst(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


def at(when: datetime):
    return time_machine.travel(when, tick=False)


def local(dt: datetime) -> datetime:
    return dt.astimezone(SH)


def provide_evidence(ticket) -> None:
    """The customer answers every requested item (if the evidence package asks), then sends."""
    try:
        from app.evidence.items import current_items
        from app.evidence.services import answer_item
    except ImportError:
        current_items = None
    if current_items is not None:
        for item in current_items(ticket.id):
            answer_item(ticket, item.code, "cannot provide: the bill was deleted", ticket.customer)
    apply_event(ticket, "provide_evidence", ticket.customer)


def notes(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)))


def test_first_response_is_four_business_hours_and_met_by_the_first_agent_action(app):
    with at(cst(2026, 11, 27, 16, 0)):  # Friday 16:00: 2h today, 2h on Monday
        ticket = make_ticket("submitted")
    assert ticket.sla_metric == "first_response"
    assert local(ticket.sla_due_at) == cst(2026, 11, 30, 11, 0)
    assert local(ticket.sla_warn_at) == cst(2026, 11, 30, 10, 0)  # 75 % = 3h
    with at(cst(2026, 11, 30, 9, 30)):
        apply_event(ticket, "start_review", staff("agent"))
    first = records_of(ticket.id)[0]
    assert first.metric == "first_response" and first.met_at is not None and first.breached_at is None
    assert first.elapsed_us == int(2.5 * 3600e6)
    assert ticket.sla_metric == "review_decision"
    assert local(ticket.sla_due_at) == cst(2026, 12, 2, 9, 30)  # 2 working days = 18h


def test_review_clock_pauses_in_evidence_and_the_used_time_carries_over(app, client, api):
    with at(cst(2026, 11, 23, 10, 0)):  # Monday
        ticket = make_ticket("review")
    assert local(ticket.sla_due_at) == cst(2026, 11, 25, 10, 0)
    with at(cst(2026, 11, 24, 10, 0)):  # 9h used (Mon 10–18, Tue 09–10)
        apply_event(ticket, "request_evidence", staff("agent"), items=["payment record"])
        status = sla_status(ticket, cst(2026, 11, 24, 10, 0))
    assert ticket.sla_due_at is None and status["paused"] and status["status"] == "none"
    assert local(ticket.evidence_due_at) == cst(2026, 12, 1, 10, 0)  # 7 calendar days
    review = next(r for r in records_of(ticket.id) if r.metric == "review_decision")
    assert review.paused_at is not None and review.elapsed_us == 9 * 3600 * 10**6
    with at(cst(2026, 11, 27, 16, 0)):  # Friday 16:00: 9h left → Fri 2h + Mon 7h
        provide_evidence(ticket)
        body = client.get(f"/api/v1/tickets/{ticket.ref}", headers=api.headers(ticket.customer)).json
    assert local(ticket.sla_due_at) == cst(2026, 11, 30, 16, 0)
    assert local(ticket.sla_warn_at) == cst(2026, 11, 30, 11, 30)  # 13.5h − 9h = 4.5h later
    assert body["sla"]["metric"] == "review_decision" and body["sla"]["status"] == "ok"
    assert body["sla"]["business_seconds_left"] == 9 * 3600
    review = next(r for r in records_of(ticket.id) if r.metric == "review_decision")
    assert review.resumed_at is not None and review.paused_at is None
    window = next(r for r in records_of(ticket.id) if r.metric == "evidence_window")
    assert window.met_at is not None


def test_breach_is_computed_from_stored_times_without_any_sweep(app, client, api):
    with at(cst(2026, 11, 23, 10, 0)):
        ticket = make_ticket("review")
    h = api.headers(staff("agent"))
    with at(cst(2026, 11, 25, 9, 59)):
        assert client.get(f"/api/v1/tickets/{ticket.ref}", headers=h).json["sla"]["status"] == "warning"
    with at(cst(2026, 11, 25, 12, 0)):
        sla = client.get(f"/api/v1/tickets/{ticket.ref}", headers=h).json["sla"]
        assert sla["status"] == "breached" and sla["metric"] == "review_decision"
        assert sla["business_seconds_overdue"] == 2 * 3600
        apply_event(ticket, "approve", staff("agent"))
    review = next(r for r in records_of(ticket.id) if r.metric == "review_decision")
    assert review.met_at is not None and local(review.breached_at) == cst(2026, 11, 25, 10, 0)
    assert ticket.sla_metric == "payout" and local(ticket.sla_due_at) == cst(2026, 11, 26, 12, 0)


def test_a_deadline_crossing_into_2027_skips_new_year(app):
    # Thu 2026-12-31 15:00: 3h left in 2026; 1 Jan 2027 is a holiday (holidays.China fallback,
    # chinesecalendar has no 2027), then the weekend; Mon 4 Jan 9h, Tue 5 Jan 6h → 15:00.
    with at(cst(2026, 12, 31, 15, 0)):
        ticket = make_ticket("review")
    assert local(ticket.sla_due_at) == cst(2027, 1, 5, 15, 0)
    assert local(ticket.sla_warn_at) == cst(2027, 1, 5, 10, 30)  # 13.5h


def test_admin_dates_change_the_calendar(app, runner):
    assert runner.invoke(args=["calendar", "add-holiday", "2026-11-24", "--note", "desk outing"]).exit_code == 0
    assert runner.invoke(args=["calendar", "add-workday", "2026-11-28"]).exit_code == 0  # a Saturday
    assert "2026-11-24 holiday" in runner.invoke(args=["calendar", "list"]).output
    with at(cst(2026, 11, 23, 10, 0)):  # Mon 8h, Tue off, Wed 9h, Thu 1h
        ticket = make_ticket("review")
    assert local(ticket.sla_due_at) == cst(2026, 11, 26, 10, 0)
    with at(cst(2026, 11, 27, 17, 0)):  # Fri 1h, then 3h on the worked Saturday
        t2 = make_ticket("submitted")
    assert local(t2.sla_due_at) == cst(2026, 11, 28, 12, 0)
    assert runner.invoke(args=["calendar", "add-holiday", "bad"]).exit_code != 0
    assert runner.invoke(args=["calendar", "remove", "2026-11-28"]).output.strip() == "removed"
    assert "day off" in runner.invoke(args=["calendar", "check", "2026-11-28"]).output


def test_sweep_warns_and_breaches_once_notifies_and_raises_priority(app):
    manager, agent = staff("manager"), staff("agent")
    with at(cst(2026, 11, 23, 10, 0)):
        ticket = make_ticket("review")
        ticket.assignee_id = agent.id
        db.session.commit()
    with at(cst(2026, 11, 24, 14, 29)):  # before 75 %
        assert sweep_sla()["warned"] == 0
    with at(cst(2026, 11, 24, 14, 31)):  # 13.5h reached at Tue 14:30
        assert sweep_sla()["warned"] == 1
        assert sweep_sla()["warned"] == 0
    assert [n.user_id for n in notes("sla_warning")] == [agent.id]
    with at(cst(2026, 11, 25, 10, 1)):
        assert sweep_sla()["breached"] == 1
        assert not any(sweep_sla().values())
    breaches = notes("sla_breach")
    assert sorted(n.user_id for n in breaches) == sorted([manager.id, agent.id])
    assert all(n.urgent for n in breaches)
    db.session.refresh(ticket)
    assert ticket.priority == 1
    rec = next(r for r in records_of(ticket.id) if r.metric == "review_decision")
    assert rec.warned_at is not None and rec.breached_at is not None


def test_unassigned_warning_goes_to_managers(app):
    manager = staff("manager")
    with at(cst(2026, 11, 23, 10, 0)):
        make_ticket("submitted")
    with at(cst(2026, 11, 23, 13, 0)):
        sweep_sla()
    assert [n.user_id for n in notes("sla_warning")] == [manager.id]


def test_evidence_window_reminds_two_days_before_and_then_expires(app, client, api):
    with at(cst(2026, 11, 23, 10, 0)):
        ticket = make_ticket("evidence")
    with at(cst(2026, 11, 28, 9, 59)):
        assert sweep_sla()["reminded"] == 0
    with at(cst(2026, 11, 28, 10, 0)):  # 2 days before 30 Nov 10:00
        assert sweep_sla()["reminded"] == 1
        assert sweep_sla()["reminded"] == 0
    assert [n.user_id for n in notes("evidence_reminder")] == [ticket.customer_id]
    with at(cst(2026, 11, 30, 10, 0)):
        assert sweep_sla()["expired"] == 1
        assert sweep_sla()["expired"] == 0
        body = client.get(f"/api/v1/tickets/{ticket.ref}", headers=api.headers(ticket.customer)).json
    assert body["state"] == "closed" and body["timeline"][-1]["event"] == "expire"
    assert body["timeline"][-1]["actor_role"] == "system"
    assert body["sla"]["status"] == "none" and not body["sla"]["paused"]
    assert len(notes("evidence_expired")) == 1
    window = next(r for r in records_of(ticket.id) if r.metric == "evidence_window")
    assert window.stopped_at is not None and window.breached_at is not None and window.ended_by == "expire"


def test_terminal_states_clear_the_clock_and_withdraw_stops_it(app):
    ticket = make_ticket("withdrawn")
    assert ticket.sla_due_at is None and ticket.sla_metric is None
    (rec,) = records_of(ticket.id)
    assert rec.stopped_at is not None and rec.met_at is None and rec.ended_by == "withdraw"
    paid = make_ticket("paid")
    assert paid.sla_due_at is None
    assert [r.metric for r in records_of(paid.id)] == ["first_response", "review_decision", "payout"]
    assert all(r.met_at is not None for r in records_of(paid.id))


@pytest.mark.settings(SLA_POLICY="review_decision=1d,duplicate_charge.review_decision=4h")
def test_kind_policy_override(app):
    with at(cst(2026, 11, 23, 10, 0)):
        a = make_ticket("review", kind="invalid_card")
        b = make_ticket("review", kind="duplicate_charge", amount_cents=9_000)
    assert local(a.sla_due_at) == cst(2026, 11, 24, 10, 0)
    assert local(b.sla_due_at) == cst(2026, 11, 23, 14, 0)
