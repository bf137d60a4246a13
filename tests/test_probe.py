"""The probe (issue 10, point 5): hostile values sent to every field of every form and API schema,
on every route of the app, as every role — generated, not a hand-kept list — and no answer may be 5xx.

What is generated from the code:
- the routes: `app.url_map` (every rule and method; path parameters filled with real ids/refs and
  with out-of-range ints and NUL);
- the field names: every form class (subclasses of app.inputs.InputForm) and every API schema
  (subclasses of app.inputs.InputSchema), as form data, query strings and JSON bodies;
- which forms/schemas an endpoint really reads: recorded while probing (pass 1), then each of
  their fields is probed alone (pass 2), so one bad field cannot hide another behind its 4xx.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from itsdangerous import URLSafeTimedSerializer
from wtforms.fields.core import UnboundField

from app import inputs
from app.extensions import db as _db
from tests.factories import make_order, make_ticket, staff

TEXT_VALUES = [
    "\x00",
    "a\x00b",
    "99999999999999999999",
    "-99999999999999999999",
    "1" * 30,
    "1e400",
    "NaN",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "not-a-date",
]
JSON_VALUES = [
    "\x00",
    10**20,
    -(10**20),
    1e308,
    "1" * 30,
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59Z",
    ["\x00"],
    [10**20],
    {"\x00": "\x00"},
]
BAD_INTS = ["2147483648", "99999999999999999999", "-1"]
PASS1_TEXT = ["a\x00b", "99999999999999999999", "1" * 30, "0001-01-01T00:00"]
ROLES = ("customer", "agent", "manager", "finance", "admin", "platform")


def form_fields() -> dict[type, list[str]]:
    out = {}
    for cls in inputs.all_form_classes():
        names = {
            name for klass in cls.__mro__ for name, value in vars(klass).items() if isinstance(value, UnboundField)
        }
        out[cls] = sorted(names)
    return out


def schema_fields() -> dict[type, list[str]]:
    return {
        cls: sorted((f.data_key or name) for name, f in cls._declared_fields.items() if not f.dump_only)
        for cls in inputs.all_schema_classes()
    }


class Prober:
    def __init__(self, app):
        self.app, self.failures, self.requests = app, [], 0
        self.csrf = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps("probe-csrf")
        self.used_forms: dict[str, set[type]] = defaultdict(set)
        self.used_schemas: dict[str, set[type]] = defaultdict(set)

    def client(self, user, token=None):
        from flask import g

        g.__dict__.clear()  # the app fixture's context is shared by every request
        c = self.app.test_client()
        with c.session_transaction() as sess:
            sess["csrf_token"] = "probe-csrf"
            if user is not None:
                sess["_user_id"] = user.get_id()
        return c

    def send(self, user, token, method, path, **kw):
        from flask import g

        c = self.client(user)
        g.__dict__.clear()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        resp = c.open(path, method=method, headers=headers, **kw)
        self.requests += 1
        if resp.status_code >= 500:
            body = kw.get("json", kw.get("data", kw.get("query_string")))
            self.failures.append(
                f"{resp.status_code} {method} {path} as {user.role if user else 'anonymous'}: {body!r:.300}"
            )
        _db.session.rollback()
        return resp


def _paths(rule, real: dict[str, str]) -> list[str]:
    """The rule's path with real parameter values, then with each parameter made hostile in turn."""
    args = list(rule.arguments)
    base = {a: real.get(a, "1") for a in args}
    out = [_build(rule, base)]
    for a in args:
        is_int = type(rule._converters[a]).__name__.lower().find("int") >= 0
        for bad in BAD_INTS if is_int else ["%00", "a%00b", "x" * 300]:
            out.append(_build(rule, {**base, a: bad}))
    return out


def _build(rule, values: dict[str, str]) -> str:
    path = rule.rule
    for name, value in values.items():
        path = path.replace(f"<{name}>", value)
        for conv in ("int", "string", "path"):
            path = path.replace(f"<{conv}:{name}>", value)
    return path


