"""POST/GET /api/v1/tickets/<ref>/evidence: hostile uploads refused with nothing stored."""

from __future__ import annotations

import io
import os
import re

import pytest

from tests.evidence.helpers import fake_elf, fake_pe, image_bytes, mp4_bytes, pdf_with_text, png_claiming, zip_bytes
from tests.factories import make_ticket, make_user, staff

PNG = image_bytes("PNG")
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!doctype html><html><body><script>fetch('/api/v1/tickets')</script></body></html>"


def post(
    client,
    api,
    ticket,
    user,
    data: bytes | None,
    name: str = "file.png",
    content_type: str = "application/octet-stream",
    **form,
):
    body = dict(form)
    if data is not None:
        body["file"] = (io.BytesIO(data), name, content_type)
    return client.post(
        f"/api/v1/tickets/{ticket.ref}/evidence",
        data=body,
        headers=api.headers(user),
        content_type="multipart/form-data",
    )


HOSTILE = {
    "exe renamed .png": (fake_pe(), "photo.png", "image/png"),
    "elf renamed .jpg": (fake_elf(), "photo.jpg", "image/jpeg"),
    "svg with script": (SVG, "chart.svg", "image/svg+xml"),
    "svg claiming png": (SVG, "chart.png", "image/png"),
    "html": (HTML, "page.html", "text/html"),
    "html claiming text": (HTML, "note.txt", "text/plain"),
    "zip": (zip_bytes(), "evidence.zip", "application/zip"),
    "png+zip polyglot": (PNG + zip_bytes(), "photo.png", "image/png"),
    "image bomb": (png_claiming(100_000, 100_000), "bomb.png", "image/png"),
    "empty": (b"", "empty.png", "image/png"),
    "traversal name, exe content": (fake_pe(), "../../../../etc/cron.d/evil.png", "image/png"),
    "long name, html content": (HTML, "截" * 3000 + ".png", "image/png"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_upload_is_refused_and_nothing_stored(client, api, app, stored, case):
    ticket = make_ticket()
    data, name, ctype = HOSTILE[case]
    resp = post(client, api, ticket, ticket.customer, data, name, ctype)
    assert resp.status_code == 422, resp.json
    assert resp.json["error"]["code"] == "invalid"
    if case not in ("image bomb", "empty"):
        assert "PNG, JPEG, WebP, GIF, HEIC/HEIF, PDF, plain text, MP4, WebM" in resp.json["error"]["message"]
    assert stored.nothing()


def test_over_the_file_limit_is_413_and_nothing_stored(client, api, app, stored):
    app.config["EVIDENCE_MAX_FILE_BYTES"] = 1000
    ticket = make_ticket()
    resp = post(client, api, ticket, ticket.customer, "退款说明\n".encode() * 200, "note.txt", "text/plain")
    assert resp.status_code == 413 and resp.json["error"]["code"] == "too_large"
    assert stored.nothing()


def test_over_the_request_limit_is_413_json(client, api, app, stored):
    ticket = make_ticket()
    headers = api.headers(ticket.customer)
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    resp = client.post(
        f"/api/v1/tickets/{ticket.ref}/evidence",
        headers=headers,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"a" * 20_000), "big.txt", "text/plain")},
    )
    assert resp.status_code == 413 and resp.json["error"]["code"] == "too_large"
    assert stored.nothing()


def test_content_decides_the_type_not_the_header_or_name(client, api, app, stored):
    ticket = make_ticket()
    resp = post(client, api, ticket, ticket.customer, PNG, "../../../../tmp/evil.html", "text/html")
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert (body["mime"], body["kind"], body["filename"]) == ("image/png", "image", "evil.html")
    assert body["sha256"] and body["size"] == len(PNG) and body["staff"] is False
    root = os.path.realpath(app.config["EVIDENCE_DIR"])
    for path in stored.blobs():  # only content-addressed names inside the evidence dir
        assert os.path.realpath(path).startswith(root + os.sep)
        assert re.fullmatch(r"[0-9a-f]{64}", os.path.basename(path))


def test_very_long_file_name_is_shortened(client, api, app):
    ticket = make_ticket()
    resp = post(client, api, ticket, ticket.customer, PNG, "截" * 3000 + ".png", "image/png")
    assert resp.status_code == 201
    assert len(resp.json["filename"]) <= 200 and resp.json["filename"].endswith(".png")


@pytest.mark.parametrize(
    "data,name,mime",
    [
        (image_bytes("JPEG"), "a.jpg", "image/jpeg"),
        (image_bytes("WEBP"), "a.webp", "image/webp"),
        (image_bytes("GIF"), "a.gif", "image/gif"),
        (pdf_with_text("KM1"), "a.pdf", "application/pdf"),
        ("订单号 KM1 未到账\n".encode(), "a.txt", "text/plain"),
        (mp4_bytes(), "a.mp4", "video/mp4"),
    ],
)
def test_accepted_types(client, api, app, data, name, mime):
    ticket = make_ticket()
    resp = post(client, api, ticket, ticket.customer, data, name)
    assert resp.status_code == 201, resp.json
    assert resp.json["mime"] == mime


