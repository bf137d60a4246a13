"""notify(), e-mail held to the next business morning, send_due_emails once, the in-app page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.notifications import jobs
from app.notifications.models import Notification
from app.notifications.services import notify
from tests.factories import make_user

SH = ZoneInfo("Asia/Shanghai")


def cst(*a):
    return datetime(*a, tzinfo=SH)


def at(when):
    return time_machine.travel(when, tick=False)


def _sent(monkeypatch) -> list:
    box = []
    monkeypatch.setattr(jobs, "send_mail", lambda to, subject, body: box.append((to, subject)))
    return box


def test_non_urgent_mail_at_night_waits_for_the_next_business_morning(app, monkeypatch):
    box = _sent(monkeypatch)
    user = make_user("agent", email="night.owl@example.com")
    with at(cst(2026, 11, 27, 23, 30)):  # Friday night
        late = notify(user.id, "sla_warning", "Warning", "body")
        urgent = notify(user.id, "sla_breach", "Breach", "body", urgent=True)
        db.session.commit()
        assert jobs.send_due_emails() == 1  # only the urgent one, now
    assert late.email_due_at.astimezone(SH) == cst(2026, 11, 30, 9, 0)  # Monday 09:00
    with at(cst(2026, 11, 30, 8, 59)):
        assert jobs.send_due_emails() == 0
    with at(cst(2026, 11, 30, 9, 0)):
        assert jobs.send_due_emails() == 1
        assert jobs.send_due_emails() == 0
    assert box == [("night.owl@example.com", "Breach"), ("night.owl@example.com", "Warning")]
    assert urgent.emailed_at is not None


def test_mail_during_business_hours_goes_at_once_and_a_failed_send_is_retried(app, monkeypatch):
    user = make_user("agent", email="day@example.com")
    calls = []

    def flaky(to, subject, body):
        calls.append(subject)
        if len(calls) == 1:
            raise OSError("smtp down")

    monkeypatch.setattr(jobs, "send_mail", flaky)
    with at(cst(2026, 11, 26, 10, 0)):
        notify(user.id, "paid", "Paid", "")
        db.session.commit()
        assert jobs.send_due_emails() == 0
    note = db.session.scalar(select(Notification))
    assert note.emailed_at is None
    with at(cst(2026, 11, 26, 10, 11)):
        assert jobs.send_due_emails() == 1
    assert calls == ["Paid", "Paid"]


def test_without_smtp_host_mail_is_only_logged(app, caplog):
    user = make_user("agent", email="log@example.com")
    notify(user.id, "x", "Logged subject", "", urgent=True)
    db.session.commit()
    with caplog.at_level("INFO"):
        assert jobs.send_due_emails() == 1
    assert "Logged subject" in caplog.text


def test_in_app_list_shows_only_my_notifications_and_marks_read(client, auth, app):
    from tests.helpers import csrf_token

    me, other = make_user("agent", email="me@example.com"), make_user("agent", email="other@example.com")
    notify(me.id, "x", "For me <b>", "hello")
    notify(other.id, "x", "For someone else", "")
    db.session.commit()
    auth.login(me)
    page = client.get("/notifications/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "For me &lt;b&gt;" in html and "someone else" not in html
    resp = client.post("/notifications/read", data={"csrf_token": csrf_token(page)})
    assert resp.status_code == 302
    assert all(n.read_at for n in db.session.scalars(select(Notification).where(Notification.user_id == me.id)))
    assert client.post("/notifications/read").status_code == 400  # CSRF required
