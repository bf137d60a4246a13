"""What an uploaded file really is, decided by its content, and whether we accept it.

Detection uses libmagic (python-magic) when the shared library loads, otherwise
puremagic; either way the detected type is then *verified* by a format-specific check
(Pillow open+verify for images, the container structure for PDF, MP4 and WebM — see
containers.py — and a strict decode for text), and any file that is also a zip archive is refused — this is
what catches polyglots such as a PNG or PDF with a zip appended. The file name is never
consulted. HEIC/HEIF (iPhone photos) is recognised by its ftyp brand (containers.heif_mime) and verified by
decoding it with pillow-heif. Pure module: no Flask app, no database.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import puremagic
from flask_babel import lazy_gettext as _l

from app.errors import EvidenceRejected, TooLarge
from app.evidence import containers, images

_magic: Any
try:  # libmagic is the most thorough detector; fall back to pure-Python puremagic.
    import magic as _magic
except ImportError:  # python-magic missing, or libmagic1 (the shared library) not installed
    _magic = None

log = logging.getLogger(__name__)

# libmagic reads up to 7 MiB of a file by default (and keeps a copy): 1 MiB is plenty for the
# types we accept and keeps an upload's memory flat (see bench/upload_bench.py).
LIBMAGIC_BYTES_MAX = 1024 * 1024
if _magic is not None:
    try:
        _magic._get_magic_type(True).setparam(_magic.MAGIC_PARAM_BYTES_MAX, LIBMAGIC_BYTES_MAX)
    except Exception:  # older libmagic without the parameter: keep its default
        log.info("could not limit libmagic's read size", exc_info=True)

Kind = Literal["image", "pdf", "text", "video"]
ACCEPTED_TYPES = "PNG, JPEG, WebP, GIF, HEIC/HEIF, PDF, plain text, MP4, WebM"
# The file inputs' `accept` (a hint to the browser's picker; the server decides by content).
ACCEPT_ATTR = (
    "image/png,image/jpeg,image/webp,image/gif,image/heic,image/heif,.heic,.heif,"
    "application/pdf,text/plain,video/mp4,video/webm"
)
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class DetectedType:
    mime: str
    kind: Kind
    ext: str


_BINARY: dict[str, DetectedType] = {
    "image/png": DetectedType("image/png", "image", "png"),
    "image/jpeg": DetectedType("image/jpeg", "image", "jpg"),
    "image/webp": DetectedType("image/webp", "image", "webp"),
    "image/gif": DetectedType("image/gif", "image", "gif"),
    # iPhone photos: kept as sent (with their hash); shown as a JPEG copy and a thumbnail (jobs.py)
    "image/heic": DetectedType("image/heic", "image", "heic"),
    "image/heif": DetectedType("image/heif", "image", "heif"),
    "application/pdf": DetectedType("application/pdf", "pdf", "pdf"),
    "video/mp4": DetectedType("video/mp4", "video", "mp4"),
    "video/webm": DetectedType("video/webm", "video", "webm"),
}
TEXT = DetectedType("text/plain", "text", "txt")
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-pdf": "application/pdf",
    "image/heic-sequence": "image/heic",
    "image/heif-sequence": "image/heif",
}
_PILLOW_FORMAT = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
# Text-like types that browsers render or execute: never accepted as "plain text".
_MARKUP_MIMES = {
    "text/html",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
    "image/svg+xml",
    "text/x-php",
    "application/javascript",
    "text/javascript",
}
# After BOM/whitespace: what browsers sniff as HTML/XML (WHATWG list + svg, php) or a shebang.
_MARKUP_START = re.compile(
    r"^\s*(?:#!|<(?:!doctype|!--|\?xml|\?php|(?:svg|html|head|body|script|iframe|h1|div|font|table|a|style"
    r"|title|b|br|p|meta|link|object|embed|math|frameset|frame|img|form|base)(?=[\s>/]|$)))",
    re.IGNORECASE,
)
# C0/C1 controls other than \t \n \v \f \r and ESC: the mark of a binary file.
_BAD_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")


def _unsupported() -> EvidenceRejected:
    return EvidenceRejected(_l("This file type is not accepted. Accepted types: %(types)s.", types=ACCEPTED_TYPES))


def detector_name() -> str:
    """ "libmagic" when python-magic/libmagic is usable, else "puremagic" (for logs and health checks)."""
    return "libmagic" if _magic is not None else "puremagic"


def _detect_mime(path: str) -> str:
    global _magic
    if _magic is not None:
        try:
            raw = _magic.from_file(path, mime=True)
            return raw.split(";")[0].split(",")[0].strip().lower()
        except Exception:  # broken libmagic install: degrade to puremagic, once, loudly
            log.warning("libmagic failed; falling back to puremagic for type detection", exc_info=True)
            _magic = None
    try:
        return (puremagic.from_file(path, mime=True) or "application/octet-stream").lower()
    except (puremagic.PureError, ValueError):
        return "application/octet-stream"


def sniff(path: str | os.PathLike) -> DetectedType:
    """Decide the type of the file at *path* from its bytes; raise EvidenceRejected if not accepted."""
    path = os.fspath(path)
    size = os.path.getsize(path)
    if size == 0:
        raise EvidenceRejected(_l("The file is empty."))
    mime = containers.heif_mime(path) or _detect_mime(path)
    mime = _ALIASES.get(mime, mime)
    detected = _BINARY.get(mime)
    if detected is not None:
        _verify_binary(path, detected, size)
    elif mime in _MARKUP_MIMES:
        raise _unsupported()
    elif mime.startswith("text/") or mime in ("application/octet-stream", ""):
        # octet-stream: maybe GB18030 text libmagic could not name; the text check is strict.
        _verify_text(path, named_text=mime.startswith("text/"))
        detected = TEXT
    else:
        raise _unsupported()
    if zipfile.is_zipfile(path):  # e.g. PNG/PDF + appended zip (GIFAR-style polyglot)
        raise EvidenceRejected(
            _l(
                "The file also contains an archive, which is not accepted. Accepted types: %(types)s.",
                types=ACCEPTED_TYPES,
            )
        )
    return detected


def _verify_binary(path: str, detected: DetectedType, size: int) -> None:
    if detected.kind == "image":
        images.verify_image(path, _PILLOW_FORMAT[detected.mime])
        return
    check, message = {
        "application/pdf": (containers.check_pdf, _l("The PDF file is damaged or not a real PDF.")),
        "video/mp4": (containers.check_mp4, _l("The video file is damaged or not a real MP4.")),
        "video/webm": (containers.check_webm, _l("The video file is damaged or not a real WebM.")),
    }[detected.mime]
    try:
        check(path)
    except containers.ContainerError as exc:
        log.info("%s refused: %s", detected.mime, exc)
        raise EvidenceRejected(message) from exc


def _verify_text(path: str, named_text: bool) -> None:
    """Plain text: UTF-8 (BOM allowed) or GB18030, no NUL / binary control bytes, not markup."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            start = _decode_all(path, encoding)
            break
        except ValueError:  # UnicodeDecodeError, NUL or control bytes
            continue
    else:
        if not named_text:
            raise _unsupported()
        raise EvidenceRejected(
            _l("Text files must be UTF-8 or GB18030 plain text. Accepted types: %(types)s.", types=ACCEPTED_TYPES)
        )
    if _MARKUP_START.match(start):
        raise EvidenceRejected(
            _l("HTML, SVG, XML and script files are not accepted. Accepted types: %(types)s.", types=ACCEPTED_TYPES)
        )


