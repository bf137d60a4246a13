"""Audit trail: append hash-chained TicketEvent rows, anchor each chain on its ticket, verify both.

How it works
------------
Every event row carries `hash = HMAC-SHA256(key, prev_hash + canonical JSON of the row)`, where
`prev_hash` is the previous event's hash (GENESIS for the first). The key is AUDIT_HMAC_KEY
(default: derived from SECRET_KEY), so database access alone cannot compute a valid hash.
Each ticket row stores the head of its chain: `audit_seq` (last seq) and `audit_hash`, an HMAC
over (ticket id, last seq, last event's hash, the ticket's state, its approved amount).

`flask audit verify` checks, for every ticket:
- the events run seq 1..n without gaps, each links to the previous one's hash, and each hash is
  the keyed HMAC of its content (an event edited and re-hashed with plain SHA-256, or with any
  other key, fails);
- each event's from_state is the previous event's to_state;
- the anchor: `audit_seq` equals the last seq and `audit_hash` is the HMAC of the current head,
  state and approved amount — so deleting the last event(s), deleting the whole chain, or
  changing `tickets.state` / `tickets.approved_amount_cents` fails;
- the ticket's state equals its last event's to_state (a ticket without events must be `new`).

What it proves: with the key kept out of the database (set AUDIT_HMAC_KEY, or SECRET_KEY, in the
environment), no one with SQL access alone can edit, insert, delete or reorder events, or change a
ticket's state or approved amount, without `verify` reporting the ticket.

What it does NOT prove:
- Anything against someone who has the key (the app server's environment): they can rewrite
  chains and anchors consistently. Keep the key off database hosts and backups.
- Rollback: restoring a ticket row and its chain to an earlier consistent snapshot (an old
  backup, or values saved earlier) verifies. Export `flask audit verify --digest` output to an
  append-only place outside the database to detect that.
- Deleting a ticket row together with its events (nothing is left to check), or rows other than
  tickets/events (messages, evidence, payouts) — only the state trail is covered.
- That the events are *true*: it shows the trail was not altered after it was written, by the app.

Chains written before keyed hashes (plain SHA-256, no anchor) are reported by `verify` as
"pre-HMAC". `flask audit rehash`, run once after upgrading, re-signs every chain that is intact
under plain SHA-256 (a plain prefix followed by keyed events is accepted; a chain with a broken
link or a mismatching anchor is refused and left for inspection). After that, a pre-HMAC chain
appearing again is tampering: do not rehash it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.tickets.models import Ticket
from app.types import utcnow
from app.workflow.models import TicketEvent

GENESIS = "0" * 64


def _key() -> bytes:
    configured = current_app.config.get("AUDIT_HMAC_KEY")
    if configured:
        return str(configured).encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"refundesk audit trail v1", hashlib.sha256).digest()


def _canon(ev: TicketEvent) -> str:
    body = {
        "ticket_id": ev.ticket_id,
        "seq": ev.seq,
        "event": ev.event,
        "from": ev.from_state,
        "to": ev.to_state,
        "actor_id": ev.actor_id,
        "actor_role": ev.actor_role,
        "reason": ev.reason,
        "payload": ev.payload or {},
        "at": ev.created_at.isoformat(timespec="microseconds"),
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _digest(prev_hash: str, ev: TicketEvent, key: bytes | None = None) -> str:
    return hmac.new(key or _key(), (prev_hash + _canon(ev)).encode(), hashlib.sha256).hexdigest()


def _plain_digest(prev_hash: str, ev: TicketEvent) -> str:
    """The hash of chains written before keyed hashes (recognised only to report and rehash them)."""
    return hashlib.sha256((prev_hash + _canon(ev)).encode()).hexdigest()


def _anchor(
    ticket_id: int, seq: int, head_hash: str, state: str, approved: int | None, key: bytes | None = None
) -> str:
    msg = f"anchor|{ticket_id}|{seq}|{head_hash}|{state}|{'' if approved is None else approved}"
    return hmac.new(key or _key(), msg.encode(), hashlib.sha256).hexdigest()


def record_event(
    ticket,
    event: str,
    from_state: str | None,
    to_state: str,
    *,
    actor_id: int | None,
    actor_role: str,
    reason: str | None,
    payload: dict,
    at: datetime,
    first: bool = False,
) -> TicketEvent:
    """Append an event and move the ticket's anchor to it (same transaction; the caller commits).
    `first`: the ticket was inserted by this transaction, so its chain is empty (no head to read:
    no other transaction can have written an event for a row it cannot see)."""
    last = (
        None
        if first
        else db.session.execute(
            select(TicketEvent.seq, TicketEvent.hash)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.seq.desc())
            .limit(1)
        ).first()
    )
    prev_hash = last.hash if last else GENESIS
    ev = TicketEvent(
        ticket_id=ticket.id,
        seq=(last.seq + 1) if last else 1,
        event=event,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor_id,
        actor_role=actor_role,
        reason=reason,
        payload=payload,
        created_at=at,
        prev_hash=prev_hash,
    )
    ev.hash = _digest(prev_hash, ev)
    db.session.add(ev)
    # A Core UPDATE: the anchor is not a change of the ticket (its version stays). The loaded ticket
    # is told the new values, so it matches its row without a reload.
    anchor = _anchor(ticket.id, ev.seq, ev.hash, ticket.state, ticket.approved_amount_cents)
    touched = utcnow()
    db.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(audit_seq=ev.seq, audit_hash=anchor, updated_at=touched)
        .execution_options(synchronize_session=False)
    )
    for name, value in (("audit_seq", ev.seq), ("audit_hash", anchor), ("updated_at", touched)):
        set_committed_value(ticket, name, value)
    return ev


def record_entry(
    ticket,
    event: str,
    *,
    actor_id: int | None,
    actor_role: str,
    payload: dict,
    at: datetime,
    reason: str | None = None,
) -> TicketEvent:
    """An audit entry that is not a transition (urge, tag, assignment, evidence, …): the state stays."""
    return record_event(
        ticket,
        event,
        ticket.state,
        ticket.state,
        actor_id=actor_id,
        actor_role=actor_role,
        reason=reason,
        payload=payload,
        at=at,
    )


@dataclass
class Broken:
    ticket_id: int
    event_id: int | None
    seq: int | None
    why: str


def _chains() -> Iterator[tuple[Ticket, list[TicketEvent]]]:
    """Every ticket with its events in order (tickets without events included)."""
    fresh = {"populate_existing": True}  # anchors are written with Core UPDATEs: never trust the identity map
    tickets = db.session.scalars(select(Ticket).order_by(Ticket.id).execution_options(**fresh)).all()
    events = iter(
        db.session.scalars(
            select(TicketEvent).order_by(TicketEvent.ticket_id, TicketEvent.seq).execution_options(**fresh)
        ).all()
    )
    pending = next(events, None)
    for ticket in tickets:
        chain: list[TicketEvent] = []
        while pending is not None and pending.ticket_id <= ticket.id:
            if pending.ticket_id == ticket.id:
                chain.append(pending)
            pending = next(events, None)
        yield ticket, chain


def check_chain(ticket: Ticket, chain: list[TicketEvent], key: bytes | None = None) -> Broken | None:
    """The first problem of one ticket's trail, or None."""
    key = key or _key()
    prev_hash, prev_state = GENESIS, None
    for expected_seq, ev in enumerate(chain, 1):
        if ev.seq != expected_seq:
            return Broken(ticket.id, ev.id, ev.seq, f"sequence gap: expected {expected_seq}")
        if ev.prev_hash != prev_hash:
            return Broken(ticket.id, ev.id, ev.seq, "prev_hash does not match the previous event")
        if _digest(prev_hash, ev, key) != ev.hash:
            if _plain_digest(prev_hash, ev) == ev.hash:
                why = "pre-HMAC (plain SHA-256) hash: run `flask audit rehash` once after upgrading"
            else:
                why = "hash does not match the event's content"
            return Broken(ticket.id, ev.id, ev.seq, why)
        if expected_seq > 1 and ev.from_state != prev_state:
            return Broken(ticket.id, ev.id, ev.seq, f"from_state {ev.from_state} is not the previous to_state")
        prev_hash, prev_state = ev.hash, ev.to_state
    if not chain:
        if ticket.audit_seq or ticket.audit_hash:
            return Broken(
                ticket.id, None, None, f"the ticket's anchor names seq {ticket.audit_seq} but it has no events"
            )
        if ticket.state != "new":
            return Broken(ticket.id, None, None, f"state {ticket.state} without any event")
        return None
    head = chain[-1]
    if ticket.audit_seq != head.seq:
        return Broken(ticket.id, head.id, head.seq, f"the ticket's anchor names seq {ticket.audit_seq}")
    if ticket.state != head.to_state:
        return Broken(ticket.id, head.id, head.seq, f"ticket state {ticket.state} is not the last to_state")
    if ticket.audit_hash != _anchor(ticket.id, head.seq, head.hash, ticket.state, ticket.approved_amount_cents, key):
        return Broken(
            ticket.id, head.id, head.seq, "the ticket's anchor does not match (state, amount or head changed)"
        )
    return None


