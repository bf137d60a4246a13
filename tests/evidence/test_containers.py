"""Files that only start like an MP4, WebM or PDF are refused: the container structure is checked."""

import io
import os
import struct

import pytest

from app.errors import EvidenceRejected
from app.evidence.validation import sniff
from tests.evidence import helpers

JUNK = os.urandom(3000).replace(b"PK", b"pk")  # no accidental zip signature
_FTYP = struct.pack(">I", 24) + b"ftypisom\x00\x00\x02\x00isomiso2"
_EBML_HEADER = helpers.webm_bytes()[: helpers.webm_bytes().index(bytes.fromhex("18538067"))]

FAKES = {
    "mp4: ftyp then arbitrary bytes": (_FTYP + JUNK, "MP4"),
    "mp4: ftyp, free, empty mdat, no moov": (
        _FTYP + struct.pack(">I4s", 8, b"free") + struct.pack(">I4s", 8, b"mdat"),
        "MP4",
    ),
    "mp4: real boxes then trailing bytes": (helpers.mp4_bytes() + JUNK, "MP4"),
    "mp4: box longer than the file": (_FTYP + struct.pack(">I4s", 10_000, b"moov") + b"\0" * 100, "MP4"),
    "webm: EBML header then arbitrary bytes": (_EBML_HEADER + JUNK, "WebM"),
    "webm: Segment of zeros": (_EBML_HEADER + bytes.fromhex("18538067") + b"\x01" + b"\x00" * 40, "WebM"),
    "webm: matroska doctype padded as webm": (helpers.webm_bytes(doctype=b"webmx"), "WebM"),
    "pdf: header, arbitrary bytes, %%EOF": (b"%PDF-1.4\n" + JUNK + b"\n%%EOF\n", "PDF"),
    "pdf: real objects, xref and trailer removed": (
        helpers.pdf_with_text("x")[: helpers.pdf_with_text("x").index(b"xref")] + b"%%EOF\n",
        "PDF",
    ),
}


@pytest.mark.parametrize("name", FAKES)
def test_fake_container_is_refused(tmp_path, name):
    data, kind = FAKES[name]
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    with pytest.raises(EvidenceRejected) as err:
        sniff(path)
    assert kind in str(err.value.message) or "not accepted" in str(err.value.message), name


@pytest.mark.parametrize(
    "data",
    [helpers.mp4_bytes(os.urandom(5000)), helpers.webm_bytes(), helpers.pdf_with_text("KM1")],
    ids=["mp4", "webm", "pdf"],
)
def test_real_containers_still_pass(tmp_path, data):
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    assert sniff(path).kind in ("video", "pdf")


def test_fake_video_upload_through_the_api_is_refused_and_not_stored(client, api, app, stored):
    from tests.factories import make_ticket

    ticket = make_ticket()
    resp = client.post(
        f"/api/v1/tickets/{ticket.ref}/evidence",
        data={"file": (io.BytesIO(_FTYP + JUNK), "clip.mp4", "video/mp4")},
        headers=api.headers(ticket.customer),
    )
    assert resp.status_code == 422 and "MP4" in resp.json["error"]["message"]
    assert stored.nothing()
