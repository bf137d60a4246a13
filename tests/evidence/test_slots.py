"""Evidence slots on the new-ticket form: one per checklist item of the kind plus "other"; a file sent
in a slot counts for its item, so an agent's later request does not ask for it again."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from app.evidence.checklists import CHECKLISTS
from app.evidence.items import current_items
from app.evidence.models import Evidence
from app.extensions import db
from app.tickets.models import Ticket
from app.workflow.service import apply_event
from tests.evidence.helpers import fake_pe, image_bytes
from tests.factories import make_order, staff

PNG = image_bytes("PNG")


@pytest.fixture(autouse=True)
def _no_fast_track(app):
    app.config["FAST_TRACK_ENABLED"] = False  # a small refund would be decided (and paid) at once
    app.config["MERCHANT_STEP_ENABLED"] = False


def _file(data=PNG, name="pay.png"):
    return (io.BytesIO(data), name)


def _file_ticket(client, browser, order, kind="not_delivered", headers=None, **files):
    data = {"csrf_token": browser.csrf(), "kind": kind, "description": "卡密没有发给我", "amount": "128.00", **files}
    return client.post(
        f"/orders/{order.order_no}/ticket", data=data, content_type="multipart/form-data", headers=headers or {}
    )


def _page(client, path: str) -> str:
    return client.get(path).get_data(as_text=True)


def test_the_form_offers_one_slot_per_checklist_item_of_each_kind_plus_other(client, browser, app):
    order = make_order(amount_cents=12_800)
    browser.login(order.customer)
    html = _page(client, f"/orders/{order.order_no}/ticket")
    for kind, items in CHECKLISTS.items():
        end = r'</div>\s*(?=<div class="slot-group|<div class="field slot slot-other)'
        group = re.search(rf'<div class="slot-group" data-kind="{kind}">(.*?){end}', html, re.S)
        assert group, kind
        assert re.findall(r'type="file" name="([^"]+)"', group.group(1)) == [f"evidence-{kind}-{i.code}" for i in items]
    assert 'name="evidence" multiple' in html and "Other files" in html
    assert "Payment record" in html and "Screenshot of the activation failure" in html  # labels, hints
    assert "Choose what went wrong above to see what helps." in html  # shown by app.js until a kind is chosen


def test_files_in_slots_are_attached_to_their_item_and_not_asked_again(client, browser, app):
    order = make_order(amount_cents=12_800)
    browser.login(order.customer)
    resp = _file_ticket(
        client,
        browser,
        order,
        **{
            "evidence-not_delivered-payment_record": _file(name="pay.png"),
            "evidence": _file(image_bytes("JPEG"), "chat.jpg"),
        },
    )
    assert resp.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    files = {e.filename: e.item_code for e in db.session.scalars(select(Evidence))}
    assert files == {"pay.png": "payment_record", "chat.jpg": None}

    # The agent sees the checklist counted, and the request form says what is already there.
    agent = staff("agent")
    browser.logout()
    browser.login(agent)
    desk = _page(client, f"/tickets/{ticket.ref}")
    assert re.search(r'<li class="sent" data-item="payment_record">.*?Payment record:\s*pay.png', desk, re.S)
    assert re.search(r'<li class="not-sent" data-item="delivery_status">', desk)
    assert "already sent: pay.png (counts as provided)" in desk

    # Asked for both, the customer sees the payment record as provided (with the file) and is asked only for the other.
    apply_event(ticket, "request_evidence", agent, items=["payment_record", "delivery_status"])
    items = {i.code: i.satisfied_at is not None for i in current_items(ticket.id)}
    assert items == {"payment_record": True, "delivery_status": False}
    browser.logout()
    browser.login(order.customer)
    tracker = _page(client, f"/tickets/{ticket.ref}")
    paid = re.search(r'data-item="payment_record">(.*?)</li>\s*</ul>', tracker, re.S).group(1)
    assert "Provided" in paid and "pay.png" in paid and "sent earlier, counts for this item" in paid
    missing = re.search(r'class="evidence-item missing" data-item="delivery_status">(.*?)</li>\s*</ol>', tracker, re.S)
    assert missing and "Still needed" in missing.group(1) and 'type="file"' in missing.group(1)
    assert tracker.count('name="item" value="payment_record"') == 0  # not asked for again


def test_a_file_left_in_another_kinds_slot_counts_when_the_item_is_the_same(client, browser, app):
    order = make_order(amount_cents=12_800)
    browser.login(order.customer)
    _file_ticket(
        client,
        browser,
        order,
        **{
            "evidence-invalid_card-payment_record": _file(name="pay.png"),
            "evidence-invalid_card-activation_failure": _file(image_bytes("WEBP"), "fail.webp"),
        },
    )
    assert {e.filename: e.item_code for e in db.session.scalars(select(Evidence))} == {
        "pay.png": "payment_record",
        "fail.webp": None,
    }


def test_a_refused_file_comes_back_next_to_its_slot_and_nothing_is_filed(client, browser, app):
    order = make_order(amount_cents=12_800)
    browser.login(order.customer)
    resp = _file_ticket(
        client,
        browser,
        order,
        **{"evidence-not_delivered-payment_record": _file(fake_pe(), "pay.png"), "evidence": _file(name="ok.png")},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    slot = re.search(r'<div class="field slot has-error" data-slot="payment_record">(.*?)</div>', html, re.S).group(1)
    assert 'aria-invalid="true"' in slot
    assert re.search(r'<p class="error" role="alert">pay.png: This file type is not accepted', slot)
    assert 'class="error banner"' not in html  # where the upload was, not at the top
    assert "Nothing was filed yet" in html and "卡密没有发给我" in html  # the rest of the form is kept
    assert db.session.scalar(select(Ticket)) is None and db.session.scalar(select(Evidence)) is None


def test_too_many_files_are_refused_on_the_other_files_input(client, browser, app):
    app.config["EVIDENCE_MAX_FILES"] = 2
    order = make_order(amount_cents=12_800)
    browser.login(order.customer)
    resp = _file_ticket(client, browser, order, evidence=[_file(name=f"{i}.png") for i in range(3)])
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert re.search(r'data-slot="other">.*?role="alert">A ticket can hold at most 2 files', html, re.S)


def test_sent_with_the_progress_bar_the_form_answers_where_to_go(client, browser, app):
    order = make_order(amount_cents=12_800)
    browser.login(order.customer)
    resp = _file_ticket(
        client,
        browser,
        order,
        headers={"X-Upload-Progress": "1", "Accept": "application/json"},
        **{"evidence-not_delivered-delivery_status": _file()},
    )
    ticket = db.session.scalar(select(Ticket))
    assert resp.status_code == 200 and resp.get_json() == {"redirect": f"/tickets/{ticket.ref}"}
    assert [c for c, _ in browser.flashes()] == ["success"]  # shown on the page the script opens
