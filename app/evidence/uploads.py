"""Stream multipart uploads straight into evidence staging, hashing on the way.

Werkzeug parses a multipart body into a spooled temp file that the service would then copy
(and hash) into storage: two writes of every byte. `stream_uploads_to_staging()` gives the
current request a stream factory that writes each uploaded file directly into the storage's
tmp dir while hashing it, so `attach_evidence` only validates and renames. Memory stays
flat (werkzeug's 64 KiB parse buffer); an upload over the size cap stops with TooLarge as
soon as it passes the cap; temp files not committed are removed at the end of the request.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile

from flask import g, request
from flask_babel import lazy_gettext as _l
from werkzeug.formparser import FormDataParser, MultiPartParser

from app.errors import TooLarge
from app.evidence.storage import Staged, Storage

# werkzeug's default is 64 KiB. Larger means fewer Python-level turns per byte, but the decoder
# refuses a buffer above MAX_FORM_MEMORY_SIZE (Flask: 500 kB), so stay well below that.
PARSE_BUFFER = 256 * 1024


class _BigBufferParser(FormDataParser):
    """werkzeug's form parser reading the body in PARSE_BUFFER pieces (same code path, fewer turns)."""

    def _parse_multipart(self, stream, mimetype, content_length, options):
        parser = MultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
            buffer_size=PARSE_BUFFER,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


class StagingFile:
    """A file object for werkzeug's form parser: written in the storage's tmp dir, hashed as it goes."""

    def __init__(self, storage: Storage, max_bytes: int):
        os.makedirs(storage.tmp_dir, mode=0o700, exist_ok=True)
        fd, self.path = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=storage.tmp_dir)
        self._file = os.fdopen(fd, "w+b")
        self._storage, self._max = storage, max_bytes
        self._digest, self.size = hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self._max:
            raise TooLarge(_l("The file is too large (maximum %(mb)s MB).", mb=self._max // (1024 * 1024)))
        self._digest.update(data)
        return self._file.write(data)

    def seek(self, *args) -> int:
        return self._file.seek(*args)

    def tell(self) -> int:
        return self._file.tell()

    def read(self, n: int = -1) -> bytes:
        return self._file.read(n)

    def close(self) -> None:
        self._file.close()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def staged(self) -> Staged:
        """The written file as a Staged upload (fsynced); commit() moves it into storage."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return Staged(self._storage, self.path, self._digest.hexdigest(), self.size)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def stream_uploads_to_staging(storage: Storage, max_bytes: int) -> None:
    """Call before touching request.files / request.form in an upload view."""
    g.setdefault("evidence_staging", [])

    def factory(total_content_length=None, content_type=None, filename=None, content_length=None):
        f = StagingFile(storage, max_bytes)
        g.evidence_staging.append(f)
        return f

    request._get_file_stream = factory  # werkzeug's per-request stream factory hook
    request.form_data_parser_class = _BigBufferParser


def discard_staging(exc=None) -> None:
    """Teardown: remove any staged upload that was not committed (refused, failed, unused)."""
    for f in g.pop("evidence_staging", []):
        f.discard()


def stream_uploads(bp, endpoint: str) -> None:
    """Wire `bp` so that `endpoint` streams its files into staging before anything (the CSRF
    check included) parses the body, and any staged upload left uncommitted is discarded."""

    @bp.url_value_preprocessor
    def _stream(request_endpoint, values):
        if request_endpoint == endpoint:
            from app.evidence import services  # services imports this module

            stream_uploads_to_staging(services.get_storage(), services.limits().stream_cap)

    bp.teardown_request(discard_staging)
