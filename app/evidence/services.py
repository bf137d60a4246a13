"""Evidence verbs: attach a file, answer a requested item, find evidence a user may see.

Who may upload:
- the ticket's customer (and the platform on the customer's behalf) while the ticket is
  open (submitted, evidence, review, finance), and in any state during the first
  SUBMISSION_GRACE after filing: the files chosen on the new-ticket form are attached right
  after create_ticket, when a fast-track rule may already have refunded (paid) the ticket.
  Otherwise a closed ticket takes no more evidence. A customer's upload may name a
  requested item (`item_code`), which then counts as provided.
- staff (agent, finance, manager, admin) at any time, as *staff evidence* (merchant
  replies, logs); staff evidence never satisfies a customer's item and is not counted in
  the per-ticket limits.
Someone else's ticket is a 404. Evidence is never edited or deleted by users.

Order of writes: the upload is streamed to a temp file and hashed, validated, then the
blob is committed (atomic, deduped), then the Evidence row and its audit record commit
in one transaction. If that transaction fails, a blob created by this very call is
deleted again unless another row already refers to it; so a failure leaves neither a
half file nor a row without its blob. Jobs (thumbnail, OCR) are enqueued after commit.
Known narrow race: if the same new bytes are uploaded concurrently to two tickets and the
first upload's transaction fails between the other's blob commit and its row commit, the
cleanup can remove a blob the other row is about to reference. It needs a database failure
at that exact moment; the blob's hash in the row (and the audit trail) makes it detectable.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import IO, BinaryIO, overload

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.auth.permissions import can
from app.errors import EvidenceRejected, Forbidden, Invalid, NotAllowed, NotFound, Unauthorized
from app.evidence.checklists import checklist_for
from app.evidence.items import current_items, find_item
from app.evidence.models import Evidence, EvidenceRequestItem
from app.evidence.storage import Staged, Storage, make_storage
from app.evidence.uploads import StagingFile
from app.evidence.validation import Limits, check_upload, sanitize_filename
from app.extensions import db
from app.notifications import causes
from app.tickets.models import Ticket
from app.types import utcnow
from app.workflow.events import record_entry
from app.workflow.machine import OPEN_STATES

log = logging.getLogger(__name__)

CUSTOMER_UPLOAD_STATES = OPEN_STATES
SUBMISSION_GRACE = timedelta(minutes=30)
MAX_NOTE = 2000


def get_storage() -> Storage:
    """The app's evidence storage (chosen from config in create_app)."""
    return current_app.extensions["evidence_storage"]


def storage_from_config(config) -> Storage:
    if config.get("STORAGE_BACKEND", "local") == "s3":
        return make_storage(
            "s3",
            bucket=config.get("S3_BUCKET"),
            prefix=config.get("S3_PREFIX") or "",
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            tmp_dir=config.get("EVIDENCE_TMP_DIR"),
        )
    return make_storage("local", root=config["EVIDENCE_DIR"])


def limits() -> Limits:
    return Limits.from_config(current_app.config)


# --- who may do what -------------------------------------------------------------------


def _uploads_as_staff(ticket: Ticket, user) -> bool:
    """True for staff uploads, False for customer-side ones; raises when `user` may not upload."""
    if user is None:
        raise Unauthorized(str(_l("Log in to upload evidence.")))
    if not may_see(ticket, user):
        raise NotFound(str(_l("No such ticket.")))
    if can(user, "merchant_tickets"):  # its own tickets, while it is asked to answer (app/merchants)
        if ticket.state != "merchant":
            raise NotAllowed(str(_l("Merchants add evidence only while their answer is due.")))
        return False
    if can(user, "staff"):
        return True
    if not can(user, "customer_evidence"):
        raise Forbidden(str(_l("Your role may not do this.")))
    if ticket.state not in CUSTOMER_UPLOAD_STATES and utcnow() > ticket.created_at + SUBMISSION_GRACE:
        raise NotAllowed(str(_l("This ticket is closed and takes no more evidence.")))
    return False


def may_upload(ticket: Ticket, user) -> bool:
    """Whether `user` may add evidence to `ticket` now (for rendering upload controls)."""
    try:
        _uploads_as_staff(ticket, user)
    except (Unauthorized, NotFound, Forbidden, NotAllowed):
        return False
    return True


def may_see(ticket: Ticket, user) -> bool:
    if user is None:
        return False
    if can(user, "see_any_ticket"):
        return True
    if can(user, "merchant_tickets"):
        from app.merchants.access import merchant_sees

        return merchant_sees(user, ticket)
    return can(user, "own_tickets") and ticket.customer_id == user.id


