"""Helpers shared by the JSON API blueprints: the schema base classes, input loading, output dumping
and the OpenAPI document.

One source of truth for every API shape: the marshmallow schemas. Input schemas (`ApiSchema`)
validate what `load_json` / `load_args` / `load_form` read; response schemas (`ResponseSchema`)
are what `dump` writes. `build_spec` documents the very same classes (components and query
parameters), so the document cannot say something the code does not do. Views name their
responses in the docstring's YAML (`schema: Ticket`), which the conformance test
(tests/api/test_conformance.py) replays for every operation and role.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, missing
from marshmallow.utils import get_value

from app.errors import Invalid
from app.inputs import InputSchema


class ApiSchema(InputSchema):
    """Base of every API schema, input and output — the one place to hook rules for all API fields.

    The input layer (app/inputs.py, InputSchema) refuses NUL bytes anywhere in a payload and
    integers, decimals and dates out of range for every field of every schema.
    Unknown fields are refused (documented as `additionalProperties: false`).
    """

    class Meta:
        unknown = RAISE


class ResponseSchema(ApiSchema):
    """A response shape. Every declared field is always in the output (documented as required;
    null where the field allows none); nothing else is — `dump` writes only declared fields.
    """

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.required = True  # the instance's own copy: what the OpenAPI document reads


class DateTime(fields.DateTime):
    """An ISO 8601 time with offset. Datetimes are formatted; already formatted strings pass through."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return value
        return super()._serialize(value, attr, obj, **kwargs)


class Inline(fields.Nested):
    """A nested object read from the same source object (e.g. `ocr` from the evidence row's `ocr_*` columns)."""

    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        return self._serialize(obj, attr, obj, **kwargs)


class ErrorBodySchema(ApiSchema):
    code = fields.String(
        required=True,
        metadata={
            "enum": [
                "unauthorized",
                "forbidden",
                "not_found",
                "not_allowed",
                "conflict",
                "invalid",
                "too_large",
                "too_many_requests",
                "unavailable",
            ]
        },
    )
    message = fields.String(required=True)
    allowed_events = fields.List(fields.String(), metadata={"description": "with not_allowed: what may be fired now"})
    fields_ = fields.Dict(data_key="fields", metadata={"description": "with invalid: the bad fields and why"})


class ErrorSchema(ApiSchema):
    error = fields.Nested(ErrorBodySchema, required=True)


def dump(schema: type[Schema], obj: Any, *, many: bool = False) -> Any:
    """`obj` written through the response schema `schema` (only its declared fields)."""
    write = _writer(schema)
    return [write(o) for o in obj] if many else write(obj)


@functools.cache
def _writer(schema: type[Schema]) -> Callable[[Any], dict]:
    """A function that writes an object exactly as `schema().dump` does, built once per schema.

    marshmallow spends most of a list response in its per-field layers (serialize → get_value →
    accessor → _serialize, for ~40 fields per ticket). This reads the schema's own fields once and
    keeps a direct step for the plain types (String, Integer, Float, Boolean and Raw as they are,
    DateTime through its format function, Nested, List of those); any other field (e.g. Function,
    Inline) is still written by the field itself, and a schema with dump hooks by marshmallow.
    tests/api/test_dump.py checks the output against marshmallow's for every response schema."""
    instance = schema()
    if instance._hooks.get("pre_dump") or instance._hooks.get("post_dump"):
        return instance.dump
    steps = [
        (field.data_key or name, field.attribute or name, field, field._CHECK_ATTRIBUTE, _converter(field))
        if type(field).serialize is fields.Field.serialize
        else (field.data_key or name, name, field, None, None)  # its own serialize (e.g. Inline): call it
        for name, field in instance.dump_fields.items()
    ]
    accessor = instance.get_attribute
    keyed: dict[type, bool] = {}  # marshmallow asks hasattr(obj, "__getitem__") of every object

    def write(obj: Any) -> dict:
        out = {}
        kind = type(obj)
        by_key = keyed.get(kind)
        if by_key is None:
            by_key = keyed[kind] = hasattr(kind, "__getitem__")  # obj[attr] needs the type's (else getattr)
        for key, attr, field, reads, convert in steps:
            if reads is None:
                value = field.serialize(attr, obj, accessor=accessor)
                if value is not missing:
                    out[key] = value
                continue
            if not reads:  # e.g. Function: computed from the object itself
                out[key] = field._serialize(None, attr, obj)
                continue
            if "." in attr:  # a path, e.g. "merchant.code"
                value = get_value(obj, attr, missing)
            elif by_key:
                try:
                    value = obj[attr]
                except (KeyError, IndexError, TypeError, AttributeError):
                    value = getattr(obj, attr, missing)
            else:
                value = getattr(obj, attr, missing)
            if value is missing:
                default = field.dump_default
                value = default() if callable(default) else default
                if value is missing:
                    continue
            if convert is None:
                out[key] = field._serialize(value, attr, obj)
            else:
                out[key] = None if value is None else convert(value, attr, obj)
        return out

    return write


_PLAIN: dict[type, Callable[[Any], Any]] = {
    fields.String: str,
    fields.Integer: int,
    fields.Float: float,
}


