import gzip

import pytest
from PIL import Image

from app.errors import EvidenceRejected, TooLarge
from app.evidence import validation
from app.evidence.validation import DetectedType, Limits, check_upload, sanitize_filename, sniff
from tests.evidence import helpers


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


ACCEPTED = [
    ("shot.png", helpers.image_bytes("PNG"), DetectedType("image/png", "image", "png")),
    ("photo.jpg", helpers.image_bytes("JPEG"), DetectedType("image/jpeg", "image", "jpg")),
    ("pic.webp", helpers.image_bytes("WEBP"), DetectedType("image/webp", "image", "webp")),
    ("anim.gif", helpers.image_bytes("GIF"), DetectedType("image/gif", "image", "gif")),
    ("receipt.pdf", helpers.pdf_with_text("KM202611260001"), DetectedType("application/pdf", "pdf", "pdf")),
    ("chat.txt", "订单号：KM202611260001\n商家不退款\n".encode(), validation.TEXT),
    ("chat-bom.txt", "\ufeff聊天记录\r\n".encode(), validation.TEXT),
    ("chat-gbk.txt", "订单号：KM202611260001 商家拒绝退款，请处理。\n".encode("gb18030"), validation.TEXT),
    ("clip.mp4", helpers.mp4_bytes(), DetectedType("video/mp4", "video", "mp4")),
    ("clip.webm", helpers.webm_bytes(), DetectedType("video/webm", "video", "webm")),
]


@pytest.mark.parametrize("name,data,expected", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepted_types_detected_by_content(tmp_path, name, data, expected):
    # The name is irrelevant: store everything as "upload.bin".
    assert sniff(write(tmp_path, "upload.bin", data)) == expected


def test_pillow_pdf_is_accepted(tmp_path):
    path = tmp_path / "scan.pdf"
    Image.new("RGB", (100, 100), "white").save(path, "PDF")
    assert sniff(path).kind == "pdf"


HOSTILE = {
    "exe_renamed.png": helpers.fake_pe(),
    "elf.jpg": helpers.fake_elf(),
    "macho.gif": helpers.fake_macho(),
    "script.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>',
    "svg_no_ns.txt": b"<svg onload=alert(1)>",
    "page.html": b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    "page.txt": b"  <html><body>hi</body></html>",
    "script.txt": b"<script>alert(1)</script>",
    "doc.xml": b'<?xml version="1.0"?><a>b</a>',
    "archive.zip": helpers.zip_bytes(),
    "archive.gz": gzip.compress(b"hello world"),
    "archive.rar": b"Rar!\x1a\x07\x01\x00" + b"\x00" * 64,
    "archive.7z": b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 64,
    "shell.txt": b"#!/bin/sh\nrm -rf /\n",
    "nul.txt": b"hello\x00world\n",
    "audio.mp4": helpers.m4a_bytes(),
    "polyglot.png": helpers.image_bytes("PNG") + helpers.zip_bytes(),
    "polyglot.jpg": helpers.image_bytes("JPEG") + helpers.zip_bytes(),
    "pdf_header_zip.pdf": b"%PDF-1.4\n" + helpers.zip_bytes(),
    "pdf_no_eof.pdf": helpers.pdf_with_text("x").replace(b"%%EOF", b"%%XXX") + b"\n" * 2000,
    "broken.png": b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"garbage!" * 20,
    "bad_crc.png": helpers.image_bytes("PNG")[:-5] + b"XXXXX",
    "broken.jpg": helpers.image_bytes("JPEG")[:20] + b"\xff" * 200,
    "empty.png": b"",
    "random.bin": bytes(range(256)) * 8,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_uploads_refused(tmp_path, name):
    with pytest.raises(EvidenceRejected):
        sniff(write(tmp_path, name, HOSTILE[name]))


def test_refusal_message_names_accepted_types(tmp_path):
    with pytest.raises(EvidenceRejected) as exc:
        sniff(write(tmp_path, "x.png", helpers.fake_pe()))
    message = str(exc.value.message)  # a lazy string: str() works with no app context
    assert "PNG" in message and "PDF" in message and "plain text" in message
    assert exc.value.code == "invalid" and exc.value.status == 422


def test_zero_byte_file_refused(tmp_path):
    with pytest.raises(EvidenceRejected, match="empty"):
        sniff(write(tmp_path, "empty.txt", b""))


def test_image_bomb_refused(tmp_path):
    with pytest.raises(EvidenceRejected, match="megapixels"):
        sniff(write(tmp_path, "bomb.png", helpers.png_claiming(100_000, 100_000)))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_image_just_over_the_pixel_limit_refused(tmp_path):
    # 7000 x 7000 = 49 MP: over our 40 MP limit, under Pillow's own error threshold (2x).
    with pytest.raises(EvidenceRejected, match="megapixels"):
        sniff(write(tmp_path, "big.png", helpers.png_claiming(7000, 7000)))


def test_polyglot_png_with_appended_zip_refused_with_reason(tmp_path):
    with pytest.raises(EvidenceRejected, match="archive"):
        sniff(write(tmp_path, "poly.png", helpers.image_bytes("PNG") + helpers.zip_bytes()))


def test_puremagic_fallback_when_libmagic_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(validation, "_magic", None)
    assert validation.detector_name() == "puremagic"
    for name, data, expected in ACCEPTED:
        assert sniff(write(tmp_path, name, data)) == expected
    for name in ("exe_renamed.png", "script.svg", "archive.zip", "page.html", "polyglot.png"):
        with pytest.raises(EvidenceRejected):
            sniff(write(tmp_path, name, HOSTILE[name]))


def test_broken_libmagic_degrades_to_puremagic(tmp_path, monkeypatch):
    class Broken:
        @staticmethod
        def from_file(path, mime=True):
            raise RuntimeError("libmagic exploded")

    monkeypatch.setattr(validation, "_magic", Broken)
    assert sniff(write(tmp_path, "a", helpers.image_bytes("JPEG"))).mime == "image/jpeg"
    assert validation.detector_name() == "puremagic"


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\cmd.exe", "cmd.exe"),
        ("C:\\Users\\张三\\Desktop\\退款截图.png", "退款截图.png"),
        ("订单 截图 2026.png", "订单 截图 2026.png"),
        (".bashrc", "bashrc"),
        ("...", "file"),
        ("..", "file"),
        ("", "file"),
        ("   ", "file"),
        ("/", "file"),
        ("a\x00b\nc\td.txt", "abcd.txt"),
        ("invoice\u202egnp.exe", "invoicegnp.exe"),
        ('a<b>:"|?*.txt', "a_b______.txt"),
        ("report.pdf. . ", "report.pdf"),
    ],
)
def test_sanitize_filename(raw, expected):
    assert sanitize_filename(raw) == expected


