"""JSON API v1: upload evidence and list a ticket's evidence. Parse, call one service, serialize."""

from __future__ import annotations

from flask import Blueprint, request

from app.api_support import dump, load_form
from app.auth.tokens import api_user, token_required
from app.evidence import services
from app.evidence.serializers import EvidenceListSchema, EvidenceUploadSchema, evidence_json, item_json
from app.evidence.uploads import stream_uploads
from app.tickets import visibility
from app.tickets.services import get_ticket

bp = Blueprint("evidence_api", __name__, url_prefix="/api/v1")


def _token_first(values: dict) -> None:
    """Before the Content-Length check and before a byte of the upload is read: the token_required check."""
    token_required()(lambda: None)()


stream_uploads(bp, "evidence_api.upload", guard=_token_first)


@bp.post("/tickets/<ref>/evidence")
@token_required()
def upload(ref: str):
    """Upload one evidence file (or answer a requested item without a file).
    ---
    post:
      tags: [evidence]
      parameters: [{name: ref, in: path, required: true, schema: {type: string}}]
      requestBody: {content: {multipart/form-data: {schema: EvidenceUpload}}}
      responses:
        201: {description: stored, content: {application/json: {schema: Evidence}}}
        200: {description: answer recorded (no file), content: {application/json: {schema: EvidenceItem}}}
        403: {description: your role may not upload, content: {application/json: {schema: Error}}}
        404: {description: no such ticket (or not yours), content: {application/json: {schema: Error}}}
        409: {description: the ticket is closed, content: {application/json: {schema: Error}}}
        413: {description: too_large (file or ticket limit), content: {application/json: {schema: Error}}}
        422:
          description: invalid (type not accepted, empty, unknown item)
          content: {application/json: {schema: Error}}
    """
    user = api_user()
    ticket = get_ticket(ref, user)
    form = load_form(EvidenceUploadSchema())
    f = request.files.get("file")
    if f is None:
        item = services.answer_item(ticket, form["item"] or None, form["answer"], user)
        return item_json(item), 200
    ev = services.attach_evidence(
        ticket, f.stream, f.filename or "", user, item_code=form["item"] or None, answer=form["answer"] or None
    )
    return evidence_json(ev), 201


@bp.get("/tickets/<ref>/evidence")
@token_required()
def list_evidence(ref: str):
    """The requested items and every evidence file of a ticket.
    ---
    get:
      tags: [evidence]
      parameters: [{name: ref, in: path, required: true, schema: {type: string}}]
      responses:
        200: {description: items and files, content: {application/json: {schema: EvidenceList}}}
        404: {description: no such ticket (or not yours), content: {application/json: {schema: Error}}}
    """
    ticket = get_ticket(ref, api_user())
    files = visibility.evidence(services.evidence_for(ticket), visibility.viewer_of(api_user()))
    return dump(EvidenceListSchema, {"items": services.requested_items(ticket), "evidence": files})
