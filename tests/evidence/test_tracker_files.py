"""The customer's own files on their tracker at every stage (never staff files, never on the public link),
upload errors next to the upload, and more material during review and after an appeal."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine

from app.errors import NotAllowed
from app.evidence import services
from app.evidence.models import Evidence
from app.extensions import db
from app.types import utcnow
from app.workflow.service import apply_event
from tests.evidence.helpers import fake_pe, image_bytes, pdf_with_text
from tests.factories import make_ticket, staff

PNG = image_bytes("PNG", size=(400, 300))


def _attach(ticket, user, data=PNG, name="付款截图.png", **kw):
    return services.attach_evidence(ticket, io.BytesIO(data), name, user, **kw)


def _page(client, path: str) -> str:
    return client.get(path).get_data(as_text=True)


def _files_section(html: str) -> str:
    m = re.search(r'<section class="box my-files" id="my-files".*?</section>', html, re.S)
    return m.group(0) if m else ""


@pytest.mark.parametrize("state", ["submitted", "evidence", "review", "finance", "paid", "rejected", "closed"])
def test_the_customer_sees_their_files_at_every_stage_but_never_staff_files(client, browser, app, state):
    ticket = make_ticket()
    _attach(ticket, ticket.customer, checklist_code="payment_record")
    _attach(ticket, ticket.customer, pdf_with_text("KM 128.00"), "bill.pdf")
    _attach(ticket, staff("agent"), b"merchant says: delivered\n", "merchant-log.txt")
    from tests.factories import PATHS

    for event, role, opts in PATHS[state]:
        actor = ticket.customer if role == "customer" else None if role == "system" else staff(role)
        apply_event(ticket, event, actor, **opts)
    browser.login(ticket.customer)
    section = _files_section(_page(client, f"/tickets/{ticket.ref}"))
    assert "Files you sent" in section
    assert "付款截图.png" in section and "bill.pdf" in section and "merchant-log.txt" not in section
    png = db.session.query(Evidence).filter_by(filename="付款截图.png").one()
    assert f'src="/evidence/{png.id}/thumb"' in section  # a thumbnail for the image
    assert "Image" in section and "PDF" in section and "For: Payment record" in section
    assert re.search(r"<time datetime=\"[^\"]+\">\d{4}-\d{2}-\d{2} \d{2}:\d{2}", section)
    assert client.get(f"/evidence/{png.id}/thumb").status_code == 200
    assert ("Add more material" in section) == (state in ("submitted", "evidence", "review", "finance"))


def test_the_public_link_shows_no_file_at_all(client, app):
    ticket = make_ticket()
    _attach(ticket, ticket.customer, checklist_code="payment_record")
    apply_event(ticket, "request_evidence", staff("agent"), items=["payment_record", "delivery_status"])
    html = _page(client, f"/t/{ticket.tracker_token}?lang=en")
    assert "付款截图.png" not in html and "/evidence/" not in html and "Files you sent" not in html
    assert "Payment record" in html  # the requested items, read-only


def test_a_refused_upload_is_shown_next_to_its_form(client, browser, app):
    ticket = make_ticket("evidence")
    browser.login(ticket.customer)
    resp = client.post(
        f"/tickets/{ticket.ref}/evidence",
        content_type="multipart/form-data",
        data={
            "csrf_token": browser.csrf(),
            "file": (io.BytesIO(fake_pe()), "photo.png"),
            "key": "more",
            "next": f"/tickets/{ticket.ref}#upload-more",
        },
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("#upload-more")  # back to the form
    assert browser.flashes() == []  # not (only) at the top of the page
    html = _page(client, f"/tickets/{ticket.ref}")
    form = re.search(r'<form [^>]*id="upload-more"[^>]*>.*?</form>', html, re.S).group(0)
    assert re.search(r'<p class="error upload-error" role="alert">This file type is not accepted', form)
    assert 'aria-invalid="true"' in form and 'aria-live="polite"' in form
    assert "This file type is not accepted" not in html.replace(form, "")
    again = _page(client, f"/tickets/{ticket.ref}")  # shown once
    assert "This file type is not accepted" not in again


def test_with_the_progress_bar_the_upload_answers_json(client, browser, app):
    ticket = make_ticket("review")
    browser.login(ticket.customer)
    headers = {"X-Upload-Progress": "1", "Accept": "application/json"}

    def post(data, name):
        return client.post(
            f"/tickets/{ticket.ref}/evidence",
            content_type="multipart/form-data",
            headers=headers,
            data={
                "csrf_token": browser.csrf(),
                "file": (io.BytesIO(data), name),
                "key": "more",
                "next": f"/tickets/{ticket.ref}#my-files",
            },
        )

    bad = post(fake_pe(), "x.png")
    assert bad.status_code == 422 and bad.get_json()["error"]["key"] == "more"
    assert "not accepted" in bad.get_json()["error"]["message"]
    ok = post(PNG, "more.png")
    assert ok.status_code == 201 and ok.get_json() == {"redirect": f"/tickets/{ticket.ref}#my-files"}
    assert "more.png" in _files_section(_page(client, f"/tickets/{ticket.ref}"))
    app.config["EVIDENCE_MAX_VIDEO_BYTES"] = app.config["EVIDENCE_MAX_FILE_BYTES"] = 1000
    big = post(b"a\n" * 2000, "big.txt")
    assert big.status_code == 413 and "too large" in big.get_json()["error"]["message"]


def test_the_upload_forms_carry_a_progress_area_and_the_size_limit(client, browser, app):
    ticket = make_ticket("evidence")
    browser.login(ticket.customer)
    html = _page(client, f"/tickets/{ticket.ref}")
    forms = re.findall(r"<form [^>]*data-upload-progress[^>]*>.*?</form>", html, re.S)
    assert len(forms) == 2  # the requested item and "add more material"
    for form in forms:
        assert 'class="upload-status"' in form and 'aria-live="polite"' in form
        assert f'data-max-bytes="{app.config["EVIDENCE_MAX_VIDEO_BYTES"]}"' in form


def test_more_material_during_review_and_after_an_appeal(client, browser, app):
    ticket = make_ticket("review")
    browser.login(ticket.customer)
    assert "Add more material" in _page(client, f"/tickets/{ticket.ref}")
    _attach(ticket, ticket.customer, name="review.png")
    apply_event(ticket, "reject", staff("agent"), reason="no proof")
    page = _page(client, f"/tickets/{ticket.ref}")
    assert "Add more material" not in page and "review.png" in _files_section(page)  # still shown, closed
    with time_machine.travel(utcnow() + timedelta(minutes=31)):  # past the grace after filing
        with pytest.raises(NotAllowed, match="closed"):
            _attach(ticket, ticket.customer, name="late.png")
        apply_event(ticket, "appeal", ticket.customer, reason="here is the missing proof")
        assert ticket.state == "review"
        assert "Add more material" in _page(client, f"/tickets/{ticket.ref}")
        _attach(ticket, ticket.customer, name="appeal.png")
        assert "appeal.png" in _files_section(_page(client, f"/tickets/{ticket.ref}"))