def verify_chains() -> Broken | None:
    """Walk every ticket's trail; return the first problem found, or None."""
    key = _key()
    for ticket, chain in _chains():
        broken = check_chain(ticket, chain, key)
        if broken is not None:
            return broken
    return None


def anchors_digest() -> str:
    """One SHA-256 over every ticket's (id, audit_seq, audit_hash): save it outside the database."""
    h = hashlib.sha256()
    for row in db.session.execute(select(Ticket.id, Ticket.audit_seq, Ticket.audit_hash).order_by(Ticket.id)):
        h.update(f"{row.id}:{row.audit_seq}:{row.audit_hash}\n".encode())
    return h.hexdigest()


def rehash_legacy() -> tuple[int, list[Broken]]:
    """Re-sign chains written before keyed hashes; (tickets re-signed, chains refused)."""
    key, done, refused = _key(), 0, []
    for ticket, chain in _chains():
        if check_chain(ticket, chain, key) is None:
            continue
        problem = _legacy_problem(ticket, chain, key)
        if problem is not None:
            refused.append(problem)
            continue
        prev_hash = GENESIS
        for ev in chain:
            ev.prev_hash = prev_hash
            ev.hash = prev_hash = _digest(prev_hash, ev, key)
        head = chain[-1] if chain else None
        ticket.audit_seq = head.seq if head else 0
        ticket.audit_hash = (
            _anchor(ticket.id, head.seq, head.hash, ticket.state, ticket.approved_amount_cents, key) if head else None
        )
        done += 1
    db.session.commit()
    return done, refused