# --- attach ---------------------------------------------------------------------------


def _lock_ticket(ticket: Ticket) -> None:
    """Serialize uploads (limits, audit chain) on one ticket: SELECT … FOR UPDATE (no-op on SQLite)."""
    db.session.execute(select(Ticket.id).where(Ticket.id == ticket.id).with_for_update())


def _usage(ticket_id: int) -> tuple[int, int]:
    row = db.session.execute(
        select(func.count(Evidence.id), func.coalesce(func.sum(Evidence.size), 0)).where(
            Evidence.ticket_id == ticket_id, Evidence.is_staff.is_(False)
        )
    ).one()
    return int(row[0]), int(row[1])


def _audit(ticket: Ticket, event: str, user, payload: dict, now) -> None:
    entry = record_entry(
        ticket,
        event,
        actor_id=user.id,
        actor_role=user.role,
        payload=payload,
        at=now,
    )
    causes.announce_event(ticket, entry)  # the agent hears of the customer's new evidence


def _forget_blob(storage: Storage, key: str, sha256: str) -> None:
    """Delete a blob this call created if no evidence row refers to it (after a failed commit)."""
    try:
        if db.session.scalar(select(func.count(Evidence.id)).where(Evidence.sha256 == sha256)) == 0:
            storage.delete(key)
    except Exception:  # the database is what failed: leave the blob; it dedupes and is harmless
        log.exception("could not clean up blob %s after a failed upload", key)


@overload
def attach_evidence(
    ticket: Ticket,
    stream: IO[bytes],
    filename: str,
    user,
    *,
    item_code: str | None = None,
    answer: str | None = None,
    checklist_code: str | None = None,
) -> Evidence: ...


@overload
def attach_evidence(
    ticket: Ticket,
    stream: None,
    filename: str,
    user,
    *,
    item_code: str | None = None,
    answer: str | None = None,
    checklist_code: str | None = None,
) -> None: ...


