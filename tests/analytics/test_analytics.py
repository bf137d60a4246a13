"""Complaint analytics: the roll-up counts what was filed, spikes and flags follow their stated
rules, the page and the JSON are for managers (and admins) only."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app.analytics import services
from app.analytics.jobs import rollup_analytics
from app.analytics.models import ComplaintDaily
from app.extensions import db
from app.tickets.models import Merchant
from tests.factories import make_order, make_ticket, make_user

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=SH)  # a Wednesday afternoon


def _merchant(code: str) -> Merchant:
    m = db.session.query(Merchant).filter_by(code=code).one_or_none()
    if m is None:
        m = Merchant(code=code, name=f"Shop {code}")
        db.session.add(m)
        db.session.commit()
    return m


def _ticket_for(merchant_code: str, when: datetime, state: str = "submitted", kind: str = "invalid_card", **order):
    with time_machine.travel(when, tick=False):
        o = make_order(**order)
        o.merchant = _merchant(merchant_code)
        db.session.commit()
        return make_ticket(state, order=o, kind=kind)


def test_rollup_counts_each_dimension_as_filed(app):
    _ticket_for("ACME", NOW.replace(hour=10), kind="invalid_card", product_name="Steam ¥100")
    _ticket_for("ACME", NOW.replace(hour=11), state="rejected", kind="invalid_card", product_name="Steam ¥100")
    _ticket_for("ZETA", NOW.replace(hour=12), kind="wrong_order", payment_channel="wechat", product_type="recharge")
    with time_machine.travel(NOW, tick=False):
        rollup_analytics()
        kinds = {r["value"]: r for r in services.breakdown("kind", days=7)}
        merchants = {r["value"]: r for r in services.breakdown("merchant", days=7)}
        channels = {r["value"]: r["opened"] for r in services.breakdown("channel", days=7)}
        trend = services.weekly_trend()
    assert kinds["invalid_card"]["opened"] == 2 and kinds["invalid_card"]["rejected"] == 1
    assert kinds["wrong_order"]["opened"] == 1
    assert merchants["ACME"]["opened"] == 2 and merchants["ZETA"]["opened"] == 1
    assert channels == {"alipay": 2, "wechat": 1}
    assert trend[-1]["week"] == "2026-11-23" and trend[-1]["opened"] == 3 and trend[-1]["rejected"] == 1
    assert sum(w["opened"] for w in trend) == 3


def test_rollup_is_idempotent_and_sees_later_state_changes(app):
    t = _ticket_for("ACME", NOW.replace(hour=9), state="review")
    with time_machine.travel(NOW, tick=False):
        rollup_analytics()
        first = db.session.scalar(select(func.count()).select_from(ComplaintDaily))
        rollup_analytics()
        assert db.session.scalar(select(func.count()).select_from(ComplaintDaily)) == first
        from app.workflow.service import apply_event
        from tests.factories import staff

        apply_event(t, "reject", staff("agent"), reason="not covered")
        rollup_analytics()
        (row,) = services.breakdown("merchant", days=7)
    assert row["opened"] == 1 and row["rejected"] == 1


def test_local_day_is_the_display_time_zone(app):
    # 23:30 in Shanghai on the 24th is 15:30 UTC: the ticket belongs to the 24th, not the 25th.
    _ticket_for("ACME", datetime(2026, 11, 24, 23, 30, tzinfo=SH))
    with time_machine.travel(NOW, tick=False):
        rollup_analytics()
    days = db.session.scalars(select(ComplaintDaily.day).where(ComplaintDaily.dim == "all")).all()
    assert [d.isoformat() for d in days] == ["2026-11-24"]


def test_spike_rule_flags_a_jump_over_the_merchants_own_baseline(app):
    for i in range(6):  # this week: 6 complaints against HOT, none before
        _ticket_for("HOT", NOW.replace(hour=9, minute=i))
    for week in range(1, 9):  # STEADY: 6 this week but 6 a week for 8 weeks before
        for i in range(6):
            _ticket_for("STEADY", datetime(2026, 11, 25 - 7 * week if week < 4 else 1, 9, i, tzinfo=SH))
    for i in range(6):
        _ticket_for("STEADY", NOW.replace(hour=10, minute=i))
    for i in range(4):  # LOW: below the minimum count
        _ticket_for("LOW", NOW.replace(hour=11, minute=i))
    with time_machine.travel(NOW, tick=False):
        services.rollup(days=90)
        found = {(s["dim"], s["value"]): s for s in services.spikes()}
    assert ("merchant", "HOT") in found and found[("merchant", "HOT")]["this_week"] == 6
    assert ("merchant", "STEADY") not in found
    assert ("merchant", "LOW") not in found


def test_complainant_flags_follow_the_rules(app):
    heavy = make_user("customer", email="heavy@example.com")
    light = make_user("customer", email="light@example.com")
    for i in range(5):
        _ticket_for("ACME", NOW.replace(hour=8, minute=i), customer=heavy)
    _ticket_for("ACME", NOW.replace(hour=9), customer=light)
    with time_machine.travel(NOW, tick=False):
        rollup_analytics()
        flagged = {u.email: f for f, u in services.flagged_customers()}
        live = services.customer_flags(heavy.id)
        assert services.customer_flags(light.id).reasons == []
    assert set(flagged) == {"heavy@example.com"}
    assert flagged["heavy@example.com"].reasons == ["many_tickets"]
    assert live.reasons == ["many_tickets"] and live.tickets == 5


@pytest.mark.parametrize("role", ["customer", "agent", "finance"])
def test_page_and_api_are_for_managers_and_admins(client, auth, api, app, role):
    user = make_user(role, email=f"{role}.analytics@example.com")
    auth.login(user)
    assert client.get("/analytics/").status_code == 403
    assert client.get("/api/v1/analytics/summary", headers=api.headers(user)).status_code == 403


def test_anonymous_is_sent_to_login(client, app):
    assert client.get("/analytics/").status_code in (302, 401)
    assert client.get("/api/v1/analytics/summary").status_code == 401


@pytest.mark.parametrize("lang,words", [("zh", "投诉分析"), ("en", "Complaint analytics")])
def test_manager_page_shows_tiles_breakdowns_and_rules(client, auth, app, lang, words):
    _ticket_for("ACME", NOW.replace(hour=10))
    with time_machine.travel(NOW, tick=False):
        rollup_analytics()
        auth.login(make_user("manager", email="boss@example.com"))
        page = client.get(f"/analytics/?lang={lang}").get_data(as_text=True)
    assert words in page
    assert "ACME" in page
    assert "vendor/echarts/echarts.common.min.js" in page
    assert "/queue?" in page and "kind=invalid_card" in page  # drill-down to the filtered queue


def test_api_summary_breakdown_and_bad_input(client, api, app):
    _ticket_for("ACME", NOW.replace(hour=10))
    manager = make_user("manager", email="boss.api@example.com")
    headers = api.headers(manager)
    with time_machine.travel(NOW, tick=False):
        rollup_analytics()
        summary = client.get("/api/v1/analytics/summary", headers=headers)
        by_merchant = client.get("/api/v1/analytics/breakdown/merchant?days=7", headers=headers)
        unknown = client.get("/api/v1/analytics/breakdown/colour", headers=headers)
        bad_days = client.get("/api/v1/analytics/breakdown/kind?days=0", headers=headers)
        spikes = client.get("/api/v1/analytics/spikes", headers=headers)
    assert summary.status_code == 200 and summary.json["kpis"]["open_now"] == 1
    assert [r["value"] for r in by_merchant.json["rows"]] == ["ACME"]
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "not_found"
    assert bad_days.status_code == 422 and bad_days.json["error"]["code"] == "invalid"
    assert "rule" in spikes.json and spikes.json["spikes"] == []


def test_static_echarts_is_served_locally(client, app):
    resp = client.get("/static/vendor/echarts/echarts.common.min.js")
    assert resp.status_code == 200 and b"echarts" in resp.data[:2000]


def test_merchant_agent_and_spike_rows_drill_down_to_the_queue(client, auth, app):
    import re

    from app.tickets.services import assign_ticket

    agent = make_user("agent", email="drill.agent@example.com", name="Agent Drill")
    hot = [_ticket_for("HOT", NOW.replace(hour=9, minute=i)) for i in range(5)]  # a spike: 5, none before
    calm = _ticket_for("CALM", NOW.replace(hour=10))
    with time_machine.travel(NOW.replace(hour=11), tick=False):
        assign_ticket(hot[0], agent, agent)
    with time_machine.travel(NOW, tick=False):
        services.rollup(days=90)
        auth.login(make_user("manager", email="drill.boss@example.com"))
        page = client.get("/analytics/?lang=en").get_data(as_text=True)

        def rows_at(link_text: str, section: str) -> set[str]:
            part = page[page.index(section) :]
            href = re.search(rf'<a href="([^"]+)">{re.escape(link_text)}</a>', part)
            assert href, (link_text, section)
            queue = client.get(href.group(1).replace("&amp;", "&")).get_data(as_text=True)
            return set(re.findall(r'<tr data-ref="([^"]+)"', queue))

        assert rows_at("HOT", "By merchant") == {t.ref for t in hot}
        assert rows_at("CALM", "By merchant") == {calm.ref}
        assert rows_at("HOT", "Spikes") == {t.ref for t in hot}  # the spike names its merchant's tickets
        assert rows_at("Agent Drill", "By agent") == {hot[0].ref}
        assert rows_at("Unassigned", "By agent") == {t.ref for t in hot[1:]} | {calm.ref}


def test_product_type_and_channel_rows_drill_down_to_the_filtered_queue(client, auth, app):
    import re

    cards = [_ticket_for("PT", NOW.replace(hour=9, minute=i), product_type="game_card") for i in range(2)]
    wechat = _ticket_for("PT", NOW.replace(hour=10), product_type="recharge", payment_channel="wechat")
    with time_machine.travel(NOW, tick=False):
        services.rollup(days=90)
        auth.login(make_user("manager", email="drill.types@example.com"))
        page = client.get("/analytics/?lang=en").get_data(as_text=True)

        def rows_at(link_text: str, section: str) -> tuple[str, set[str]]:
            part = page[page.index(section) :]
            href = re.search(rf'<a href="([^"]+)">{re.escape(link_text)}</a>', part)
            assert href, (link_text, section)
            url = href.group(1).replace("&amp;", "&")
            queue = client.get(url).get_data(as_text=True)
            return url, set(re.findall(r'<tr data-ref="([^"]+)"', queue))

        url, refs = rows_at("Game point card", "By product type")
        assert "product_type=game_card" in url and refs == {t.ref for t in cards}
        assert rows_at("Recharge", "By product type")[1] == {wechat.ref}
        url, refs = rows_at("WeChat Pay", "By payment channel")
        assert "channel=wechat" in url and refs == {wechat.ref}
        assert rows_at("Alipay", "By payment channel")[1] == {t.ref for t in cards}
