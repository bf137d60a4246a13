"""Serving evidence (IDOR, headers) and the partials' forms (CSRF, hostile files, items, answers)."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from flask import render_template_string

from app.evidence import services
from app.evidence.items import current_items
from app.evidence.models import Evidence
from app.extensions import db
from app.workflow.service import apply_event
from tests.evidence.helpers import fake_pe, image_bytes, png_claiming, zip_bytes
from tests.factories import make_ticket, make_user, staff

PNG = image_bytes("PNG")


def upload(ticket, user, data=PNG, name="截图 1.png"):
    return services.attach_evidence(ticket, io.BytesIO(data), name, user)


def test_owner_downloads_the_original_as_a_safe_attachment(client, browser, app):
    ticket = make_ticket()
    ev = upload(ticket, ticket.customer, name='订单"截图<1>.png')
    browser.login(ticket.customer)
    resp = client.get(f"/evidence/{ev.id}/file")
    assert resp.status_code == 200 and resp.data == PNG
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith("attachment;") and "filename*=UTF-8''" in cd
    assert unquote(cd.split("filename*=UTF-8''")[1]) == "订单_截图_1_.png"
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_download_name_takes_the_extension_of_the_content(client, browser, app):
    ticket = make_ticket()
    ev = upload(ticket, ticket.customer, data="纯文本\n".encode(), name="invoice.html")
    browser.login(ticket.customer)
    resp = client.get(f"/evidence/{ev.id}/file")
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert resp.headers["Content-Disposition"] == "attachment; filename=invoice.txt"


def test_idor_other_customer_and_anonymous_get_nothing(client, browser, app):
    ticket = make_ticket()
    ev = upload(ticket, ticket.customer)
    anon = client.get(f"/evidence/{ev.id}/file")
    assert anon.status_code in (302, 401) and anon.data != PNG
    browser.login(make_user("customer"))
    for path in (
        f"/evidence/{ev.id}/file",
        f"/evidence/{ev.id}/thumb",
        f"/evidence/{ev.id}/clean",
        f"/evidence/{ev.id + 1000}/file",
    ):
        assert client.get(path).status_code == 404
    browser.logout()
    browser.login(staff("agent"))
    assert client.get(f"/evidence/{ev.id}/file").status_code == 200


def test_thumbnail_is_inline_and_metadata_free_copy_is_an_attachment(client, browser, app):
    ticket = make_ticket()
    ev = upload(ticket, ticket.customer, data=image_bytes("JPEG", size=(800, 600)), name="photo.jpg")
    db.session.refresh(ev)
    assert ev.thumb_key and ev.safe_key
    browser.login(staff("agent"))
    thumb = client.get(f"/evidence/{ev.id}/thumb")
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/webp"
    assert thumb.headers["Content-Disposition"].startswith("inline")
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    clean = client.get(f"/evidence/{ev.id}/clean")
    assert clean.status_code == 200 and clean.headers["Content-Disposition"].startswith("attachment")


def _form_upload(client, browser, ticket, data, name, **extra):
    return client.post(
        f"/tickets/{ticket.ref}/evidence",
        content_type="multipart/form-data",
        data={"csrf_token": browser.csrf(), "file": (io.BytesIO(data), name), "next": "/somewhere", **extra},
    )


def test_form_upload_for_an_item_with_csrf(client, browser, app):
    ticket = make_ticket("evidence")
    code = current_items(ticket.id)[0].code
    browser.login(ticket.customer)
    resp = _form_upload(client, browser, ticket, PNG, "bill.png", item=code)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/somewhere")
    ev = db.session.query(Evidence).one()
    assert ev.item_code == code and ev.uploader_id == ticket.customer.id
    apply_event(ticket, "provide_evidence", ticket.customer)
    assert ticket.state == "review"


def test_form_without_csrf_is_refused_and_nothing_stored(client, browser, app, stored):
    ticket = make_ticket()
    browser.login(ticket.customer)
    resp = client.post(
        f"/tickets/{ticket.ref}/evidence", content_type="multipart/form-data", data={"file": (io.BytesIO(PNG), "a.png")}
    )
    assert resp.status_code == 400
    assert stored.nothing()


@pytest.mark.parametrize(
    "data,name",
    [
        (fake_pe(), "photo.png"),
        (b"<svg onload=alert(1)>", "x.svg"),
        (b"<html><script>1</script>", "x.html"),
        (zip_bytes(), "x.zip"),
        (png_claiming(100_000, 100_000), "bomb.png"),
        (b"", "empty.png"),
        (fake_pe(), "../../etc/passwd.png"),
        (b"<html>", "x" * 5000 + ".png"),
    ],
)
def test_hostile_form_uploads_show_a_message_and_store_nothing(client, browser, app, stored, data, name):
    ticket = make_ticket()
    browser.login(ticket.customer)
    resp = _form_upload(client, browser, ticket, data, name)
    assert resp.status_code == 303
    assert [cat for cat, _ in browser.flashes()] == ["error"]
    assert stored.nothing()


def test_form_over_the_size_limit_is_a_message_and_nothing_stored(client, browser, app, stored):
    app.config["EVIDENCE_MAX_FILE_BYTES"] = 1000
    ticket = make_ticket()
    browser.login(ticket.customer)
    _form_upload(client, browser, ticket, b"a\n" * 1000, "a.txt")
    assert [(cat, "too large" in msg) for cat, msg in browser.flashes()] == [("error", True)]
    assert stored.nothing()


def test_form_on_someone_elses_ticket_is_404(client, browser, app, stored):
    ticket = make_ticket()
    browser.login(make_user("customer"))
    assert _form_upload(client, browser, ticket, PNG, "a.png").status_code == 404
    assert stored.nothing()


def test_answer_form(client, browser, app):
    ticket = make_ticket("evidence")
    code = current_items(ticket.id)[0].code
    browser.login(ticket.customer)
    resp = client.post(
        f"/tickets/{ticket.ref}/evidence/answer",
        data={"csrf_token": browser.csrf(), "item": code, "answer": "账单已删除", "next": "https://evil.example/"},
    )
    assert resp.status_code == 303 and "evil.example" not in resp.headers["Location"]
    assert current_items(ticket.id)[0].answer == "账单已删除"


def _render(template: str, **ctx) -> str:
    with app_request():
        return render_template_string(template, **ctx)


def app_request():
    from flask import current_app

    return current_app.test_request_context("/t/x?lang=en")


def test_tracker_shows_exactly_the_requested_items(app):
    ticket = make_ticket(kind="invalid_card")
    apply_event(ticket, "request_evidence", staff("agent"), items=["activation_failure", "与客服的聊天记录 <script>"])
    html = _render('{% include "evidence/_tracker_items.html" %}', ticket=ticket, user=ticket.customer)
    assert html.count('class="evidence-item ') == 2
    assert "Screenshot of the activation failure" in html
    assert "与客服的聊天记录 &lt;script&gt;" in html and "<script>" not in html
    assert "Payment record" not in html  # on the kind's checklist, but not asked for
    assert html.count('name="file"') == 2  # one per item ("add more material" is in _tracker_files.html)
    assert html.count("evidence/answer") == 2


def test_public_tracker_items_are_read_only(app):
    ticket = make_ticket("evidence")
    html = _render('{% include "evidence/_tracker_items.html" %}', ticket=ticket, user=None)
    assert "payment record" in html and 'name="file"' not in html and "csrf_token" not in html
    assert "Log in to upload" in html


def test_agent_panel_lists_files_and_says_when_ocr_is_unavailable(app):
    ticket = make_ticket()
    upload(ticket, ticket.customer)
    upload(ticket, staff("agent"), data=b"merchant log\n", name="log.txt")
    html = _render('{% include "evidence/_agent_panel.html" %}', ticket=ticket, user=staff("agent"))
    assert "截图 1.png" in html and "log.txt" in html and "staff evidence" in html
    assert "OCR) is not available" in html
    assert "Attach staff evidence" in html
    customer_view = _render('{% include "evidence/_agent_panel.html" %}', ticket=ticket, user=ticket.customer)
    assert "Attach staff evidence" not in customer_view


def test_form_over_the_stream_cap_is_413_and_nothing_stored(client, browser, app, stored):
    app.config.update(EVIDENCE_MAX_FILE_BYTES=1000, EVIDENCE_MAX_VIDEO_BYTES=1000)
    ticket = make_ticket()
    browser.login(ticket.customer)
    assert _form_upload(client, browser, ticket, b"a\n" * 5000, "a.txt").status_code == 413
    assert stored.nothing()


def test_public_tracker_page_shows_the_requested_items_read_only(client, app):
    ticket = make_ticket(kind="invalid_card")
    apply_event(ticket, "request_evidence", staff("agent"), items=["activation_failure", "客服聊天记录"])
    html = client.get(f"/t/{ticket.tracker_token}?lang=en").get_data(as_text=True)
    assert "Screenshot of the activation failure" in html and "客服聊天记录" in html
    assert 'type="file"' not in html


def test_customer_sees_the_files_they_sent_but_not_staff_evidence(app):
    ticket = make_ticket()
    upload(ticket, ticket.customer, name="我的截图.png")
    upload(ticket, staff("agent"), data=b"internal log\n", name="merchant-log.txt")
    mine = _render('{% include "evidence/_tracker_files.html" %}', ticket=ticket, user=ticket.customer)
    assert "我的截图.png" in mine and "merchant-log.txt" not in mine and "Files you sent" in mine
    public = _render('{% include "evidence/_tracker_items.html" %}', ticket=ticket, user=None)
    assert "我的截图.png" not in public