def _converter(field: fields.Field) -> Callable[[Any, str, Any], Any] | None:
    """A direct step for a field whose None is written as None, or None: let the field write it."""
    kind = type(field)
    if kind in _PLAIN and not getattr(field, "as_string", False):
        plain = _PLAIN[kind]
        if kind is fields.String:
            return lambda v, a, o: v.decode("utf-8") if isinstance(v, bytes) else str(v)
        return lambda v, a, o: plain(v)
    if kind is fields.Boolean or kind is fields.Raw:  # written as they are
        return lambda v, a, o: v
    if isinstance(field, fields.DateTime) and kind in (DateTime, fields.DateTime):  # its format function, once
        as_text = field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
        if as_text is not None:
            if kind is DateTime:  # ours: a string passes through
                return lambda v, a, o: v if isinstance(v, str) else as_text(v)
            return lambda v, a, o: as_text(v)
    if (
        isinstance(field, fields.Nested)
        and kind is fields.Nested
        and isinstance(field.nested, type)
        and not field.only
        and not field.exclude
    ):
        sub, many = _writer(field.nested), field.many or field.schema.many
        return (lambda v, a, o: [sub(x) for x in v]) if many else (lambda v, a, o: sub(v))
    if isinstance(field, fields.List) and kind is fields.List:
        inner = _converter(field.inner)
        if inner is not None:
            return lambda v, a, o: [None if x is None else inner(x, a, o) for x in v]
    return None


def load_json(schema: Schema) -> dict:
    """Validate the request's JSON body with `schema`; bad input is a 422 `invalid`."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise Invalid(str(_l("Send a JSON object.")))
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise Invalid(str(_l("Some fields are invalid.")), fields=exc.normalized_messages()) from None


def load_optional_json(schema: Schema) -> dict:
    """Like `load_json`, for endpoints whose body may be left out (no body: the schema's defaults)."""
    if not request.get_data(cache=True):
        return schema.load({})
    return load_json(schema)


def load_args(schema: Schema) -> dict:
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise Invalid(str(_l("Some parameters are invalid.")), fields=exc.normalized_messages()) from None


def load_form(schema: Schema) -> dict:
    """Validate the text fields of a multipart/form request with `schema` (files are read by the view)."""
    try:
        return schema.load(request.form.to_dict())
    except ValidationError as exc:
        raise Invalid(str(_l("Some fields are invalid.")), fields=exc.normalized_messages()) from None


def _components() -> dict[str, type[Schema]]:
    from app.analytics.schemas import COMPONENTS as analytics_components
    from app.auth.schemas import TokenRequestSchema, TokenResponseSchema
    from app.evidence.serializers import COMPONENTS as evidence_components
    from app.merchants.api import COMPONENTS as merchant_components
    from app.notifications.api import COMPONENTS as notification_components
    from app.payouts.api import COMPONENTS as payout_components
    from app.tickets.schemas import COMPONENTS as ticket_components

    return {
        "Error": ErrorSchema,
        "TokenRequest": TokenRequestSchema,
        "TokenResponse": TokenResponseSchema,
        **evidence_components,  # before the ticket schemas that nest them
        **ticket_components,
        **payout_components,
        **analytics_components,
        **notification_components,
        **merchant_components,
    }


def build_spec() -> dict:
    """OpenAPI 3 document: the API views' docstrings and the marshmallow schemas they load and dump."""
    spec = APISpec(
        title="Refundesk API", version="1.0.0", openapi_version="3.0.3", plugins=[FlaskPlugin(), MarshmallowPlugin()]
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, schema in _components().items():
        spec.components.schema(name, schema=schema)
    for rule in current_app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "tickets_api.openapi":
            view = current_app.view_functions[rule.endpoint]
            if view.__doc__ and "---" in view.__doc__:
                spec.path(view=view, app=current_app)
    doc = spec.to_dict()
    doc["security"] = [{"bearer": []}]
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    unauthorized = {"description": "missing, unknown or expired token", "content": error}
    for operations in doc.get("paths", {}).values():
        for op in operations.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            if op.get("security") != []:  # every token-protected operation
                op["responses"].setdefault("401", unauthorized)
            if op.get("requestBody"):
                op["requestBody"].setdefault("required", True)  # say `required: false` where it may be left out
                op["responses"].setdefault("422", {"description": "bad fields", "content": error})
            for param in op.get("parameters", []):
                if param.get("in") == "query":  # a query parameter is left out, never null
                    schema = param["schema"]
                    schema.pop("nullable", None)
                    if schema.get("default", 0) is None:
                        del schema["default"]
                    if "enum" in schema:
                        schema["enum"] = [v for v in schema["enum"] if v is not None]
    _nullable_refs(doc)
    return doc


def _nullable_refs(node: Any) -> None:
    """apispec writes a nullable nested schema as `anyOf: [$ref, {type: object, nullable: true}]`,
    which lets ANY object through. Say what is meant: that schema, or null."""
    if isinstance(node, dict):
        alts = node.get("anyOf")
        if isinstance(alts, list) and len(alts) == 2 and alts[1] == {"type": "object", "nullable": True}:
            del node["anyOf"]
            node["allOf"], node["nullable"] = [alts[0]], True
        for value in node.values():
            _nullable_refs(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_refs(value)
