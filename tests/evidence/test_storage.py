import hashlib
import io
import os
import time

import pytest

from app.errors import EvidenceRejected, TooLarge
from app.evidence import storage as storage_mod
from app.evidence.storage import CHUNK_SIZE, LocalStorage, S3Storage, StoredBlob, make_storage
from app.evidence.validation import sniff
from tests.evidence import helpers

MiB = 1024 * 1024


def all_files(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


class EndlessStream:
    """Yields chunks forever, recording each read size; never holds more than one chunk."""

    def __init__(self, fail_after: int | None = None):
        self.reads: list[int] = []
        self.fail_after = fail_after

    def read(self, size=-1):
        assert 0 < size <= CHUNK_SIZE, "storage must read in bounded chunks"
        self.reads.append(size)
        if self.fail_after is not None and len(self.reads) > self.fail_after:
            raise ConnectionResetError("client went away")
        return b"x" * size


@pytest.fixture
def local(tmp_path):
    return make_storage("local", root=tmp_path / "evidence")


def test_save_stream_is_content_addressed(local):
    assert isinstance(local, LocalStorage)
    data = os.urandom(3 * MiB + 17)
    blob = local.save_stream(io.BytesIO(data), max_bytes=10 * MiB)
    digest = hashlib.sha256(data).hexdigest()
    assert blob == StoredBlob(digest, len(data), f"{digest[:2]}/{digest[2:4]}/{digest}")
    assert local.exists(blob.key)
    with local.open(blob.key) as f:
        assert f.read() == data
    assert all_files(local.root) == [blob.key]
    with local.local_path(blob.key) as path:
        assert path == local.path_for(blob.key) and os.path.getsize(path) == len(data)


def test_same_bytes_twice_is_one_blob(local):
    first = local.save_stream(io.BytesIO(b"same evidence"), max_bytes=MiB)
    second = local.save_stream(io.BytesIO(b"same evidence"), max_bytes=MiB)
    assert first == second
    assert all_files(local.root) == [first.key]


def test_stage_validate_commit(local, tmp_path):
    png = helpers.image_bytes("PNG")
    with local.stage(io.BytesIO(png), max_bytes=MiB) as staged:
        assert os.path.dirname(staged.path) == local.tmp_dir
        assert staged.size == len(png) and staged.sha256 == hashlib.sha256(png).hexdigest()
        assert sniff(staged.path).mime == "image/png"
        assert not local.exists(staged.key)  # nothing kept before commit
        blob = staged.commit()
    assert local.exists(blob.key) and all_files(local.root) == [blob.key]


def test_rejected_upload_leaves_nothing(local):
    with pytest.raises(EvidenceRejected), local.stage(io.BytesIO(helpers.fake_pe()), max_bytes=MiB) as staged:
        sniff(staged.path)
        staged.commit()
    assert all_files(local.root) == []


def test_leaving_without_commit_discards(local):
    with local.stage(io.BytesIO(b"data"), max_bytes=MiB) as staged:
        pass
    assert not os.path.exists(staged.path) and all_files(local.root) == []
    with pytest.raises(RuntimeError):
        staged.commit()


def test_too_large_stops_early_and_leaves_nothing(local):
    stream = EndlessStream()
    with pytest.raises(TooLarge) as exc:
        local.save_stream(stream, max_bytes=3 * MiB)
    assert len(stream.reads) == 4  # aborted at the first chunk past the limit
    assert exc.value.status == 413
    assert all_files(local.root) == []


def test_exactly_max_bytes_is_accepted(local):
    blob = local.save_stream(io.BytesIO(b"a" * 1000), max_bytes=1000)
    assert blob.size == 1000
    with pytest.raises(TooLarge):
        local.save_stream(io.BytesIO(b"a" * 1001), max_bytes=1000)


def test_stream_failing_mid_read_leaves_nothing(local):
    with pytest.raises(ConnectionResetError):
        local.save_stream(EndlessStream(fail_after=2), max_bytes=100 * MiB)
    assert all_files(local.root) == []


def test_crash_at_rename_leaves_no_temp_and_no_blob(local, monkeypatch):
    def boom(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(storage_mod.os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        local.save_stream(io.BytesIO(b"evidence"), max_bytes=MiB)
    assert all_files(local.root) == []


def test_crash_at_write_leaves_nothing(local, monkeypatch):
    def boom(fd):
        raise OSError("fsync failed")

    monkeypatch.setattr(storage_mod.os, "fsync", boom)
    with pytest.raises(OSError, match="fsync failed"):
        local.save_stream(io.BytesIO(b"evidence"), max_bytes=MiB)
    assert all_files(local.root) == []


def test_crash_while_hashing_leaves_nothing(local, monkeypatch):
    class BadHash:
        def update(self, chunk):
            raise MemoryError("hash exploded")

    monkeypatch.setattr(storage_mod.hashlib, "sha256", BadHash)
    with pytest.raises(MemoryError):
        local.save_stream(io.BytesIO(b"evidence"), max_bytes=MiB)
    assert all_files(local.root) == []


@pytest.mark.parametrize("key", ["../../etc/passwd", "ab/cd/../../x", "/etc/passwd", "AB/CD/" + "A" * 64, ""])
def test_keys_are_never_paths_from_outside(local, key):
    with pytest.raises(ValueError):
        local.path_for(key)
    with pytest.raises(ValueError):
        local.open(key)


def test_cleanup_tmp_removes_only_stale_temp_files(local):
    os.makedirs(local.tmp_dir)
    stale, fresh = (os.path.join(local.tmp_dir, f"upload-{n}.part") for n in ("old", "new"))
    for path in (stale, fresh):
        open(path, "wb").close()
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    assert local.cleanup_tmp(older_than_seconds=3600) == 1
    assert not os.path.exists(stale) and os.path.exists(fresh)


def test_make_storage_rejects_unknown_backend():
    with pytest.raises(ValueError):
        make_storage("ftp", root="/tmp")


# --- S3 -------------------------------------------------------------------------------


@pytest.fixture
def s3(tmp_path):
    moto = pytest.importorskip("moto")
    import boto3

    with moto.mock_aws():
        client = boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        client.create_bucket(Bucket="evidence")
        store = make_storage(
            "s3",
            bucket="evidence",
            prefix="refundesk/",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            tmp_dir=tmp_path / "staging",
        )
        yield store, client


def object_keys(client) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket="evidence").get("Contents", [])]


def test_s3_save_open_exists_delete(s3, tmp_path):
    store, client = s3
    assert isinstance(store, S3Storage)
    data = os.urandom(2 * MiB + 5)
    blob = store.save_stream(io.BytesIO(data), max_bytes=10 * MiB)
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert object_keys(client) == ["refundesk/" + blob.key]
    assert store.exists(blob.key) and not store.exists("00/00/" + "0" * 64)
    with store.open(blob.key) as body:
        assert body.read() == data
    with store.local_path(blob.key) as path, open(path, "rb") as f:
        assert f.read() == data
    assert not os.path.exists(path)
    assert all_files(store.tmp_dir) == []
    with pytest.raises(io.UnsupportedOperation):
        store.path_for(blob.key)
    with pytest.raises(FileNotFoundError):
        store.open("00/00/" + "0" * 64)
    store.delete(blob.key)
    assert object_keys(client) == []


def test_s3_dedupe_uploads_once(s3, monkeypatch):
    store, client = s3
    uploads = []
    real_upload = store.client.upload_file
    monkeypatch.setattr(store.client, "upload_file", lambda *a, **kw: (uploads.append(a), real_upload(*a, **kw)))
    first = store.save_stream(io.BytesIO(b"same"), max_bytes=MiB)
    second = store.save_stream(io.BytesIO(b"same"), max_bytes=MiB)
    assert first == second and len(uploads) == 1 and len(object_keys(client)) == 1


def test_s3_too_large_and_rejected_leave_nothing(s3):
    store, client = s3
    with pytest.raises(TooLarge):
        store.save_stream(EndlessStream(), max_bytes=2 * MiB)
    with pytest.raises(EvidenceRejected), store.stage(io.BytesIO(helpers.zip_bytes()), max_bytes=MiB) as staged:
        sniff(staged.path)
        staged.commit()
    assert object_keys(client) == [] and all_files(store.tmp_dir) == []


def test_s3_upload_failure_leaves_no_temp(s3, monkeypatch):
    store, client = s3

    def boom(*args, **kwargs):
        raise ConnectionError("S3 down")

    monkeypatch.setattr(store.client, "upload_file", boom)
    with pytest.raises(ConnectionError):
        store.save_stream(io.BytesIO(b"evidence"), max_bytes=MiB)
    assert object_keys(client) == [] and all_files(store.tmp_dir) == []
