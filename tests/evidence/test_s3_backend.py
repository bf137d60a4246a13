"""The whole upload → job → download path on the S3 backend (moto), chosen by config."""

from __future__ import annotations

import io

import pytest

from app.evidence import services
from app.evidence.storage import S3Storage
from app.extensions import db
from tests.evidence.helpers import image_bytes
from tests.factories import make_ticket


@pytest.fixture
def s3_app(app, tmp_path, monkeypatch):
    moto = pytest.importorskip("moto")
    for key, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(key, value)
    with moto.mock_aws():
        app.config.update(STORAGE_BACKEND="s3", S3_BUCKET="evidence", S3_PREFIX="refundesk/")
        storage = services.storage_from_config(app.config)
        storage.client.create_bucket(Bucket="evidence")
        monkeypatch.setitem(app.extensions, "evidence_storage", storage)
        yield storage


def test_upload_thumbnail_and_download_on_s3(s3_app, client, api, browser):
    assert isinstance(s3_app, S3Storage)
    ticket = make_ticket()
    png = image_bytes("JPEG", size=(500, 400))
    resp = client.post(
        f"/api/v1/tickets/{ticket.ref}/evidence",
        headers=api.headers(ticket.customer),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(png), "s3.jpg")},
    )
    assert resp.status_code == 201, resp.json
    keys = [o["Key"] for o in s3_app.client.list_objects_v2(Bucket="evidence")["Contents"]]
    assert f"refundesk/{resp.json['sha256'][:2]}/{resp.json['sha256'][2:4]}/{resp.json['sha256']}" in keys
    assert len(keys) == 3  # original, metadata-free copy, thumbnail
    browser.login(ticket.customer)
    download = client.get(f"/evidence/{resp.json['id']}/file")
    assert download.status_code == 200 and download.data == png
    assert client.get(f"/evidence/{resp.json['id']}/thumb").status_code == 200
    assert db.session.get(services.Evidence, resp.json["id"]).thumb_key
