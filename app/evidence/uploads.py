"""Stream multipart uploads straight into evidence staging, hashing on the way.

Werkzeug parses a multipart body into a spooled temp file that the service would then copy
(and hash) into storage: two writes of every byte. `stream_uploads_to_staging()` gives the
current request a stream factory that writes each uploaded file directly into the storage's
tmp dir while hashing it, so `attach_evidence` only validates and renames. Memory stays
flat (werkzeug's 64 KiB parse buffer); an upload over the size cap stops with TooLarge as
soon as it passes the cap; temp files not committed are removed at the end of the request.

Nothing is staged for a request that may not upload: `stream_uploads(..., guard=...)` runs the
view's access check (login, the ticket) and the Content-Length check before a byte of the body is
read, and with `csrf_first=True` (the HTML form) the body is read only up to the first file part,
which is staged only if the fields before it carry a valid CSRF token (the forms put it first).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from typing import IO, Any

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import LengthRequired, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData
from wtforms.validators import ValidationError

from app.errors import TooLarge
from app.evidence.storage import Staged, Storage

# werkzeug's default is 64 KiB. Larger means fewer Python-level turns per byte, but the decoder
# refuses a buffer above MAX_FORM_MEMORY_SIZE (Flask: 500 kB), so stay well below that.
PARSE_BUFFER = 256 * 1024


# Sent by static/app.js with an upload it shows the progress of: answer JSON ({"redirect": …} or an error).
UPLOAD_HEADER = "X-Upload-Progress"

# Multipart headers, boundaries and the small form fields around the file, on top of the file cap.
FORM_OVERHEAD = 1024 * 1024


class _BigBufferParser(FormDataParser):
    """werkzeug's form parser reading the body in PARSE_BUFFER pieces (same code path, fewer turns),
    writing file parts through the staging factory `stream_uploads_to_staging` put on `g`."""

    csrf_first = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stream_factory = g.evidence_stream_factory  # instead of the request's spooled temp files

    def _parse_multipart(self, stream, mimetype, content_length, options):
        parser = (_CsrfFirstMultiPart if self.csrf_first else MultiPartParser)(
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


class _CsrfFirstParser(_BigBufferParser):
    csrf_first = True


class _CsrfFirstMultiPart(MultiPartParser):
    """werkzeug's MultiPartParser.parse loop, refusing to start a file part (CSRFError) unless the
    fields before it hold a valid CSRF token: a forged post is stopped before anything is staged."""

    def parse(self, stream: IO[bytes], boundary: bytes, content_length: int | None) -> tuple[MultiDict, MultiDict]:
        decoder = MultipartDecoder(
            boundary, max_form_memory_size=self.max_form_memory_size, max_parts=self.max_form_parts
        )
        fields: list[tuple[str, str]] = []
        files: list[tuple[str, FileStorage]] = []
        part: Field | File | None = None
        buffer: list[bytes] = []
        container: Any = None
        field_size = 0
        while True:
            data = stream.read(self.buffer_size)
            decoder.receive_data(data or None)
            event = decoder.next_event()
            while not isinstance(event, (Epilogue, NeedData)):
                if isinstance(event, File):  # (a File is also a Field)
                    _check_csrf(fields)
                    part, container = event, self.start_file_streaming(event, content_length)
                elif isinstance(event, Field):
                    part, buffer, field_size = event, [], 0
                elif isinstance(event, Data) and isinstance(part, File):
                    container.write(event.data)
                    if not event.more_data:
                        container.seek(0)
                        files.append(
                            (part.name, FileStorage(container, part.filename, part.name, headers=part.headers))
                        )
                elif isinstance(event, Data) and isinstance(part, Field):
                    field_size += len(event.data)
                    if self.max_form_memory_size is not None and field_size > self.max_form_memory_size:
                        raise RequestEntityTooLarge()
                    buffer.append(event.data)
                    if not event.more_data:
                        fields.append(
                            (part.name, b"".join(buffer).decode(self.get_part_charset(part.headers), "replace"))
                        )
                event = decoder.next_event()
            if not data or isinstance(event, Epilogue):
                return self.cls(fields), self.cls(files)


def _check_csrf(fields: list[tuple[str, str]]) -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    try:
        validate_csrf(dict(fields).get(name))
    except ValidationError as exc:
        raise CSRFError(exc.args[0]) from exc


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


def stream_uploads_to_staging(storage: Storage, max_bytes: int, *, csrf_first: bool = False) -> None:
    """Call before touching request.files / request.form in an upload view."""
    g.setdefault("evidence_staging", [])

    def factory(total_content_length=None, content_type=None, filename=None, content_length=None):
        f = StagingFile(storage, max_bytes)
        g.evidence_staging.append(f)
        return f

    g.evidence_stream_factory = factory  # for _BigBufferParser (werkzeug builds it on first access)
    request.form_data_parser_class = _CsrfFirstParser if csrf_first else _BigBufferParser


def check_content_length(max_bytes: int) -> None:
    """Refuse a body of unknown length (chunked: 411) or declared larger than one file plus the form (413)."""
    length = request.content_length
    if length is None:
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            raise LengthRequired()
        return  # no body at all
    if length > max_bytes + FORM_OVERHEAD:
        raise TooLarge(_l("The file is too large (maximum %(mb)s MB).", mb=max_bytes // (1024 * 1024)))


def discard_staging(exc=None) -> None:
    """Teardown: remove any staged upload that was not committed (refused, failed, unused)."""
    for f in g.pop("evidence_staging", []):
        f.discard()


def stream_uploads(bp, endpoint: str, *, guard: Callable[[dict], None] | None = None, csrf_first: bool = False) -> None:
    """Wire `bp` so that `endpoint` streams its files into staging before anything (the CSRF
    check included) parses the body, and any staged upload left uncommitted is discarded.

    Before the body is touched: `guard(view_args)` (raise to refuse: not logged in, not your
    ticket) and the Content-Length check. `csrf_first`: see the module docstring."""

    @bp.url_value_preprocessor
    def _stream(request_endpoint, values):
        if request_endpoint == endpoint:
            from app.evidence import services  # services imports this module

            if guard is not None:
                guard(values or {})
            cap = services.limits().stream_cap
            check_content_length(cap)
            stream_uploads_to_staging(services.get_storage(), cap, csrf_first=csrf_first)

    bp.teardown_request(discard_staging)