def test_someone_elses_ticket_is_404_and_nothing_stored(client, api, app, stored):
    ticket = make_ticket()
    other = make_user("customer")
    assert post(client, api, ticket, other, PNG).status_code == 404
    assert client.get(f"/api/v1/tickets/{ticket.ref}/evidence", headers=api.headers(other)).status_code == 404
    assert client.post(f"/api/v1/tickets/{ticket.ref}/evidence", data={}).status_code == 401
    assert stored.nothing()


def test_upload_for_an_item_then_answer_then_provide(client, api, app):
    ticket = make_ticket(kind="duplicate_charge")
    agent = api.headers(staff("agent"))
    client.post(
        f"/api/v1/tickets/{ticket.ref}/events",
        headers=agent,
        json={"event": "request_evidence", "items": ["payment_record_1", "payment_record_2"]},
    )
    cust = api.headers(ticket.customer)

    def fire():
        return client.post(
            f"/api/v1/tickets/{ticket.ref}/events",
            headers=cust,
            json={"event": "provide_evidence"},
        )

    refused = fire()
    assert refused.status_code == 422 and refused.json["error"]["fields"]["items"] == [
        "payment_record_1",
        "payment_record_2",
    ]
    assert post(client, api, ticket, ticket.customer, PNG, item="payment_record_1").status_code == 201
    assert post(client, api, ticket, ticket.customer, PNG, item="nope").status_code == 422
    answered = post(client, api, ticket, ticket.customer, None, item="payment_record_2", answer="银行只显示一笔")
    assert answered.status_code == 200 and answered.json["provided"] is True
    listing = client.get(f"/api/v1/tickets/{ticket.ref}/evidence", headers=cust).json
    assert [(i["code"], i["provided"]) for i in listing["items"]] == [
        ("payment_record_1", True),
        ("payment_record_2", True),
    ]
    assert [e["item"] for e in listing["evidence"]] == ["payment_record_1"]
    assert fire().status_code == 200


def test_staff_upload_is_staff_evidence(client, api, app):
    ticket = make_ticket("review")
    resp = post(
        client, api, ticket, staff("agent"), b"merchant says: delivered 14:05\n", "reply.txt", answer="商家回复"
    )
    assert resp.status_code == 201 and resp.json["staff"] is True and resp.json["note"] == "商家回复"


def test_openapi_documents_the_upload(client, app):
    spec = client.get("/api/v1/openapi.json").json
    op = spec["paths"]["/api/v1/tickets/{ref}/evidence"]["post"]
    assert {"201", "413", "422"} <= set(op["responses"])
    assert "multipart/form-data" in op["requestBody"]["content"]
    assert "Evidence" in spec["components"]["schemas"]


def test_upload_over_the_stream_cap_stops_while_parsing_and_nothing_stored(client, api, app, stored):
    app.config.update(EVIDENCE_MAX_FILE_BYTES=1000, EVIDENCE_MAX_VIDEO_BYTES=2000)
    ticket = make_ticket()
    resp = post(client, api, ticket, ticket.customer, mp4_bytes(b"\0" * 5000), "clip.mp4", "video/mp4")
    assert resp.status_code == 413 and resp.json["error"]["code"] == "too_large"
    assert stored.nothing()


def test_fields_after_the_file_part_are_still_read(client, api, app):
    ticket = make_ticket("evidence")
    code = client.get(f"/api/v1/tickets/{ticket.ref}/evidence", headers=api.headers(ticket.customer)).json
    code = code["items"][0]["code"]
    boundary = "xyzBOUNDARYxyz"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + PNG
        + (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="item"\r\n\r\n{code}\r\n--{boundary}--\r\n'
        ).encode()
    )
    resp = client.post(
        f"/api/v1/tickets/{ticket.ref}/evidence",
        data=body,
        headers=api.headers(ticket.customer),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert resp.status_code == 201 and resp.json["item"] == code


def test_a_file_larger_than_the_parse_buffer_streams_through(client, api, app, stored):
    from app.evidence.uploads import PARSE_BUFFER

    ticket = make_ticket()
    data = mp4_bytes(os.urandom(3 * PARSE_BUFFER + 123))
    resp = post(client, api, ticket, ticket.customer, data, "clip.mp4", "video/mp4")
    assert resp.status_code == 201, resp.json
    assert resp.json["size"] == len(data)
    with open(stored.blobs()[0], "rb") as f:
        assert f.read() == data


def test_ticket_json_lists_requested_items_and_files(client, api, app):
    ticket = make_ticket("evidence")
    post(client, api, ticket, ticket.customer, PNG, "a.png")
    body = client.get(f"/api/v1/tickets/{ticket.ref}", headers=api.headers(ticket.customer)).json
    assert [i["label"] for i in body["evidence_items"]] == ["payment record"]
    assert [e["filename"] for e in body["evidence"]] == ["a.png"]
    assert body["timeline"][-1]["event"] == "evidence_added"
