"""Content-addressed blob storage for evidence: local filesystem or S3, chosen by config.

Two steps, so the upload can be validated before it is kept::

    with storage.stage(stream, max_bytes) as staged:   # streamed to a temp file, hashed
        sniff(staged.path)                              # EvidenceRejected → temp removed
        blob = staged.commit()                          # atomic; same bytes → same key

Keys derive only from the SHA-256 of the content (``ab/cd/abcd…``), never from user
input. Leaving the ``with`` block without commit(), or any exception at any point,
leaves no temp file and no partial blob.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import io
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from app.errors import TooLarge

CHUNK_SIZE = 1024 * 1024
_KEY_RE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}$")
_TMP_PREFIX, _TMP_SUFFIX = "upload-", ".part"


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    key: str


def key_for(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def _unlink_quiet(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Staged:
    """An upload written to the storage's tmp dir and hashed, not yet kept.

    Use as a context manager: leaving it without commit() deletes the temp file.
    """

    def __init__(self, storage: Storage, path: str, sha256: str, size: int):
        self._storage = storage
        self.path, self.sha256, self.size = path, sha256, size
        self.key = key_for(sha256)
        self.blob: StoredBlob | None = None

    def commit(self) -> StoredBlob:
        """Keep the content under its key (dedupe: existing content is reused) and return the blob."""
        if self.blob is not None:
            return self.blob
        if not os.path.exists(self.path):
            raise RuntimeError("staged upload was discarded")
        try:
            self.blob = self._storage._commit(self)
        finally:
            self.discard()  # the temp is gone after a commit (moved or uploaded) or a failure
        return self.blob

    def discard(self) -> None:
        _unlink_quiet(self.path)

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()


class Storage(abc.ABC):
    """Where evidence bytes live. Subclasses implement _commit and the key operations."""

    tmp_dir: str

    def stage(self, stream: BinaryIO, max_bytes: int) -> Staged:
        """Copy *stream* in CHUNK_SIZE pieces to a temp file while hashing it.

        Raises TooLarge as soon as more than *max_bytes* arrive; the temp file is removed on
        that and on any other error (including the stream failing mid-read).
        """
        os.makedirs(self.tmp_dir, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=_TMP_SUFFIX, dir=self.tmp_dir)
        try:
            digest, size = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as out:
                fd = -1  # owned by `out` now
                while chunk := stream.read(CHUNK_SIZE):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(_l("The file is too large (maximum %(mb)s MB).", mb=max_bytes // (1024 * 1024)))
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            if fd != -1:
                os.close(fd)
            _unlink_quiet(tmp)
            raise
        return Staged(self, tmp, digest.hexdigest(), size)

    def save_stream(self, stream: BinaryIO, max_bytes: int) -> StoredBlob:
        """stage() + commit() with no validation in between."""
        with self.stage(stream, max_bytes) as staged:
            return staged.commit()

    def cleanup_tmp(self, older_than_seconds: float = 3600) -> int:
        """Remove temp files left by killed processes (for a periodic job). Return how many."""
        removed, cutoff = 0, time.time() - older_than_seconds
        with contextlib.suppress(FileNotFoundError), os.scandir(self.tmp_dir) as entries:
            for entry in entries:
                if entry.name.startswith(_TMP_PREFIX) and entry.stat().st_mtime < cutoff:
                    _unlink_quiet(entry.path)
                    removed += 1
        return removed

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[str]:
        """A local file path holding the blob for the duration of the block (for jobs:
        thumbnails, OCR). Remote backends download to a temp file removed afterwards."""
        os.makedirs(self.tmp_dir, mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=_TMP_SUFFIX, dir=self.tmp_dir)
        try:
            with os.fdopen(fd, "wb") as out, self.open(key) as src:
                shutil.copyfileobj(src, out, CHUNK_SIZE)
            yield tmp
        finally:
            _unlink_quiet(tmp)

    @abc.abstractmethod
    def _commit(self, staged: Staged) -> StoredBlob:
        """Move/upload staged.path to staged.key unless that content exists already."""

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the blob; FileNotFoundError if absent."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Internal cleanup only (evidence is never deleted by users). Absent key: no error."""

    def path_for(self, key: str) -> str:
        raise io.UnsupportedOperation(f"{type(self).__name__} has no local paths; use open() or local_path()")


class LocalStorage(Storage):
    """Blobs under *root* (outside the web root); temp files in root/.tmp (same filesystem)."""

    def __init__(self, root: str | os.PathLike):
        self.root = os.path.abspath(os.fspath(root))
        self.tmp_dir = os.path.join(self.root, ".tmp")

    def path_for(self, key: str) -> str:
        return os.path.join(self.root, *_check_key(key).split("/"))

    def _commit(self, staged: Staged) -> StoredBlob:
        final = self.path_for(staged.key)
        blob = StoredBlob(staged.sha256, staged.size, staged.key)
        with contextlib.suppress(FileNotFoundError):
            if os.path.getsize(final) == staged.size:
                return blob  # dedupe: same hash, same size → same content already kept
        parent = os.path.dirname(final)
        new_dirs = [d for d in (os.path.dirname(parent), parent) if not os.path.isdir(d)]
        os.makedirs(parent, exist_ok=True)
        os.replace(staged.path, final)  # atomic within the filesystem
        for d in [parent, *[os.path.dirname(d) for d in new_dirs]]:
            _fsync_dir(d)  # make the rename (and any new directory) durable
        return blob

    def open(self, key: str) -> BinaryIO:
        return open(self.path_for(key), "rb")

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[str]:
        path = self.path_for(key)
        if not os.path.isfile(path):
            raise FileNotFoundError(key)
        yield path

    def exists(self, key: str) -> bool:
        return os.path.isfile(self.path_for(key))

    def delete(self, key: str) -> None:
        _unlink_quiet(self.path_for(key))


class S3Storage(Storage):
    """Blobs in an S3 (or compatible) bucket under prefix + key; staged in a local tmp dir."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        tmp_dir: str | os.PathLike | None = None,
        client=None,
    ):
        if not bucket:
            raise ValueError("S3 storage needs a bucket")
        self.bucket, self.prefix = bucket, prefix or ""
        self.tmp_dir = os.fspath(tmp_dir) if tmp_dir else os.path.join(tempfile.gettempdir(), "refundesk-staging")
        if client is None:
            import boto3

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region_name,
                aws_access_key_id=aws_access_key_id,
                aws_secret_access_key=aws_secret_access_key,
                aws_session_token=aws_session_token,
            )
        self.client = client

    def _object_key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def _head(self, key: str) -> dict | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def _commit(self, staged: Staged) -> StoredBlob:
        head = self._head(staged.key)
        if head is None or head.get("ContentLength") != staged.size:
            self.client.upload_file(
                staged.path,
                self.bucket,
                self._object_key(staged.key),
                ExtraArgs={"ContentType": "application/octet-stream", "Metadata": {"sha256": staged.sha256}},
            )
        return StoredBlob(staged.sha256, staged.size, staged.key)

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._object_key(key))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(key) from None
            raise

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object_key(key))


def make_storage(kind: str, **opts) -> Storage:
    """ "local" (root=...) or "s3" (bucket=..., prefix, endpoint_url, region_name,
    aws_access_key_id, aws_secret_access_key, aws_session_token, tmp_dir, client)."""
    if kind == "local":
        return LocalStorage(**opts)
    if kind == "s3":
        return S3Storage(**opts)
    raise ValueError(f"unknown storage backend {kind!r} (expected 'local' or 's3')")