def test_sanitize_filename_long_names_keep_extension():
    name = sanitize_filename("截" * 300 + ".png")
    assert len(name) == 120 and name.endswith(".png") and name.startswith("截")
    assert len(sanitize_filename("a" * 300)) == 120
    assert len(sanitize_filename("b" * 300 + ".jpeg", max_len=40)) == 40


def test_limits_defaults_and_config():
    limits = Limits()
    assert (limits.max_file_bytes, limits.max_video_bytes) == (20 * 2**20, 100 * 2**20)
    assert (limits.max_files_per_ticket, limits.max_bytes_per_ticket) == (20, 200 * 2**20)
    assert limits.stream_cap == 100 * 2**20
    configured = Limits.from_config({"EVIDENCE_MAX_FILE_BYTES": 1000, "EVIDENCE_MAX_FILES": 3})
    assert configured == Limits(max_file_bytes=1000, max_files_per_ticket=3)


def test_limits_check():
    limits = Limits(max_file_bytes=100, max_video_bytes=1000, max_files_per_ticket=2, max_bytes_per_ticket=1500)
    image, video = DetectedType("image/png", "image", "png"), DetectedType("video/mp4", "video", "mp4")
    limits.check(image, 100)
    limits.check(video, 1000)
    with pytest.raises(TooLarge):
        limits.check(image, 101)
    with pytest.raises(TooLarge):
        limits.check(video, 1001)
    with pytest.raises(EvidenceRejected):
        limits.check(image, 10, ticket_files=2)
    with pytest.raises(TooLarge):
        limits.check(video, 600, ticket_files=1, ticket_bytes=1000)


def test_check_upload(tmp_path):
    data = helpers.image_bytes("PNG")
    path = write(tmp_path, "a.png", data)
    assert check_upload(path, len(data), Limits()).kind == "image"
    with pytest.raises(TooLarge):
        check_upload(path, len(data), Limits(max_file_bytes=10))
