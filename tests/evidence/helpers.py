"""Builders for evidence test files: real images, hostile files, tiny media containers."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image


def image_bytes(fmt: str = "PNG", size=(64, 48), color="red", **save) -> bytes:
    buf = io.BytesIO()
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    Image.new(mode, size, color).save(buf, fmt, **save)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A small, well-formed PNG whose header claims width x height pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("payload.html", "<script>alert(1)</script>")
    return buf.getvalue()


def fake_pe() -> bytes:
    """MZ header pointing at a PE signature with an i386 COFF header: what libmagic calls an exe."""
    pe = bytearray(1024)
    pe[0:2] = b"MZ"
    pe[0x3C:0x40] = struct.pack("<I", 0x80)
    pe[0x80:0x84] = b"PE\0\0"
    pe[0x84:0x86] = struct.pack("<H", 0x14C)
    return bytes(pe)


def fake_elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + struct.pack("<HHI", 2, 0x3E, 1) + b"\x00" * 100


def fake_macho() -> bytes:
    return b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 100


def _box(kind: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(data)) + kind + data


def mp4_bytes(media: bytes = b"") -> bytes:
    """A tiny ISO BMFF file with the boxes a real MP4 has: ftyp, moov (mvhd), mdat (carrying *media*)."""
    mvhd = _box(b"mvhd", b"\x00" * 100)
    return _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2") + _box(b"moov", mvhd) + _box(b"free") + _box(b"mdat", media)


def _ebml(ident: str, data: bytes) -> bytes:
    size = bytes([0x80 | len(data)]) if len(data) < 127 else (0x01 << 56 | len(data)).to_bytes(8, "big")
    return bytes.fromhex(ident) + size + data


def webm_bytes(doctype: bytes = b"webm") -> bytes:
    """A tiny WebM: EBML header (DocType webm), then a Segment with Info, Tracks and one Cluster."""
    header = _ebml("1A45DFA3", _ebml("4286", b"\x01") + _ebml("4282", doctype) + _ebml("4287", b"\x04"))
    info = _ebml("1549A966", _ebml("2AD7B1", (1_000_000).to_bytes(3, "big")))
    tracks = _ebml("1654AE6B", _ebml("AE", _ebml("D7", b"\x01") + _ebml("86", b"V_VP8")))
    cluster = _ebml("1F43B675", _ebml("E7", b"\x00") + _ebml("A3", b"\x81\x00\x00\x80" + b"\x00" * 16))
    return header + _ebml("18538067", info + tracks + cluster)


def m4a_bytes() -> bytes:
    return struct.pack(">I", 24) + b"ftypM4A " + b"\x00\x00\x02\x00M4A isom" + struct.pack(">I", 8) + b"mdat"


def pdf_with_text(text: str) -> bytes:
    """A minimal but valid one-page PDF (correct xref) showing *text* in Helvetica."""
    content = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def heic_bytes(size=(64, 48), color="red", exif: bytes | None = None) -> bytes:
    """A real (tiny) HEIC photo, as iPhones send them, encoded by pillow-heif at test time."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "HEIF", quality=60, **({"exif": exif} if exif else {}))
    return buf.getvalue()


def exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Apple"  # Make
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPS IFD: latitude
    return exif.tobytes()
