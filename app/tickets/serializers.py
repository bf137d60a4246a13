"""JSON shapes of orders and tickets (the API contract)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.sla.clock import sla_status
from app.tickets import visibility
from app.tickets.models import Order, Ticket
from app.types import utcnow
from app.urls import public_url
from app.workflow.labels import state_label
from app.workflow.models import TicketEvent
from app.workflow.policies import refundable_balance
from app.workflow.service import allowed_events


def _iso(dt):
    return dt.isoformat() if dt else None


def order_json(order: Order, *, full: bool = True) -> dict:
    membership = None
    if order.product_type == "membership" or order.membership_term_days:
        membership = {
            "activated_at": _iso(order.membership_activated_at),
            "term_days": order.membership_term_days,
            "benefits_used_cents": order.membership_benefits_used_cents or 0,
        }
    return {
        "order_no": order.order_no,
        "merchant_code": order.merchant.code,
        "product_type": order.product_type,
        "product_name": order.product_name,
        "quantity": order.quantity,
        "amount_cents": order.amount_cents,
        "refundable_cents": refundable_balance(order) if full else None,
        "currency": order.currency,
        "payment_channel": order.payment_channel,
        "paid_at": _iso(order.paid_at),
        "delivery_status": order.delivery_status,
        "delivered_at": _iso(order.delivered_at),
        "card_key_revealed_at": _iso(order.card_key_revealed_at),
        "membership": membership,
    }


def timeline(ticket: Ticket) -> list[TicketEvent]:
    return list(
        db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.seq))
    )


def tracker_url(ticket: Ticket) -> str:
    return public_url("tickets.tracker", token=ticket.tracker_token)


def ticket_json(ticket: Ticket, user, *, with_timeline: bool = True) -> dict:
    now = utcnow()
    viewer = visibility.viewer_of(user)
    body = {
        "ref": ticket.ref,
        "kind": ticket.kind,
        "state": ticket.state,
        "state_label": state_label(ticket.state),
        "order": order_json(ticket.order, full=with_timeline),
        "requested_amount_cents": ticket.requested_amount_cents,
        "approved_amount_cents": ticket.approved_amount_cents,
        "allowed_events": allowed_events(ticket, user, now),
        "sla": sla_status(ticket, now),
        "tracker_url": tracker_url(ticket),
        "version": ticket.version,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
    }
    if with_timeline:
        from app.evidence.serializers import evidence_json, item_json
        from app.evidence.services import evidence_for, requested_items

        body["evidence_items"] = [item_json(i) for i in requested_items(ticket)]
        body["evidence"] = [evidence_json(e) for e in visibility.evidence(evidence_for(ticket), viewer)]
        body["timeline"] = [
            {
                "event": e.event,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "actor_role": e.actor_role,
                "reason": e.reason,
                "at": _iso(e.at),
            }
            for e in visibility.timeline(ticket, timeline(ticket), viewer)
        ]
    return body