def _decode_all(path: str, encoding: str) -> str:
    """Decode the whole file chunk by chunk; return its first ~1000 characters."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    start = ""
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            if b"\x00" in chunk:
                raise ValueError("NUL byte")
            text = decoder.decode(chunk)
            if _BAD_CONTROLS.search(text):
                raise ValueError("control character")
            if len(start) < 1000:
                start += text[: 1000 - len(start)]
        decoder.decode(b"", final=True)
    return start


_UNSAFE_CHARS = re.compile(r'[<>:"|?*/\\]')


def sanitize_filename(name: str, max_len: int = 120) -> str:
    """A display-only file name: no directories, controls, bidi tricks or leading dots.

    Unicode letters (e.g. Chinese) are kept. Use the result only as data or in
    Content-Disposition — never to build a filesystem path.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Category C*: control, format (bidi overrides like U+202E), surrogate, private, unassigned.
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    name = _UNSAFE_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > max_len:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16:
            name = stem[: max_len - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:max_len].rstrip(" .")
    return name.lstrip(" .") or "file"


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * 1024 * 1024
    max_video_bytes: int = 100 * 1024 * 1024
    max_files_per_ticket: int = 20
    max_bytes_per_ticket: int = 200 * 1024 * 1024

    @classmethod
    def from_config(cls, config: Mapping) -> Limits:
        """Build from app.config's EVIDENCE_* keys (missing keys keep the defaults)."""
        keys = {
            "max_file_bytes": "EVIDENCE_MAX_FILE_BYTES",
            "max_video_bytes": "EVIDENCE_MAX_VIDEO_BYTES",
            "max_files_per_ticket": "EVIDENCE_MAX_FILES",
            "max_bytes_per_ticket": "EVIDENCE_MAX_TICKET_BYTES",
        }
        return cls(**{field: int(config[key]) for field, key in keys.items() if key in config})

    @property
    def stream_cap(self) -> int:
        """The max_bytes to stage an upload with, before its type is known."""
        return max(self.max_file_bytes, self.max_video_bytes)

    def max_bytes_for(self, kind: str) -> int:
        return self.max_video_bytes if kind == "video" else self.max_file_bytes

    def check(self, detected: DetectedType, size: int, *, ticket_files: int = 0, ticket_bytes: int = 0) -> None:
        """Raise TooLarge / EvidenceRejected if this file breaks a per-file or per-ticket limit.

        *ticket_files* / *ticket_bytes*: what the ticket already holds, without this file.
        """
        limit = self.max_bytes_for(detected.kind)
        if size > limit:
            raise TooLarge(_l("The file is too large (maximum %(mb)s MB).", mb=limit // (1024 * 1024)))
        if ticket_files + 1 > self.max_files_per_ticket:
            raise EvidenceRejected(_l("A ticket can hold at most %(n)s files.", n=self.max_files_per_ticket))
        if ticket_bytes + size > self.max_bytes_per_ticket:
            raise TooLarge(
                _l(
                    "The ticket's evidence would exceed %(mb)s MB in total.",
                    mb=self.max_bytes_per_ticket // (1024 * 1024),
                )
            )


def check_upload(
    path: str | os.PathLike, size: int, limits: Limits, *, ticket_files: int = 0, ticket_bytes: int = 0
) -> DetectedType:
    """sniff() + Limits.check(): the whole verdict on a staged upload."""
    detected = sniff(path)
    limits.check(detected, size, ticket_files=ticket_files, ticket_bytes=ticket_bytes)
    return detected