def _legacy_problem(ticket: Ticket, chain: list[TicketEvent], key: bytes) -> Broken | None:
    """Why a failing chain is not a clean pre-HMAC chain (None: it is one, safe to re-sign)."""
    prev_hash, keyed_seen = GENESIS, False
    for expected_seq, ev in enumerate(chain, 1):
        if ev.seq != expected_seq or ev.prev_hash != prev_hash:
            return Broken(ticket.id, ev.id, ev.seq, "broken link: not re-signed")
        keyed = _digest(prev_hash, ev, key) == ev.hash
        if not keyed and (keyed_seen or _plain_digest(prev_hash, ev) != ev.hash):
            return Broken(ticket.id, ev.id, ev.seq, "hash matches neither the key nor a pre-HMAC chain: not re-signed")
        keyed_seen = keyed_seen or keyed
        prev_hash = ev.hash
    head = chain[-1] if chain else None
    if not head:
        return Broken(ticket.id, None, None, "no events but an anchor or a state: not re-signed")
    if ticket.state != head.to_state:
        return Broken(ticket.id, head.id, head.seq, "ticket state is not the last to_state: not re-signed")
    if ticket.audit_hash is not None and ticket.audit_hash != _anchor(
        ticket.id, head.seq, head.hash, ticket.state, ticket.approved_amount_cents, key
    ):
        return Broken(ticket.id, head.id, head.seq, "the anchor does not match: not re-signed")
    return None
