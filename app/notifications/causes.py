"""What each cause tells: the parameters of the notices, from the rows that caused them.

Called by the packages where things happen (inside their transaction), or by the job that
runs after a transition committed. The routing (who, which kind, which channels) is table.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from app.extensions import db
from app.notifications.models import Notification
from app.notifications.services import announce
from app.tickets.visibility import reason_visible

EXCERPT = 280


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _event_params(ticket, ev) -> dict:
    payload = ev.payload or {}
    # One visibility rule (app/tickets/visibility.py): customers read only reasons meant for them;
    # a return to review is told to the agent only, an escalation to the managers only. A partial
    # approval's reason explains the amount.
    shown = ev.event in ("return_to_review", "escalate") or reason_visible("customer", ev.event, ev.actor_role)
    p: dict = {
        "reason": (ev.reason or "") if shown else "",
        "kind": ticket.kind,
        "channel": ticket.order.payment_channel,
    }
    if ev.event == "request_evidence":
        p.update(items=list(payload.get("items") or []), note=ev.reason or "", due_at=_iso(ticket.evidence_due_at))
    elif ev.event in ("approve", "fast_track"):
        amount = payload.get("amount_cents", ticket.approved_amount_cents)
        p.update(amount_cents=amount, requested_cents=ticket.requested_amount_cents)
        if amount is not None and amount < ticket.requested_amount_cents and ev.reason:
            p["partial_reason"] = ev.reason
    elif ev.event == "reject" and ticket.rejected_at is not None:
        days = current_app.config["APPEAL_WINDOW_DAYS"]
        p["appeal_until_at"] = _iso(ticket.rejected_at + timedelta(days=days))
    elif ev.event == "escalate":
        p["amount_cents"] = payload.get("amount_cents")
    if ev.event in ("approve", "reject", "resolve"):
        p["outcome"] = ev.to_state
    if ev.event == "evidence_added":
        p["name"] = payload.get("mime") or ""
    if ev.event.startswith("merchant_") or ev.event == "ask_merchant":
        p.update(
            event=ev.event,
            due_at=_iso(ticket.merchant_due_at),
            amount_cents=payload.get("amount_cents", ticket.approved_amount_cents or ticket.requested_amount_cents),
        )
    return p


def announce_event(ticket, ev) -> list[Notification]:
    """The notices of one audit-trail entry (a transition, or evidence added by the customer)."""
    if ev.event == "evidence_added" and (ev.actor_role != "customer" or (ev.payload or {}).get("staff")):
        return []
    return announce(
        ev.event,
        ticket,
        cause=f"ev:{ticket.id}:{ev.seq}",
        params=_event_params(ticket, ev),
        actor_id=ev.actor_id,
        now=ev.created_at,
    )


def message_posted(ticket, message, author) -> list[Notification]:
    """A public reply: staff → the customer; the customer → the ticket's agent. Internal notes tell no one."""
    if message.internal:
        return []
    trigger = "customer_message" if author.role == "customer" else "staff_message"
    excerpt = message.body if len(message.body) <= EXCERPT else message.body[: EXCERPT - 1] + "…"
    if message.id is None:
        db.session.flush()
    return announce(trigger, ticket, cause=f"msg:{message.id}", params={"excerpt": excerpt}, actor_id=author.id)


def ticket_assigned(ticket, actor) -> list[Notification]:
    if ticket.assignee_id is None:
        return []
    return announce(
        "assigned",
        ticket,
        cause=f"assign:{ticket.id}:{ticket.assignee_id}:{ticket.version}",
        params={"kind": ticket.kind, "amount_cents": ticket.requested_amount_cents},
        actor_id=actor.id if actor is not None else None,
    )


def payout_sent(ticket, payout) -> list[Notification]:
    from app.tickets.arrival import expected_arrival

    arrival_by = expected_arrival(payout.channel, payout.succeeded_at) if payout.succeeded_at else None
    return announce(
        "payout_sent",
        ticket,
        cause=f"payout:{payout.id}:sent:{payout.idempotency_key}",
        params={
            "amount_cents": payout.amount_cents,
            "channel": payout.channel,
            "reference": payout.gateway_reference or "",
            "arrival_by_at": _iso(arrival_by),
        },
    )


def payout_failed(ticket, payout) -> list[Notification]:
    return announce(
        "payout_failed",
        ticket,
        cause=f"payout:{payout.id}:failed:{payout.idempotency_key}",
        params={"amount_cents": payout.amount_cents, "channel": payout.channel, "error": payout.last_error or ""},
    )


def evidence_reminder(ticket, trigger: str, hours: int, now: datetime) -> list[Notification]:
    from app.evidence.services import requested_items

    items = [
        i.label or i.code if i.code.startswith("free-") else i.code
        for i in requested_items(ticket)
        if i.satisfied_at is None
    ]
    return announce(
        trigger,
        ticket,
        cause=f"{trigger}:{ticket.id}:{_iso(ticket.evidence_due_at)}",
        params={"items": items, "due_at": _iso(ticket.evidence_due_at), "left": hours},
        now=now,
    )
