"""JSON API v1: orders and tickets. Parse, call one service, serialize."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.api_support import build_spec, load_args, load_json
from app.auth.tokens import api_user, token_required
from app.tickets import schemas, services
from app.tickets.serializers import order_json, ticket_json, ticket_page_json
from app.workflow.service import apply_event

bp = Blueprint("tickets_api", __name__, url_prefix="/api/v1")


@bp.post("/orders")
@token_required("create_order")
def create_order():
    """Create an order as the platform reports it.
    ---
    post:
      tags: [orders]
      requestBody: {content: {application/json: {schema: OrderCreate}}}
      responses:
        201: {description: created, content: {application/json: {schema: Order}}}
        403: {description: platform and admin only, content: {application/json: {schema: Error}}}
        409: {description: duplicate order_no, content: {application/json: {schema: Error}}}
        422: {description: bad fields, content: {application/json: {schema: Error}}}
    """
    order = services.create_order(load_json(schemas.OrderCreateSchema()), api_user())
    return order_json(order), 201


@bp.post("/tickets")
@token_required("file_ticket")
def create_ticket():
    """File a complaint/refund ticket on an order.
    ---
    post:
      tags: [tickets]
      requestBody: {content: {application/json: {schema: TicketCreate}}}
      responses:
        201: {description: created, content: {application/json: {schema: Ticket}}}
        403: {description: customers and the platform only, content: {application/json: {schema: Error}}}
        404: {description: no such order (or not yours), content: {application/json: {schema: Error}}}
        409:
          description: "not_allowed: an open request of this kind exists for the order (error.fields.open_ticket)"
          content: {application/json: {schema: Error}}
        422: {description: bad fields, content: {application/json: {schema: Error}}}
    """
    data = load_json(schemas.TicketCreateSchema())
    ticket = services.create_ticket(
        data["order_no"],
        data["kind"],
        data["description"],
        api_user(),
        requested_amount_cents=data["requested_amount_cents"],
    )
    return ticket_json(ticket, api_user()), 201


@bp.get("/tickets/<ref>")
@token_required()
def get_ticket(ref: str):
    """One ticket with its timeline, SLA and the events the caller may fire.
    ---
    get:
      tags: [tickets]
      parameters: [{name: ref, in: path, required: true, schema: {type: string}}]
      responses:
        200: {description: the ticket, content: {application/json: {schema: Ticket}}}
        404: {description: no such ticket (or not yours), content: {application/json: {schema: Error}}}
    """
    return ticket_json(services.get_ticket(ref, api_user()), api_user())


@bp.post("/tickets/<ref>/events")
@token_required()
def fire_event(ref: str):
    """Fire a workflow event.
    ---
    post:
      tags: [tickets]
      parameters: [{name: ref, in: path, required: true, schema: {type: string}}]
      requestBody: {content: {application/json: {schema: EventRequest}}}
      responses:
        200: {description: the ticket after the event, content: {application/json: {schema: Ticket}}}
        403: {description: your role may not, content: {application/json: {schema: Error}}}
        404: {description: no such ticket, content: {application/json: {schema: Error}}}
        409: {description: not_allowed now, or conflict (stale version), content: {application/json: {schema: Error}}}
        422: {description: bad fields, content: {application/json: {schema: Error}}}
    """
    user = api_user()
    ticket = services.get_ticket(ref, user)
    data = load_json(schemas.EventRequestSchema())
    apply_event(
        ticket,
        data["event"],
        user,
        reason=data["reason"],
        amount_cents=data["amount_cents"],
        items=data["items"],
        version=data["version"],
        payload=schemas.event_payload(data),
    )
    return ticket_json(ticket, user)


@bp.get("/tickets")
@token_required("ticket_list")
def list_tickets():
    """The staff queue, keyset-paginated (a merchant: its own merchant's tickets only).
    ---
    get:
      tags: [tickets]
      parameters: [{in: query, schema: TicketListArgsSchema}]
      responses:
        200: {description: a page, content: {application/json: {schema: TicketPage}}}
        403: {description: staff only, content: {application/json: {schema: Error}}}
        422: {description: bad filter, limit or cursor, content: {application/json: {schema: Error}}}
    """
    args = load_args(schemas.TicketListArgsSchema())
    rows, nxt = services.list_tickets(api_user(), **args)
    return ticket_page_json(rows, api_user(), nxt)


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_spec())
