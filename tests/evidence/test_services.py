"""attach_evidence / answer_item and the request/provide checks, through the real services."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine

from app.errors import EvidenceRejected, Forbidden, Invalid, NotAllowed, NotFound, TooLarge
from app.evidence import services
from app.evidence.items import current_items
from app.evidence.models import Evidence
from app.extensions import db
from app.types import utcnow
from app.workflow.events import verify_chains
from app.workflow.models import TicketEvent
from app.workflow.service import apply_event
from tests.evidence.conftest import stream
from tests.evidence.helpers import image_bytes, pdf_with_text
from tests.factories import make_ticket, make_user, staff

PNG = image_bytes("PNG")


def test_customer_upload_is_stored_hashed_and_audited(app, stored):
    ticket = make_ticket()
    ev = services.attach_evidence(ticket, stream(PNG), "截图.png", ticket.customer)
    assert (ev.mime, ev.kind, ev.size, ev.filename, ev.is_staff) == ("image/png", "image", len(PNG), "截图.png", False)
    assert len(stored.blobs()) == 1 and stored.temps() == []
    with open(stored.blobs()[0], "rb") as f:
        assert f.read() == PNG
    audit = db.session.query(TicketEvent).filter_by(ticket_id=ticket.id, event="evidence_added").one()
    assert audit.payload["sha256"] == ev.sha256 and audit.payload["evidence_id"] == ev.id
    assert audit.from_state == audit.to_state == "submitted"
    assert ticket.state == "submitted"
    assert verify_chains() is None


def test_same_bytes_twice_is_one_blob_two_rows(app, stored):
    ticket = make_ticket()
    a = services.attach_evidence(ticket, stream(PNG), "a.png", ticket.customer)
    b = services.attach_evidence(ticket, stream(PNG), "b.png", staff("agent"))
    assert a.id != b.id and a.storage_key == b.storage_key
    assert stored.rows() == 2 and len(stored.blobs()) == 1


def test_someone_elses_ticket_is_not_found(app, stored):
    ticket = make_ticket()
    with pytest.raises(NotFound):
        services.attach_evidence(ticket, stream(PNG), "x.png", make_user("customer"))
    assert stored.nothing()


def test_closed_ticket_takes_no_customer_evidence_but_staff_may_add(app, stored):
    ticket = make_ticket("withdrawn")
    with time_machine.travel(utcnow() + timedelta(minutes=31)):
        with pytest.raises(NotAllowed):
            services.attach_evidence(ticket, stream(PNG), "x.png", ticket.customer)
        assert stored.nothing()
    ev = services.attach_evidence(ticket, stream(PNG), "merchant.png", staff("agent"), answer="merchant reply")
    assert ev.is_staff and ev.note == "merchant reply"


def test_customer_may_add_evidence_to_a_fast_tracked_ticket(app):
    ticket = make_ticket("finance")
    assert services.attach_evidence(ticket, stream(PNG), "x.png", ticket.customer).id


def test_files_chosen_at_submission_attach_even_if_the_ticket_was_already_paid(app):
    ticket = make_ticket("paid")
    assert services.attach_evidence(ticket, stream(PNG), "x.png", ticket.customer).id
    with time_machine.travel(utcnow() + timedelta(minutes=31)), pytest.raises(NotAllowed):
        services.attach_evidence(ticket, stream(image_bytes(color="blue")), "y.png", ticket.customer)


def test_per_ticket_file_count_limit(app, stored):
    app.config["EVIDENCE_MAX_FILES"] = 2
    ticket = make_ticket()
    for n in range(2):
        services.attach_evidence(ticket, stream(image_bytes(color=(n, 0, 0))), f"{n}.png", ticket.customer)
    with pytest.raises(EvidenceRejected, match="at most 2 files"):
        services.attach_evidence(ticket, stream(image_bytes(color="blue")), "3.png", ticket.customer)
    assert stored.rows() == 2 and len(stored.blobs()) == 2
    services.attach_evidence(ticket, stream(image_bytes(color="blue")), "log.png", staff("agent"))  # staff: not counted


def test_per_ticket_bytes_and_per_file_limits_are_413(app, stored):
    app.config["EVIDENCE_MAX_TICKET_BYTES"] = len(PNG) + 10
    ticket = make_ticket()
    services.attach_evidence(ticket, stream(PNG), "a.png", ticket.customer)
    with pytest.raises(TooLarge):
        services.attach_evidence(ticket, stream(image_bytes(color="blue")), "b.png", ticket.customer)
    app.config["EVIDENCE_MAX_FILE_BYTES"] = 100
    with pytest.raises(TooLarge):
        other = make_ticket()
        services.attach_evidence(other, stream(PNG), "c.png", other.customer)
    assert stored.rows() == 1 and len(stored.blobs()) == 1 and stored.temps() == []


class _Exploding(io.RawIOBase):
    """A client that disconnects after sending some bytes."""

    def __init__(self, data: bytes, fail_after: int):
        self.data, self.pos, self.fail_after = data, 0, fail_after

    def readable(self):
        return True

    def read(self, n=-1):
        if self.pos >= self.fail_after:
            raise OSError("client went away")
        chunk = self.data[self.pos : self.pos + min(n if n > 0 else len(self.data), self.fail_after - self.pos)]
        self.pos += len(chunk)
        return chunk


def test_crash_mid_upload_leaves_nothing(app, stored):
    ticket = make_ticket()
    big = PNG + b"\0" * (3 * 1024 * 1024)
    with pytest.raises(OSError):
        services.attach_evidence(ticket, _Exploding(big, 2 * 1024 * 1024), "x.png", ticket.customer)
    assert stored.nothing()


def test_database_failure_after_blob_commit_removes_the_new_blob(app, stored, monkeypatch):
    ticket = make_ticket()

    def boom(*a, **kw):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "record_entry", boom)
    with pytest.raises(RuntimeError):
        services.attach_evidence(ticket, stream(PNG), "x.png", ticket.customer)
    assert stored.nothing()
    assert db.session.query(TicketEvent).filter_by(event="evidence_added").count() == 0


def test_database_failure_keeps_a_blob_other_evidence_uses(app, stored, monkeypatch):
    ticket = make_ticket()
    services.attach_evidence(ticket, stream(PNG), "first.png", ticket.customer)
    monkeypatch.setattr(services, "record_entry", lambda *a, **kw: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        services.attach_evidence(ticket, stream(PNG), "again.png", ticket.customer)
    assert stored.rows() == 1 and len(stored.blobs()) == 1


def test_request_evidence_needs_items_and_creates_them(app):
    ticket = make_ticket(kind="invalid_card")
    agent = staff("agent")
    for items in (None, [], ["  "]):
        with pytest.raises(Invalid):
            apply_event(ticket, "request_evidence", agent, items=items)
        assert ticket.state == "submitted"
    apply_event(ticket, "request_evidence", agent, items=["activation_failure", "客服聊天记录截图"])
    items = current_items(ticket.id)
    assert [i.code for i in items][0] == "activation_failure"
    assert items[1].code.startswith("free-") and items[1].label == "客服聊天记录截图"


def test_provide_evidence_refused_until_every_item_has_a_file_or_answer(app):
    ticket = make_ticket(kind="duplicate_charge")
    apply_event(ticket, "request_evidence", staff("agent"), items=["payment_record_1", "payment_record_2"])
    cust = ticket.customer
    with pytest.raises(Invalid, match="First payment record; Second payment record"):
        apply_event(ticket, "provide_evidence", cust)
    services.attach_evidence(ticket, stream(PNG), "a.png", cust)  # a file for no item: not enough
    services.attach_evidence(ticket, stream(pdf_with_text("KM1")), "bill.pdf", cust, item_code="payment_record_1")
    with pytest.raises(Invalid, match="Second payment record") as exc:
        apply_event(ticket, "provide_evidence", cust)
    assert exc.value.fields == {"items": ["payment_record_2"]} and ticket.state == "evidence"
    services.attach_evidence(
        ticket,
        None,
        "",
        cust,
        item_code="payment_record_2",
        answer="cannot provide: the bank app only shows one charge",
    )
    apply_event(ticket, "provide_evidence", cust)
    assert ticket.state == "review"


def test_staff_evidence_does_not_satisfy_a_customer_item(app):
    ticket = make_ticket("evidence")
    code = current_items(ticket.id)[0].code
    services.attach_evidence(ticket, stream(PNG), "log.png", staff("agent"), item_code=code)
    with pytest.raises(Invalid):
        apply_event(ticket, "provide_evidence", ticket.customer)


def test_answers_and_items_are_checked(app):
    ticket = make_ticket("evidence")
    code = current_items(ticket.id)[0].code
    with pytest.raises(Invalid):
        services.attach_evidence(ticket, stream(PNG), "x.png", ticket.customer, item_code="no-such-item")
    with pytest.raises(Invalid):
        services.answer_item(ticket, code, "   ", ticket.customer)
    with pytest.raises(Invalid):
        services.answer_item(ticket, code, "x" * 2001, ticket.customer)
    with pytest.raises(Forbidden):
        services.answer_item(ticket, code, "I am staff", staff("agent"))
    with pytest.raises(NotFound):
        services.answer_item(ticket, code, "not mine", make_user("customer"))
    with pytest.raises(Invalid):
        services.attach_evidence(ticket, None, "", ticket.customer, item_code=code)  # neither file nor answer
    assert db.session.query(Evidence).count() == 0


def test_a_new_round_asks_again(app):
    ticket = make_ticket("evidence")
    code = current_items(ticket.id)[0].code
    services.answer_item(ticket, code, "deleted", ticket.customer)
    apply_event(ticket, "provide_evidence", ticket.customer)
    apply_event(ticket, "request_evidence", staff("agent"), items=["payment_record"])
    assert [(i.code, i.round, i.satisfied_at) for i in current_items(ticket.id)] == [("payment_record", 2, None)]
    with pytest.raises(Invalid):
        apply_event(ticket, "provide_evidence", ticket.customer)


def test_storage_failure_while_keeping_the_blob_leaves_nothing(app, stored, monkeypatch):
    from app.evidence.storage import LocalStorage

    ticket = make_ticket()

    def disk_full(self, staged):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(LocalStorage, "_commit", disk_full)
    with pytest.raises(OSError):
        services.attach_evidence(ticket, stream(PNG), "x.png", ticket.customer)
    assert stored.nothing()
