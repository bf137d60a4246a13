"""JSON shapes of evidence and requested items (the API contract), and their OpenAPI schemas."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.evidence.items import item_label
from app.evidence.models import Evidence, EvidenceRequestItem
from app.urls import public_url


def _iso(dt):
    return dt.isoformat() if dt else None


def evidence_json(ev: Evidence) -> dict:
    return {
        "id": ev.id,
        "item": ev.item_code,
        "staff": ev.is_staff,
        "filename": ev.filename,
        "mime": ev.mime,
        "kind": ev.kind,
        "size": ev.size,
        "sha256": ev.sha256,
        "note": ev.note,
        "created_at": _iso(ev.created_at),
        "download_url": public_url("evidence.download", evidence_id=ev.id),
        "thumbnail_url": public_url("evidence.thumbnail", evidence_id=ev.id) if ev.thumb_key else None,
        "ocr": {"status": ev.ocr_status, "facts": ev.facts, "match": ev.match},
    }


def item_json(item: EvidenceRequestItem) -> dict:
    return {
        "code": item.code,
        "label": item_label(item),
        "round": item.round,
        "answer": item.answer,
        "provided": item.satisfied_at is not None,
        "requested_at": _iso(item.requested_at),
    }


class OcrSchema(Schema):
    status = fields.String(metadata={"enum": ["pending", "done", "unavailable", "failed", "skipped"]})
    facts = fields.Dict(allow_none=True)
    match = fields.Dict(
        allow_none=True,
        metadata={"description": "order_no: exact|fuzzy|mismatch|absent; amount: match|mismatch|absent; matched"},
    )


class EvidenceSchema(Schema):
    id = fields.Integer()
    item = fields.String(allow_none=True, metadata={"description": "the requested item this file is for"})
    staff = fields.Boolean()
    filename = fields.String(metadata={"description": "sanitized original name (data only)"})
    mime = fields.String(metadata={"description": "type decided from the content"})
    kind = fields.String(metadata={"enum": ["image", "pdf", "text", "video"]})
    size = fields.Integer()
    sha256 = fields.String()
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    download_url = fields.String()
    thumbnail_url = fields.String(allow_none=True)
    ocr = fields.Nested(OcrSchema)


class EvidenceItemSchema(Schema):
    code = fields.String()
    label = fields.String()
    round = fields.Integer()
    answer = fields.String(allow_none=True)
    provided = fields.Boolean()
    requested_at = fields.DateTime()


class EvidenceListSchema(Schema):
    items = fields.List(fields.Nested(EvidenceItemSchema), metadata={"description": "requested items (current round)"})
    evidence = fields.List(fields.Nested(EvidenceSchema))


class EvidenceUploadSchema(Schema):
    file = fields.Raw(
        metadata={
            "type": "string",
            "format": "binary",
            "description": "PNG, JPEG, WebP, GIF, PDF, plain text, MP4, WebM",
        }
    )
    item = fields.String(metadata={"description": "code of the requested item this is for"})
    answer = fields.String(metadata={"description": "without file: why the item cannot be provided; with file: a note"})


COMPONENTS = {
    "Evidence": EvidenceSchema,
    "EvidenceItem": EvidenceItemSchema,
    "EvidenceList": EvidenceListSchema,
    "EvidenceUpload": EvidenceUploadSchema,
}