def test_no_5xx_for_any_field_of_any_form_or_schema_on_any_route(app, monkeypatch):
    ticket = make_ticket("review")
    finance_ticket = make_ticket("finance", order=make_order(ticket.customer))
    users = {role: (ticket.customer if role == "customer" else staff(role)) for role in ROLES}
    tokens = {}
    for role, user in users.items():
        resp = app.test_client().post("/api/v1/auth/tokens", json={"email": user.email, "password": "password123"})
        tokens[role] = resp.json["token"]
    from app.evidence.models import Evidence

    ev = _db.session.query(Evidence).first()
    real = {
        "ref": ticket.ref,
        "token": ticket.tracker_token,
        "order_no": ticket.order.order_no,
        "evidence_id": str(ev.id if ev else 1),
        "incident_id": "1",
        "payout_id": "1",
        "filename": "x.css",
    }
    prober = Prober(app)

    real_init = inputs.InputForm.__init__
    real_load = inputs.InputSchema.load

    def recording_init(self, *args, **kwargs):
        from flask import has_request_context, request

        if has_request_context():
            prober.used_forms[request.endpoint or ""].add(type(self))
        real_init(self, *args, **kwargs)

    def recording_load(self, *args, **kwargs):
        from flask import has_request_context, request

        if has_request_context():
            prober.used_schemas[request.endpoint or ""].add(type(self))
        return real_load(self, *args, **kwargs)

    monkeypatch.setattr(inputs.InputForm, "__init__", recording_init)
    monkeypatch.setattr(inputs.InputSchema, "load", recording_load)

    forms, schemas = form_fields(), schema_fields()
    all_form_names = sorted(set(itertools.chain(*forms.values())) - {"csrf_token"})
    all_json_names = sorted(set(itertools.chain(*schemas.values())))
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]

    # Pass 1: every route and method, every role; every known field name hostile at once.
    # Hostile path parameters: once per rule and method, as admin (and the customer for their own routes).
    reached: dict[str, set[str]] = defaultdict(set)  # endpoint -> roles that got past access checks
    for rule in rules:
        api = rule.rule.startswith("/api/")
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        real_path, *bad_paths = _paths(rule, real)
        for path, method, role in itertools.product(bad_paths, methods, ("customer", "admin")):
            user, token = (None, tokens[role]) if api else (users[role], None)
            prober.send(user, token, method, path)
        for method, role in itertools.product(methods, ROLES):
            user, token = (None, tokens[role]) if api else (users[role], None)
            if api:
                for v in JSON_VALUES[:3]:
                    if method == "GET":
                        resp = prober.send(
                            user, token, method, real_path, query_string={n: str(v) for n in all_json_names}
                        )
                    else:
                        resp = prober.send(user, token, method, real_path, json=dict.fromkeys(all_json_names, v))
                        prober.send(user, token, method, real_path, data={n: str(v) for n in all_json_names})
            else:
                for v in PASS1_TEXT:
                    fields = dict.fromkeys(all_form_names, v)
                    if method == "GET":
                        resp = prober.send(user, token, method, real_path, query_string=fields)
                    else:
                        resp = prober.send(user, token, method, real_path, data={**fields, "csrf_token": prober.csrf})
            if resp.status_code not in (401, 403, 404, 405):
                reached[rule.endpoint].add(role)
    # Pass 2: each field of the forms / schemas an endpoint read, alone, as the roles that reached it.
    by_endpoint = {r.endpoint: r for r in rules}
    for kind, used_map, fields_of in (("form", prober.used_forms, forms), ("schema", prober.used_schemas, schemas)):
        for endpoint, used in sorted(used_map.items()):
            rule = by_endpoint.get(endpoint)
            if rule is None:
                continue
            path = _paths(rule, real)[0]
            roles = sorted(reached[endpoint])[:1] or ["admin"]  # one role that gets past the access checks
            for cls, method, role in itertools.product(used, sorted(rule.methods - {"HEAD", "OPTIONS"}), roles):
                values = TEXT_VALUES if kind == "form" else JSON_VALUES
                for name, v in itertools.product(fields_of.get(cls, []), values):
                    if name == "csrf_token":
                        continue
                    if kind == "form":
                        user, token = users[role], None
                        if method == "GET":
                            prober.send(user, token, method, path, query_string={name: v})
                        else:
                            prober.send(user, token, method, path, data={name: v, "csrf_token": prober.csrf})
                    elif method == "GET":
                        prober.send(None, tokens[role], method, path, query_string={name: str(v)})
                    elif rule.endpoint == "evidence_api.upload":
                        prober.send(None, tokens[role], method, path, data={name: str(v)})
                    else:
                        prober.send(None, tokens[role], method, path, json={name: v})
    print(f"probe: {prober.requests} requests")
    assert finance_ticket.id and prober.requests > 1000
    assert len(prober.used_forms) >= 8 and len(prober.used_schemas) >= 4, (prober.used_forms, prober.used_schemas)
    assert prober.failures == [], "\n".join(prober.failures[:40])
