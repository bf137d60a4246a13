"""HEIC/HEIF photos from iPhones: recognised by content, kept as sent with their hash, shown as JPEG."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from app.errors import EvidenceRejected
from app.evidence import services, validation
from app.extensions import db
from tests.evidence.helpers import exif_with_gps, heic_bytes, mp4_bytes
from tests.factories import make_ticket, staff


def _write(tmp_path, data: bytes, name="IMG_0001.HEIC"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_heic_is_recognised_by_its_content_whatever_its_name(tmp_path):
    detected = validation.sniff(_write(tmp_path, heic_bytes(), "photo.jpg"))
    assert (detected.mime, detected.kind, detected.ext) == ("image/heic", "image", "heic")
    assert validation.sniff(_write(tmp_path, mp4_bytes(b"\x00" * 64), "clip.heic")).mime == "video/mp4"


@pytest.mark.parametrize(
    "data",
    [
        heic_bytes()[:200],  # truncated: the header is there, the picture is not
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200,  # a brand and nothing else
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 200,  # AVIF is not accepted
    ],
)
def test_damaged_or_fake_heic_is_refused(tmp_path, data):
    with pytest.raises(EvidenceRejected):
        validation.sniff(_write(tmp_path, data))


def test_an_iphone_photo_is_kept_as_sent_and_shown_as_a_jpeg_without_its_location(client, browser, app):
    original = heic_bytes(size=(640, 480), exif=exif_with_gps())
    ticket = make_ticket()
    ev = services.attach_evidence(ticket, io.BytesIO(original), "IMG_0001.HEIC", ticket.customer)
    db.session.refresh(ev)
    assert ev.mime == "image/heic" and ev.kind == "image"
    assert ev.sha256 == hashlib.sha256(original).hexdigest() and ev.size == len(original)
    assert ev.safe_mime == "image/jpeg" and ev.thumb_key

    browser.login(ticket.customer)
    kept = client.get(f"/evidence/{ev.id}/file")
    assert kept.data == original and kept.headers["Content-Type"] == "image/heic"  # the original, byte for byte
    assert "IMG_0001.HEIC" in kept.headers["Content-Disposition"]
    jpeg = client.get(f"/evidence/{ev.id}/clean")
    assert jpeg.headers["Content-Type"] == "image/jpeg" and jpeg.data[:2] == b"\xff\xd8"
    with Image.open(io.BytesIO(jpeg.data)) as im:
        assert im.size == (640, 480) and 0x8825 not in im.getexif() and not im.info.get("exif")
    thumb = client.get(f"/evidence/{ev.id}/thumb")
    assert thumb.headers["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(thumb.data)) as im:
        assert max(im.size) <= 320

    page = client.get(f"/tickets/{ticket.ref}").get_data(as_text=True)
    assert f'src="/evidence/{ev.id}/thumb"' in page and f'href="/evidence/{ev.id}/clean">JPEG copy' in page
    assert "HEIC/HEIF" in page and "image/heic" in page  # accepted, and offered by the file picker

    browser.logout()
    browser.login(staff("agent"))
    assert "IMG_0001.HEIC" in client.get(f"/tickets/{ticket.ref}").get_data(as_text=True)
