"""Helpers shared by the JSON API blueprints: input loading and the OpenAPI document."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields

from app.errors import Invalid


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    allowed_events = fields.List(fields.String())
    fields_ = fields.Dict(data_key="fields")


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


def load_json(schema: Schema) -> dict:
    """Validate the request's JSON body with `schema`; bad input is a 422 `invalid`."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise Invalid(str(_l("Send a JSON object.")))
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise Invalid(str(_l("Some fields are invalid.")), fields=exc.normalized_messages())


def load_args(schema: Schema) -> dict:
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise Invalid(str(_l("Some parameters are invalid.")), fields=exc.normalized_messages())


def build_spec() -> dict:
    """OpenAPI 3 document generated from the API views' docstrings and marshmallow schemas."""
    spec = APISpec(
        title="Refundesk API", version="1.0.0", openapi_version="3.0.3", plugins=[FlaskPlugin(), MarshmallowPlugin()]
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    from app.auth import schemas as auth_schemas
    from app.tickets import schemas as ticket_schemas

    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.schema("TokenRequest", schema=auth_schemas.TokenRequestSchema)
    spec.components.schema("TokenResponse", schema=auth_schemas.TokenResponseSchema)
    from app.evidence.serializers import COMPONENTS as evidence_components
    from app.payouts.api import COMPONENTS as payout_components

    for name, schema in {**ticket_schemas.COMPONENTS, **evidence_components, **payout_components}.items():
        spec.components.schema(name, schema=schema)
    for rule in current_app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "tickets_api.openapi":
            view = current_app.view_functions[rule.endpoint]
            if view.__doc__ and "---" in view.__doc__:
                spec.path(view=view, app=current_app)
    doc = spec.to_dict()
    doc["security"] = [{"bearer": []}]
    unauthorized = {
        "description": "missing, unknown or expired token",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for operations in doc.get("paths", {}).values():
        for op in operations.values():
            if isinstance(op, dict) and "responses" in op and op.get("security") != []:
                op["responses"].setdefault("401", unauthorized)  # every token-protected operation
    return doc