def attach_evidence(
    ticket: Ticket,
    stream: IO[bytes] | None,
    filename: str,
    user,
    *,
    item_code: str | None = None,
    answer: str | None = None,
    checklist_code: str | None = None,
) -> Evidence | None:
    """Store an uploaded file as evidence on `ticket`, uploaded by `user`.

    `stream` is read in chunks (never whole). `item_code` names the requested item the file
    is for; `checklist_code` the checklist item of the ticket's kind it is for when nothing was
    requested yet (the slots of the new-ticket form, app/evidence/filing.py). `answer` with a file
    is kept as the file's note; `answer` without a file
    (stream None) records a "cannot provide" answer for `item_code` and returns None.
    Raises EvidenceRejected (422) for refused content, TooLarge (413) over a limit.
    """
    if stream is None:
        if not (answer or "").strip():
            raise Invalid(str(_l("Choose a file to upload.")), fields={"file": [str(_l("Required."))]})
        answer_item(ticket, item_code, answer, user)
        return None
    staff = _uploads_as_staff(ticket, user)
    item = None if staff else find_item(ticket.id, item_code)
    code = item.code if item else (None if staff else _checklist_code(ticket, checklist_code))
    note = " ".join((answer or "").split())[:MAX_NOTE] or None
    storage, lim = get_storage(), limits()
    if not staff and _usage(ticket.id)[0] >= lim.max_files_per_ticket:  # fail fast; rechecked under the lock
        raise EvidenceRejected(_l("A ticket can hold at most %(n)s files.", n=lim.max_files_per_ticket))
    created = False
    try:
        with _staged(storage, stream, lim) as staged:
            _lock_ticket(ticket)
            files, total = (0, 0) if staff else _usage(ticket.id)
            detected = check_upload(staged.path, staged.size, lim, ticket_files=files, ticket_bytes=total)
            existed = storage.exists(staged.key)
            blob = staged.commit()
            created = not existed
        now = utcnow()
        ev = Evidence(
            ticket_id=ticket.id,
            uploader_id=user.id,
            uploader_role=user.role,
            is_staff=staff,
            request_item_id=item.id if item else None,
            item_code=code,
            note=note,
            sha256=blob.sha256,
            size=blob.size,
            mime=detected.mime,
            kind=detected.kind,
            filename=sanitize_filename(filename or "", max_len=200),
            storage_key=blob.key,
            ocr_status="pending" if detected.kind in ("image", "pdf") else "skipped",
            created_at=now,
        )
        db.session.add(ev)
        if item is not None and item.satisfied_at is None:
            item.satisfied_at = now
        db.session.flush()
        _audit(
            ticket,
            "evidence_added",
            user,
            {
                "evidence_id": ev.id,
                "sha256": blob.sha256,
                "size": blob.size,
                "mime": detected.mime,
                "item": ev.item_code,
                "staff": staff,
            },
            now,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if created:
            _forget_blob(storage, blob.key, blob.sha256)
        raise
    _enqueue_processing(ev.id)
    return ev


def _checklist_code(ticket: Ticket, code: str | None) -> str | None:
    if not code:
        return None
    if code not in {i.code for i in checklist_for(ticket.kind)}:
        raise Invalid(str(_l("This item is not on the checklist of this kind of request.")), fields={"item": [code]})
    return code


def check_file(stream: IO[bytes]) -> None:
    """Refuse (EvidenceRejected, TooLarge) a file attach_evidence would refuse on an empty ticket,
    before the ticket exists: the new-ticket form checks its files first. The stream is rewound."""
    storage, lim = get_storage(), limits()
    try:
        with _staged(storage, stream, lim) as staged:
            check_upload(staged.path, staged.size, lim)
    finally:
        stream.seek(0)


def _staged(storage: Storage, stream, lim: Limits) -> Staged:
    """The upload staged in storage: already (see uploads.py) or streamed now."""
    if isinstance(stream, StagingFile):
        return stream.staged()
    return storage.stage(stream, lim.stream_cap)


def _enqueue_processing(evidence_id: int) -> None:
    """Queue the checks of a committed upload. The upload stands if the queue is down: its
    ocr_status stays "pending" (what the API and panels show) and `reprocess_pending` queues it later."""
    from app.jobs import enqueue

    try:
        enqueue(
            "app.evidence.jobs.process_evidence", evidence_id, retry=3 if current_app.config.get("REDIS_URL") else None
        )
    except Exception:
        log.exception("could not queue the checks of evidence %s; reprocess_pending will", evidence_id)


def answer_item(ticket: Ticket, item_code: str | None, answer: str | None, user) -> EvidenceRequestItem:
    """The customer's written answer for a requested item ("cannot provide: …")."""
    if _uploads_as_staff(ticket, user) or can(user, "merchant_tickets"):
        raise Forbidden(str(_l("Only the customer answers requested items.")))
    item = find_item(ticket.id, item_code)
    if item is None:
        raise Invalid(str(_l("Say which requested item you are answering.")), fields={"item": [str(_l("Required."))]})
    answer = (answer or "").strip()
    if not answer:
        raise Invalid(str(_l("Write why you cannot provide this item.")), fields={"answer": [str(_l("Required."))]})
    if len(answer) > MAX_NOTE:
        raise Invalid(
            str(_l("The answer is too long (at most %(n)s characters).", n=MAX_NOTE)),
            fields={"answer": [f"max {MAX_NOTE}"]},
        )
    try:
        _lock_ticket(ticket)
        now = utcnow()
        item.answer, item.answered_at = answer, now
        item.satisfied_at = item.satisfied_at or now
        _audit(ticket, "evidence_answered", user, {"item": item.code, "item_id": item.id}, now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return item


# --- reading --------------------------------------------------------------------------


def evidence_for(ticket: Ticket) -> list[Evidence]:
    return list(
        db.session.scalars(
            select(Evidence).where(Evidence.ticket_id == ticket.id).order_by(Evidence.created_at, Evidence.id)
        )
    )


def get_evidence(evidence_id: int, user) -> Evidence:
    """Evidence `evidence_id` if `user` may see its ticket and the file (`visibility`); else not found."""
    from app.tickets import visibility

    ev = db.session.get(Evidence, evidence_id)
    ticket = db.session.get(Ticket, ev.ticket_id) if ev is not None else None
    if (
        ev is None
        or ticket is None
        or not may_see(ticket, user)
        or not visibility.file_visible(visibility.viewer_of(user), ev)
    ):
        raise NotFound(str(_l("No such file.")))
    return ev


def open_blob(key: str) -> BinaryIO:
    try:
        return get_storage().open(key)
    except FileNotFoundError:
        raise NotFound(str(_l("No such file."))) from None


def requested_items(ticket: Ticket) -> list[EvidenceRequestItem]:
    return current_items(ticket.id)


def files_by_item(ticket: Ticket) -> dict[int, list[Evidence]]:
    out: dict[int, list[Evidence]] = {}
    for ev in evidence_for(ticket):
        if ev.request_item_id is not None:
            out.setdefault(ev.request_item_id, []).append(ev)
    return out
