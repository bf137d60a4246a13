"""Evidence pages: serve files to those allowed, take uploads and answers from the partials' forms."""

from __future__ import annotations

import os

from flask import Blueprint, abort, flash, redirect, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth.permissions import can
from app.auth.tokens import request_user, token_or_login_required
from app.errors import DomainError
from app.evidence import services
from app.evidence.forms import EvidenceUploadForm, ItemAnswerForm
from app.evidence.panels import UPLOAD_ERRORS
from app.evidence.uploads import UPLOAD_HEADER, stream_uploads
from app.evidence.validation import _BINARY, TEXT
from app.tickets.services import get_ticket
from app.urls import safe_next

bp = Blueprint("evidence", __name__)

FILE_CSP = "default-src 'none'; sandbox"
_EXT = {d.mime: d.ext for d in (*_BINARY.values(), TEXT)}


def download_name(filename: str, mime: str) -> str:
    """The stored (sanitized) name, its extension forced to the type found in the content."""
    stem, ext = os.path.splitext(filename or "file")
    want = _EXT.get(mime, "bin")
    return (
        filename if ext.lower().lstrip(".") in (want, "jpeg" if want == "jpg" else want) else f"{stem or 'file'}.{want}"
    )


def _send(key: str, mime: str, name: str, *, inline: bool = False):
    resp = send_file(
        services.open_blob(key),
        mimetype=mime,
        as_attachment=not inline,
        download_name=download_name(name, mime),
        max_age=0,
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = FILE_CSP
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return resp


def _may_upload(values: dict) -> None:
    """Before a byte of the upload is read: logged in (else 401) and the ticket is one this user may see."""
    if not current_user.is_authenticated:
        abort(401)
    get_ticket(str(values.get("ref", "")), current_user)


stream_uploads(bp, "evidence.upload", guard=_may_upload, csrf_first=True)


@bp.get("/evidence/<int:evidence_id>/file")
@token_or_login_required
def download(evidence_id: int):
    """The original file, as an attachment (kept for the record with its hash).

    Merchants get images only as the metadata-free copy (never the customer's EXIF/GPS)."""
    user = request_user()
    ev = services.get_evidence(evidence_id, user)
    if can(user, "merchant_tickets") and ev.kind == "image":
        if not ev.safe_key or not ev.safe_mime:
            abort(404)
        return _send(ev.safe_key, ev.safe_mime, ev.filename)
    return _send(ev.storage_key, ev.mime, ev.filename)


@bp.get("/evidence/<int:evidence_id>/clean")
@token_or_login_required
def clean_copy(evidence_id: int):
    """Images: the copy without metadata (EXIF/GPS), as an attachment."""
    ev = services.get_evidence(evidence_id, request_user())
    if not ev.safe_key or not ev.safe_mime:  # (both are set together)
        abort(404)
    return _send(ev.safe_key, ev.safe_mime, ev.filename)


@bp.get("/evidence/<int:evidence_id>/thumb")
@token_or_login_required
def thumbnail(evidence_id: int):
    ev = services.get_evidence(evidence_id, request_user())
    if not ev.thumb_key:
        abort(404)
    return _send(ev.thumb_key, "image/webp", "thumb.webp", inline=True)


def _back(form) -> object:
    return redirect(safe_next(form.next.data) or url_for("tickets.home"), code=303)


def _refused(form, message: str, status: int):
    """A refused upload: shown next to the form it came from (its `key`), not only at the top of the page.

    static/app.js (UPLOAD_HEADER) gets JSON and shows it in place; a plain form post comes back to the
    page, which shows the message next to that form (evidence/_upload.html) and scrolls to it."""
    key = (form.key.data or "").strip()
    if request.headers.get(UPLOAD_HEADER):
        return {"error": {"message": message, "key": key}}, status
    if key:
        session[UPLOAD_ERRORS] = {key: message}
    else:
        flash(message, "error")
    return _back(form)


@bp.post("/tickets/<ref>/evidence")
@login_required
def upload(ref: str):
    ticket = get_ticket(ref, current_user)
    form = EvidenceUploadForm()
    if not form.validate_on_submit():
        return _refused(form, " ".join(str(e) for errs in form.errors.values() for e in errs), 422)
    f = form.file.data
    try:
        services.attach_evidence(
            ticket,
            f.stream,
            f.filename or "",
            current_user,
            item_code=form.item.data or None,
            answer=form.note.data,
        )
    except DomainError as exc:
        return _refused(form, str(exc.message), exc.status)
    flash(_("File received: %(name)s", name=f.filename or ""), "success")
    if request.headers.get(UPLOAD_HEADER):
        return {"redirect": safe_next(form.next.data) or url_for("tickets.home")}, 201
    return _back(form)


@bp.post("/tickets/<ref>/evidence/answer")
@login_required
def answer(ref: str):
    ticket = get_ticket(ref, current_user)
    form = ItemAnswerForm()
    if form.validate_on_submit():
        try:
            services.answer_item(ticket, form.item.data, form.answer.data, current_user)
            flash(_("Answer saved."), "success")
        except DomainError as exc:
            flash(str(exc.message), "error")
    else:
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "error")
    return _back(form)
