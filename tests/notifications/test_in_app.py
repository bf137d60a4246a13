"""In-app notices: the header badge, each notice a link to its ticket, in the reader's language;
the channel settings page; SMS / push through the simulator or a plugged-in adapter; reminders."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.notifications import channels, jobs
from app.notifications.models import Delivery, Notification
from app.workflow.service import apply_event
from tests.factories import make_order, make_ticket, make_user, staff
from tests.helpers import csrf_token
from tests.notifications.conftest import at, cst

WEDNESDAY_10 = cst(2026, 11, 25, 10, 0)


def test_badge_counts_unread_notices_each_links_to_its_ticket_in_the_readers_language(app, client, auth):
    cust = make_user("customer", locale="zh_Hans_CN")
    other = make_user("customer")
    with at(WEDNESDAY_10):
        ticket = make_ticket("review", order=make_order(cust))
        apply_event(ticket, "resolve", staff("agent"), reason="补发了新卡密")
        apply_event(make_ticket("review", order=make_order(other)), "reject", staff("agent"), reason="no")
    auth.login(cust)
    home = client.get("/").get_data(as_text=True)
    assert 'data-unread="1"' in home
    page = client.get("/notifications/").get_data(as_text=True)
    assert f"{ticket.ref}：已解决" in page and "处理结果：补发了新卡密" in page and "驳回" not in page
    english = client.get("/notifications/?lang=en").get_data(as_text=True)
    assert f"{ticket.ref}: resolved" in english and "What was done: 补发了新卡密" in english
    note = db.session.scalar(select(Notification).where(Notification.user_id == cust.id))
    opened = client.get(f"/notifications/{note.id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/tickets/{ticket.ref}")
    assert 'data-unread="' not in client.get("/").get_data(as_text=True)
    theirs = db.session.scalar(select(Notification).where(Notification.user_id == other.id))
    assert client.get(f"/notifications/{theirs.id}").status_code == 404


def test_mark_all_read_needs_csrf(app, client, auth):
    cust = make_user("customer")
    with at(WEDNESDAY_10):
        apply_event(make_ticket("review", order=make_order(cust)), "resolve", staff("agent"), reason="ok")
    auth.login(cust)
    assert client.post("/notifications/read").status_code == 400
    page = client.get("/notifications/")
    assert client.post("/notifications/read", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert 'data-unread="' not in client.get("/").get_data(as_text=True)


def test_settings_choose_channels_mandatory_ones_stay_on_and_sms_goes_through_the_simulator(app, client, auth):
    cust = make_user("customer", locale="en")
    auth.login(cust)
    page = client.get("/notifications/settings?lang=en")
    html = page.get_data(as_text=True)
    assert 'value="support_reply:email"' in html and 'value="rejected:email"' not in html  # mandatory: "always"
    resp = client.post(
        "/notifications/settings",
        data={"csrf_token": csrf_token(page), "on": ["resolved:sms"], "phone": "+86 138 0000 0000"},
    )
    assert resp.status_code == 302
    channels.SIMULATED.clear()
    with at(WEDNESDAY_10):
        ticket = make_ticket("review", order=make_order(cust))
        apply_event(ticket, "resolve", staff("agent"), reason="card replaced")  # sms only (e-mail off)
        apply_event(make_ticket("review", order=make_order(cust)), "reject", staff("agent"), reason="late")
    sent = {(d.notification.kind, d.channel) for d in db.session.scalars(select(Delivery))}
    assert sent == {("resolved", "sms"), ("rejected", "email"), ("rejected", "sms")}
    assert [(m.to, m.subject) for m in channels.SIMULATED][0] == ("+86 138 0000 0000", f"{ticket.ref}: resolved")
    assert f"/tickets/{ticket.ref}" in channels.SIMULATED[0].text


class RecordingSms:
    sent: list = []

    def __init__(self, config):
        pass

    def send(self, msg):
        RecordingSms.sent.append(msg.to)
        return "provider-1"


def test_a_real_sms_adapter_plugs_in_by_setting(app):
    from app.notifications.services import save_preferences

    app.config["NOTIFY_ADAPTERS"] = f"sms={__name__}:RecordingSms"
    cust = make_user("customer", locale="en")
    save_preferences(cust, [], [], "13800000000", False)
    with at(WEDNESDAY_10):
        apply_event(make_ticket("review", order=make_order(cust)), "reject", staff("agent"), reason="late")
    assert RecordingSms.sent == ["13800000000"]
    assert db.session.scalar(select(Delivery.reference).where(Delivery.channel == "sms")) == "provider-1"


def test_evidence_deadline_reminders_24_and_2_hours_before_once_each(app):
    cust = make_user("customer", locale="en")
    with at(WEDNESDAY_10):
        ticket = make_ticket("evidence", order=make_order(cust))
    due = ticket.evidence_due_at

    def reminders() -> list[Notification]:
        q = select(Notification).where(Notification.kind == "evidence_reminder", Notification.user_id == cust.id)
        return list(db.session.scalars(q.order_by(Notification.id)))

    before = len(reminders())  # the SLA sweep's own early reminder is not run here
    with at(due - timedelta(hours=25)):
        assert jobs.remind_evidence_deadlines() == 0
    with at(due - timedelta(hours=23)):
        assert jobs.remind_evidence_deadlines() == 1
        assert jobs.remind_evidence_deadlines() == 0
    with at(due - timedelta(hours=1, minutes=59)):
        assert jobs.remind_evidence_deadlines() == 1
        assert jobs.remind_evidence_deadlines() == 0
    got = reminders()[before:]
    assert [n.params["left"] for n in got] == [24, 2]
    from flask_babel import force_locale

    from app.notifications.messages import render

    with force_locale("en"):
        text = render(got[1].kind, got[1].params)
    assert text.title == f"{ticket.ref}: 2 hours left to send your material" and "payment record" in text.body
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "evidence_reminder")) == 2
