"""Background work on evidence: metadata-free copy + thumbnail of images, OCR / PDF text,
facts and the match with the ticket's order. Jobs take ids, reload rows, are idempotent
(each step runs only while its result is missing) and never raise for bad content.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile

from app.errors import DomainError
from app.evidence import images, ocr
from app.evidence.models import Evidence
from app.evidence.services import get_storage
from app.extensions import db
from app.tickets.models import Ticket
from app.types import utcnow

log = logging.getLogger(__name__)

_SAFE_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
_DERIVED_CAP = 200 * 1024 * 1024


def process_evidence(evidence_id: int) -> None:
    """Everything for one evidence file, in order: derivatives, then text and facts."""
    make_derivatives(evidence_id)
    read_evidence(evidence_id)


@contextlib.contextmanager
def _scratch(storage):
    os.makedirs(storage.tmp_dir, mode=0o700, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix="upload-derived-", suffix=".part", dir=storage.tmp_dir)
    os.close(fd)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _keep(storage, path: str) -> str:
    with open(path, "rb") as f:
        return storage.save_stream(f, _DERIVED_CAP).key


def make_derivatives(evidence_id: int) -> None:
    """Images: a metadata-free copy (what is shown) and a WebP thumbnail, both content-addressed."""
    ev = db.session.get(Evidence, evidence_id)
    if ev is None or ev.kind != "image" or (ev.safe_key and ev.thumb_key):
        return
    storage = get_storage()
    try:
        with storage.local_path(ev.storage_key) as src, _scratch(storage) as safe, _scratch(storage) as thumb:
            fmt = images.sanitized_copy(src, safe)
            images.make_thumbnail(src, thumb)
            ev.safe_key, ev.safe_mime = _keep(storage, safe), _SAFE_MIME[fmt]
            ev.thumb_key = _keep(storage, thumb)
    except (DomainError, OSError, ValueError):
        log.warning("no derivatives for evidence %s", evidence_id, exc_info=True)
        db.session.rollback()
        return
    db.session.commit()


def _text_of(ev: Evidence, path: str) -> str:
    if ev.kind == "pdf":
        return ocr.pdf_text(path)
    return ocr.ocr_image(path)


def read_evidence(evidence_id: int) -> None:
    """OCR (images) or embedded text (PDFs) → facts → match with the ticket's order."""
    ev = db.session.get(Evidence, evidence_id)
    if ev is None or ev.kind not in ("image", "pdf") or ev.ocr_status == "done":
        return
    if ev.kind == "image" and not ocr.ocr_available():
        ev.ocr_status, ev.processed_at = "unavailable", utcnow()
        db.session.commit()
        return
    try:
        with get_storage().local_path(ev.storage_key) as path:
            text = _text_of(ev, path)
    except (DomainError, OSError, RuntimeError, ocr.OCRUnavailable):
        log.warning("text extraction failed for evidence %s", evidence_id, exc_info=True)
        ev.ocr_status, ev.processed_at = "failed", utcnow()
        db.session.commit()
        return
    ticket = db.session.get(Ticket, ev.ticket_id)
    if ticket is None:  # deleted meanwhile (its evidence goes with it): nothing to match
        return
    order = ticket.order
    facts = ocr.extract_facts(text)
    ev.ocr_text = text[:20_000]
    ev.facts = {"order_nos": facts.order_nos, "amounts_cents": facts.amounts_cents, "timestamps": facts.timestamps}
    ev.match = ocr.match_order(facts, order.order_no, order.amount_cents)
    ev.ocr_status, ev.processed_at = "done", utcnow()
    db.session.commit()


PENDING_GRACE_SECONDS = 120  # a job queued at upload normally runs well within this


def reprocess_pending(older_than_seconds: int = PENDING_GRACE_SECONDS) -> int:
    """Periodic: re-enqueue evidence whose jobs never ran (e.g. Redis was down at upload or lost
    its queue in a restart). Jobs are idempotent, so one queued twice does its work once."""
    from datetime import timedelta

    from sqlalchemy import select

    from app.jobs import enqueue

    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    ids = list(
        db.session.scalars(
            select(Evidence.id)
            .where(Evidence.ocr_status == "pending", Evidence.created_at <= cutoff)
            .order_by(Evidence.id)
            .limit(1000)
        )
    )
    db.session.commit()
    for evidence_id in ids:
        enqueue(process_evidence, evidence_id)
    if ids:
        log.info("reprocess_pending queued %d evidence job(s)", len(ids))
    return len(ids)


def cleanup_staging() -> int:
    """Periodic: remove upload temp files left behind by killed processes (older than an hour)."""
    return get_storage().cleanup_tmp(older_than_seconds=3600)
