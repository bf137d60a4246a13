"""Collective complaints: three or more open tickets against one merchant (or one of its products)
within the window are one group, shown on each ticket's staff page and on the merchants page."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from app.extensions import db
from app.types import utcnow
from app.workflow.service import apply_event
from tests.factories import staff
from tests.merchants.helpers import file_complaint, setup_merchant
from tests.tickets.test_views import login


def _page(client, ref: str) -> str:
    return client.get(f"/tickets/{ref}?lang=en").get_data(as_text=True)


def test_three_open_complaints_in_the_window_make_a_group(app, client, auth):
    setup_merchant()
    with time_machine.travel(utcnow() - timedelta(hours=30), tick=False):
        old = file_complaint("other", product_name="Steam ¥100")  # before the 24 h window
    first = file_complaint("other", product_name="Steam ¥100")
    second = file_complaint("other", product_name="Steam ¥100")
    agent = staff("agent")
    login(client, agent, auth)
    assert "Collective complaint" not in _page(client, first.ref)  # two in the window: no group yet
    third = file_complaint("other", product_name="Razer Gold ¥50")
    for t in (first, second, third):
        assert "Collective complaint: 3 open tickets" in _page(client, t.ref)
    assert "Collective complaint" not in _page(client, old.ref)  # filed before the window
    apply_event(second, "start_review", agent)
    apply_event(second, "reject", agent, reason="no second charge")
    db.session.commit()
    assert "Collective complaint" not in _page(client, first.ref)  # only two are still open


def test_the_merchants_page_lists_the_group_and_its_product(app, client, auth):
    setup_merchant()
    steam = [file_complaint("other", product_name="Steam ¥100").ref for _ in range(3)]
    razer = file_complaint("other", product_name="Razer Gold ¥50").ref
    login(client, staff("manager"), auth)
    listing = client.get("/merchants?lang=en").get_data(as_text=True)
    assert "4 open complaints" in listing and all(r in listing for r in (*steam, razer))
    assert "Steam ¥100: 3 open complaints" in listing  # the product's own group inside the merchant's
