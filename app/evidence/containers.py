"""Container structure checks for the media and document types: more than the first bytes.

A file that only starts like an MP4, WebM or PDF (a magic number followed by arbitrary bytes)
must not pass as one. Each check walks the container far enough to show it is one:

- MP4 (ISO BMFF): the top-level boxes are walked from the first byte to the last; every box
  has a sane size and a printable four-letter type, the first is `ftyp`, and `moov` and
  `mdat` are both present. Trailing bytes that are not a box fail.
- WebM (EBML/Matroska): an EBML header whose DocType is exactly `webm`, followed by a
  Segment whose first level-1 elements are known Segment children, with Info and Tracks
  before the first Cluster.
- PDF: pypdf parses the cross-reference table / streams and the page tree (at least one page).

Each returns None when the structure holds and raises ContainerError otherwise.
Pure module: no Flask app, no database.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

MAX_BOXES = 100_000  # more top-level boxes than any real file has: refuse instead of walking on
_SEGMENT_CHILDREN = {
    0x114D9B74: "SeekHead",
    0x1549A966: "Info",
    0x1654AE6B: "Tracks",
    0x1F43B675: "Cluster",
    0x1C53BB6B: "Cues",
    0x1941A469: "Attachments",
    0x1043A770: "Chapters",
    0x1254C367: "Tags",
    0xEC: "Void",
    0xBF: "CRC-32",
}


class ContainerError(ValueError):
    """The file's structure is not that of the type its first bytes claim."""


def check_mp4(path: str) -> None:
    size = os.path.getsize(path)
    seen: list[bytes] = []
    with open(path, "rb") as f:
        pos = 0
        while pos < size:
            if len(seen) >= MAX_BOXES:
                raise ContainerError("too many boxes")
            head = _read_exact(f, pos, 8)
            box_size, box_type = struct.unpack(">I4s", head)
            header = 8
            if box_size == 1:
                (box_size,) = struct.unpack(">Q", _read_exact(f, pos + 8, 8))
                header = 16
            elif box_size == 0:  # extends to the end of the file
                box_size = size - pos
            if not all(0x20 <= b <= 0x7E for b in box_type) and box_type != b"\xa9too":
                raise ContainerError(f"box type {box_type!r} at {pos} is not a four-letter code")
            if box_size < header or pos + box_size > size:
                raise ContainerError(f"box {box_type!r} at {pos} has an impossible size")
            if not seen and box_type != b"ftyp":
                raise ContainerError("the first box is not ftyp")
            seen.append(box_type)
            pos += box_size
    if b"moov" not in seen or b"mdat" not in seen:
        raise ContainerError("no moov or no mdat box")


def check_webm(path: str) -> None:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        ident, length, pos = _element(f, 0)
        if ident != 0x1A45DFA3 or length is None:
            raise ContainerError("no EBML header")
        header_end = pos + length
        doctype = None
        while pos < header_end:
            child, child_len, data = _element(f, pos)
            if child_len is None or data + child_len > header_end:
                raise ContainerError("EBML header element overruns the header")
            if child == 0x4282:
                doctype = _read_exact(f, data, child_len).rstrip(b"\x00")
            pos = data + child_len
        if doctype != b"webm":
            raise ContainerError("EBML DocType is not webm")
        ident, length, pos = _element(f, header_end)
        if ident != 0x18538067:
            raise ContainerError("no Segment after the EBML header")
        end = size if length is None else pos + length
        if end > size:
            raise ContainerError("the Segment is longer than the file")
        found: set[str] = set()
        while pos < end:
            child, child_len, data = _element(f, pos)
            name = _SEGMENT_CHILDREN.get(child)
            if name is None:
                raise ContainerError(f"unknown Segment child {child:#x} at {pos}")
            if name == "Cluster":
                break
            found.add(name)
            if child_len is None or data + child_len > end:
                raise ContainerError(f"{name} overruns the Segment")
            pos = data + child_len
        else:
            raise ContainerError("no Cluster in the Segment")
        if not {"Info", "Tracks"} <= found:
            raise ContainerError("no Info or Tracks before the first Cluster")


def check_pdf(path: str) -> None:
    from pypdf import PdfReader

    try:
        with open(path, "rb") as f:
            if not f.read(1024).startswith(b"%PDF-"):
                raise ContainerError("no %PDF- header")
            f.seek(max(0, os.path.getsize(path) - 1024))
            if b"%%EOF" not in f.read():
                raise ContainerError("no %%EOF trailer")
            f.seek(0)
            reader = PdfReader(f, strict=False)  # real-world PDFs have small xref slips
            if len(reader.pages) < 1:
                raise ContainerError("no pages")
    except ContainerError:
        raise
    except Exception as exc:  # pypdf raises many kinds (PdfReadError, KeyError, ValueError...)
        raise ContainerError(f"pypdf cannot read it: {exc.__class__.__name__}") from exc


def _read_exact(f: BinaryIO, pos: int, n: int) -> bytes:
    f.seek(pos)
    data = f.read(n)
    if len(data) != n:
        raise ContainerError(f"truncated at {pos}")
    return data


def _vint(f: BinaryIO, pos: int, *, keep_marker: bool) -> tuple[int | None, int]:
    """An EBML variable-length integer at `pos`: (value or None when 'unknown size', next pos)."""
    first = _read_exact(f, pos, 1)[0]
    if first == 0:
        raise ContainerError(f"invalid EBML number at {pos}")
    width = 8 - first.bit_length() + 1
    rest = _read_exact(f, pos + 1, width - 1) if width > 1 else b""
    value = first if keep_marker else first & (0xFF >> width)
    for b in rest:
        value = (value << 8) | b
    if not keep_marker and value == (1 << (7 * width)) - 1:
        return None, pos + width
    return value, pos + width


def _element(f: BinaryIO, pos: int) -> tuple[int, int | None, int]:
    """(element id, data length or None if unknown, position of the data)."""
    ident, pos = _vint(f, pos, keep_marker=True)
    if ident is None or ident > 0x1FFFFFFF:
        raise ContainerError("invalid EBML element id")
    length, pos = _vint(f, pos, keep_marker=False)
    return ident, length, pos


# ISO BMFF brands of HEIF stills (iPhone photos are "heic"); AVIF (also HEIF) is not accepted.
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
AVIF_BRANDS = frozenset({b"avif", b"avis"})


def heif_mime(path: str) -> str | None:
    """ "image/heic" / "image/heif" when the file starts with an ftyp box naming a HEIF brand, else None.

    Decided here, not by the detector: puremagic calls any ftyp file an MP4."""
    with open(path, "rb") as f:
        head = f.read(64)
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    size = min(struct.unpack(">I", head[:4])[0], len(head))
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, size - 3, 4)}
    if brands & AVIF_BRANDS:
        return None
    if brands & HEIC_BRANDS:
        return "image/heic"
    if brands & HEIF_BRANDS:
        return "image/heif"
    return None
