"""Audit trail: append hash-chained TicketEvent rows and verify the chains."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.workflow.models import TicketEvent

GENESIS = "0" * 64


def _digest(prev_hash: str, ev: TicketEvent) -> str:
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
    canon = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canon).encode()).hexdigest()


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
) -> TicketEvent:
    last = db.session.execute(
        select(TicketEvent.seq, TicketEvent.hash)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.seq.desc())
        .limit(1)
    ).first()
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
    return ev


@dataclass
class Broken:
    ticket_id: int
    event_id: int
    seq: int
    why: str


def verify_chains() -> Broken | None:
    """Walk every ticket's chain in order; return the first broken event, or None."""
    prev_ticket, prev_hash, expected_seq = None, GENESIS, 1
    rows = db.session.scalars(select(TicketEvent).order_by(TicketEvent.ticket_id, TicketEvent.seq))
    for ev in rows.yield_per(1000):
        if ev.ticket_id != prev_ticket:
            prev_ticket, prev_hash, expected_seq = ev.ticket_id, GENESIS, 1
        if ev.seq != expected_seq:
            return Broken(ev.ticket_id, ev.id, ev.seq, f"sequence gap: expected {expected_seq}")
        if ev.prev_hash != prev_hash:
            return Broken(ev.ticket_id, ev.id, ev.seq, "prev_hash does not match the previous event")
        if _digest(prev_hash, ev) != ev.hash:
            return Broken(ev.ticket_id, ev.id, ev.seq, "hash does not match the event's content")
        prev_hash, expected_seq = ev.hash, expected_seq + 1
    return None
