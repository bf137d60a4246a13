"""JSON API v1: 催办 (urge) by the ticket's customer."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields

from app.api_support import DateTime, ResponseSchema, dump
from app.auth.tokens import api_user, token_required
from app.notifications.urge import urge, urge_status
from app.tickets.services import get_ticket

bp = Blueprint("notifications_api", __name__, url_prefix="/api/v1")


class UrgeSchema(ResponseSchema):
    ticket_ref = fields.String()
    stage = fields.String(metadata={"enum": ["submitted", "review", "finance"]})
    urged_at = DateTime()
    next_urge_at = DateTime(metadata={"description": "when this stage can be urged again"})


class UrgeErrorBodySchema(ResponseSchema):
    code = fields.String(metadata={"enum": ["not_allowed"]})
    message = fields.String()
    opens_at = DateTime(allow_none=True, metadata={"description": "when urging opens (null: nothing to urge now)"})


class UrgeErrorSchema(ResponseSchema):
    error = fields.Nested(UrgeErrorBodySchema)


COMPONENTS = {"Urge": UrgeSchema, "UrgeError": UrgeErrorSchema}


@bp.post("/tickets/<ref>/urge")
@token_required("own_tickets")
def post_urge(ref: str):
    """Urge (催办) the desk: the promised time passed. Once per stage per 24 hours.
    ---
    post:
      tags: [tickets]
      parameters: [{name: ref, in: path, required: true, schema: {type: string}}]
      responses:
        201: {description: urged; the assignee and the managers are told, content: {application/json: {schema: Urge}}}
        403: {description: customers only, content: {application/json: {schema: Error}}}
        404: {description: no such ticket (or not yours), content: {application/json: {schema: Error}}}
        409:
          description: "not_allowed: before the promised time, urged in the last 24 h, or nothing to urge now"
          content: {application/json: {schema: UrgeError}}
    """
    user = api_user()
    ticket = get_ticket(ref, user)
    entry = urge(ticket, user)
    body = {"ticket_ref": ticket.ref, "stage": entry.to_state, "urged_at": entry.created_at}
    return dump(UrgeSchema, {**body, "next_urge_at": urge_status(ticket).opens_at}), 201
