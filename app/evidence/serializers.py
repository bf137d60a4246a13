"""Evidence and requested items in the API: the response schemas that dump them and document them."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from app.api_support import ApiSchema, DateTime, Inline, ResponseSchema, dump
from app.evidence.items import item_label
from app.evidence.models import Evidence, EvidenceRequestItem
from app.urls import public_url

URL = {"type": "string", "format": "uri"}


def _download_url(ev: Evidence) -> str:
    return public_url("evidence.download", evidence_id=ev.id)


def _thumbnail_url(ev: Evidence) -> str | None:
    return public_url("evidence.thumbnail", evidence_id=ev.id) if ev.thumb_key else None


class OcrSchema(ResponseSchema):
    status = fields.String(
        attribute="ocr_status", metadata={"enum": ["pending", "done", "unavailable", "failed", "skipped"]}
    )
    facts = fields.Dict(allow_none=True)
    match = fields.Dict(
        allow_none=True,
        metadata={"description": "order_no: exact|fuzzy|mismatch|absent; amount: match|mismatch|absent; matched"},
    )


class EvidenceSchema(ResponseSchema):
    id = fields.Integer()
    item = fields.String(
        attribute="item_code", allow_none=True, metadata={"description": "the requested item this file is for"}
    )
    staff = fields.Boolean(attribute="is_staff")
    filename = fields.String(metadata={"description": "sanitized original name (data only)"})
    mime = fields.String(metadata={"description": "type decided from the content"})
    kind = fields.String(metadata={"enum": ["image", "pdf", "text", "video"]})
    size = fields.Integer()
    sha256 = fields.String()
    note = fields.String(allow_none=True)
    created_at = DateTime()
    download_url = fields.Function(
        _download_url,
        metadata={**URL, "description": "the file as an attachment; send the same Bearer token (or a session)"},
    )
    thumbnail_url = fields.Function(_thumbnail_url, metadata={**URL, "nullable": True})
    ocr = Inline(OcrSchema)


class EvidenceItemSchema(ResponseSchema):
    code = fields.String()
    label = fields.Function(item_label, metadata={"type": "string"})
    round = fields.Integer()
    answer = fields.String(allow_none=True)
    provided = fields.Function(lambda item: item.satisfied_at is not None, metadata={"type": "boolean"})
    requested_at = DateTime()


class EvidenceListSchema(ResponseSchema):
    items = fields.List(fields.Nested(EvidenceItemSchema), metadata={"description": "requested items (current round)"})
    evidence = fields.List(fields.Nested(EvidenceSchema), metadata={"description": "files the caller may see"})


class EvidenceUploadSchema(ApiSchema):
    """The text fields of the multipart upload (the file part is read as a stream by the view)."""

    class Meta:
        unknown = EXCLUDE  # other form parts are ignored, as browsers' forms send them

    file = fields.Raw(
        metadata={
            "type": "string",
            "format": "binary",
            "description": "PNG, JPEG, WebP, GIF, HEIC/HEIF, PDF, plain text, MP4, WebM",
        }
    )
    item = fields.String(
        load_default="", validate=validate.Length(0, 200), metadata={"description": "code of the requested item"}
    )
    answer = fields.String(
        load_default="",
        validate=validate.Length(0, 5000),
        metadata={"description": "without file: why the item cannot be provided; with file: a note"},
    )


def evidence_json(ev: Evidence) -> dict:
    return dump(EvidenceSchema, ev)


def item_json(item: EvidenceRequestItem) -> dict:
    return dump(EvidenceItemSchema, item)


COMPONENTS = {
    "Evidence": EvidenceSchema,
    "EvidenceItem": EvidenceItemSchema,
    "EvidenceList": EvidenceListSchema,
    "EvidenceUpload": EvidenceUploadSchema,
}
