"""Every documented API operation, for every role, answers what /api/v1/openapi.json says.

schemathesis generates requests from the document (valid ones and, separately, invalid ones),
sends them to the WSGI app with each role's token, and checks each response: no 5xx, a
documented status code and content type, a body matching the documented schema, valid
requests not refused with 422 and invalid ones not accepted. Path `ref`s and `order_no`s are
drawn from real rows (the role's own and someone else's) as well as generated, so the bodies
of real tickets are checked too. Bounded and derandomized: the same cases every run.
"""

from __future__ import annotations

import io
import re

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.evidence import ocr
from app.evidence.services import requested_items
from app.tickets.services import add_message, create_ticket
from app.workflow.service import apply_event
from tests.evidence.helpers import image_bytes
from tests.factories import make_order, make_ticket, make_user, staff

ORDER = {
    "order_no": "KM-CONFORMANCE-1",
    "merchant_code": "M1",
    "product_type": "card_key",
    "product_name": "Steam ¥100",
    "amount_cents": 10000,
    "payment_channel": "alipay",
    "paid_at": "2026-11-26T10:00:00+08:00",
}
ROLES = ("platform", "customer", "agent", "manager", "finance")
EXAMPLES = 6  # per operation, role and mode
RESPONSE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MODE_CHECKS = {GenerationMode.POSITIVE: positive_data_acceptance, GenerationMode.NEGATIVE: negative_data_rejection}


def _world(client, api) -> dict:
    """Tickets in many states (one fast-tracked, one with a staff note, file and reasons) for one customer."""
    customer = make_user("customer")
    tickets = [make_ticket(state, customer=customer) for state in ("submitted", "evidence", "finance", "paid")]
    rejected = make_ticket("review", customer=customer)
    apply_event(rejected, "reject", staff("agent"), reason="not covered")
    add_message(rejected, staff("agent"), "internal note", internal=True)
    membership = make_order(customer, product_type="membership", membership_term_days=30)
    fast = create_ticket(membership.order_no, "membership_refund", "never activated", customer)
    other = make_ticket("review")  # another customer's
    for t, user in ((tickets[0], customer), (rejected, staff("agent"))):
        resp = client.post(
            f"/api/v1/tickets/{t.ref}/evidence",
            data={"file": (io.BytesIO(image_bytes("PNG")), "shot.png", "image/png")},
            headers=api.headers(user),
            content_type="multipart/form-data",
        )
        assert resp.status_code == 201, resp.json
    users = {role: customer if role == "customer" else staff(role) for role in ROLES}
    headers = {role: api.headers(user) for role, user in users.items()}
    cursor = client.get("/api/v1/tickets?limit=1", headers=headers["agent"]).json["next_cursor"]
    by_state = {t.state: t for t in tickets}
    return {
        "users": users,
        "tickets": {**by_state, "rejected": rejected, "fast": fast, "other": other},
        "to_pay": make_ticket("finance", customer=customer),
        "item": requested_items(by_state["evidence"])[0].code,
        "headers": headers,
        "cursor": cursor,
        "refs": [t.ref for t in (*tickets, rejected, fast, other)] + ["RD000000-NOPE00"],
        "order_nos": [t.order.order_no for t in (*tickets, other)],
        "fast_tracked": fast,
    }


@pytest.fixture
def world(app, client, api, monkeypatch):
    monkeypatch.setattr(ocr, "ocr_available", lambda: False)  # uploads are checked, not read (slow)
    app.config["RATELIMIT_ENABLED"] = False
    return _world(client, api)


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_document_lists_every_api_route(app):
    documented = {(op.method.upper(), op.path) for op in _operations(app)}
    routes = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "tickets_api.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == documented


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_every_operation_conforms_for_every_role(app, world, mode):
    failures: list[str] = []
    for op in _operations(app):
        for role in ROLES:
            failures += _run(op, world, role, mode)
    assert not failures, "\n\n".join(failures[:10])


def _run(op, world, role: str, mode: GenerationMode) -> list[str]:
    failures: list[str] = []
    checks = list(RESPONSE_CHECKS)
    if not _multipart(op):
        # The upload is held to the response checks only: its form fields are strings on the wire
        # (a "type" mutation is still a valid string), and whether a file is accepted depends on
        # its bytes and on the ticket's requested items, which no schema can say (422 documented).
        checks.append(MODE_CHECKS[mode])

    @given(case=op.as_strategy(generation_mode=mode), ref=st.sampled_from(world["refs"]), data=st.data())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case, ref, data):
        if case.path_parameters and "ref" in case.path_parameters and data.draw(st.booleans()):
            case.path_parameters["ref"] = ref
        if mode is GenerationMode.POSITIVE and case.query and "cursor" in case.query:
            case.query["cursor"] = world["cursor"]  # opaque: only cursors the API handed out are valid
        # Real order numbers only in positive mode: a negative case whose one invalid part is the
        # order number would become valid (schemathesis would then report it as "accepted").
        positive = mode is GenerationMode.POSITIVE
        if (
            positive
            and isinstance(case.body, dict)
            and isinstance(case.body.get("order_no"), str)
            and data.draw(st.booleans())
        ):
            case.body["order_no"] = data.draw(st.sampled_from(world["order_nos"]))
        headers = world["headers"][role]
        if mode is GenerationMode.NEGATIVE and "Authorization" not in (case.headers or {}):
            headers = {}  # the negation dropped the token: adding the role's would make the request valid
        resp = case.call(headers=headers)
        try:
            case.validate_response(resp, checks=RESPONSE_CHECKS if _ticket_rule(op, resp) else checks, headers=headers)
        except FailureGroup as exc:
            failures.append(f"[{role} {mode.value}] {exc}")

    run()
    return failures


def _known_requests(world) -> list[tuple[str, str, str, dict, int]]:
    """(method, path, role, case fields, expected status): each documented success answer, reached for sure."""
    t = world["tickets"]
    png = image_bytes("PNG")
    order = {**ORDER, "customer_email": world["users"]["customer"].email}
    customer_order = t["submitted"].order.order_no
    return [
        ("POST", "/api/v1/orders", "platform", {"body": order}, 201),
        ("POST", "/api/v1/tickets", "customer", {"body": {"order_no": customer_order, "kind": "other"}}, 201),
        # one open request per order and kind: the platform files another kind
        ("POST", "/api/v1/tickets", "platform", {"body": {"order_no": customer_order, "kind": "invalid_card"}}, 201),
        ("POST", "/api/v1/tickets", "platform", {"body": {"order_no": customer_order, "kind": "other"}}, 409),
        ("POST", "/api/v1/tickets/{ref}/urge", "customer", {"path_parameters": {"ref": t["submitted"].ref}}, 409),
        ("POST", "/api/v1/tickets/{ref}/urge", "agent", {"path_parameters": {"ref": t["submitted"].ref}}, 403),
        ("GET", "/api/v1/tickets", "agent", {"query": {"limit": 2}}, 200),
        ("GET", "/api/v1/tickets", "manager", {"query": {"cursor": world["cursor"], "state": "paid"}}, 200),
        *[
            ("GET", "/api/v1/tickets/{ref}", role, {"path_parameters": {"ref": x.ref}}, 200)
            for role in ROLES
            for x in t.values()
            if role != "customer" or x is not t["other"]
        ],
        ("GET", "/api/v1/tickets/{ref}", "customer", {"path_parameters": {"ref": t["other"].ref}}, 404),
        *[
            ("GET", "/api/v1/tickets/{ref}/evidence", role, {"path_parameters": {"ref": t["rejected"].ref}}, 200)
            for role in ROLES
        ],
        (
            "POST",
            "/api/v1/tickets/{ref}/evidence",
            "customer",
            {
                "path_parameters": {"ref": t["evidence"].ref},
                "body": {"item": world["item"], "answer": "lost it"},
                "media_type": "multipart/form-data",
            },
            200,
        ),
        (
            "POST",
            "/api/v1/tickets/{ref}/evidence",
            "customer",
            {
                "path_parameters": {"ref": t["submitted"].ref},
                "body": {"file": png},
                "media_type": "multipart/form-data",
            },
            201,
        ),
        (
            "POST",
            "/api/v1/tickets/{ref}/evidence",
            "agent",
            {
                "path_parameters": {"ref": t["finance"].ref},
                "body": {"file": png, "answer": "merchant log"},
                "media_type": "multipart/form-data",
            },
            201,
        ),
        (
            "POST",
            "/api/v1/tickets/{ref}/events",
            "customer",
            {"path_parameters": {"ref": t["submitted"].ref}, "body": {"event": "approve"}},
            403,
        ),
        (
            "POST",
            "/api/v1/tickets/{ref}/events",
            "agent",
            {"path_parameters": {"ref": t["paid"].ref}, "body": {"event": "reject", "reason": "x"}},
            409,
        ),
        (
            "POST",
            "/api/v1/tickets/{ref}/events",
            "agent",
            {"path_parameters": {"ref": t["submitted"].ref}, "body": {"event": "start_review", "version": 0}},
            409,
        ),
        (
            "POST",
            "/api/v1/tickets/{ref}/events",
            "agent",
            {"path_parameters": {"ref": t["submitted"].ref}, "body": {"event": "start_review", "reason": "ok"}},
            200,
        ),
        ("GET", "/api/v1/tickets/{ref}/payout", "manager", {"path_parameters": {"ref": t["finance"].ref}}, 404),
        ("POST", "/api/v1/tickets/{ref}/payout", "finance", {"path_parameters": {"ref": t["finance"].ref}}, 202),
        (
            "POST",
            "/api/v1/tickets/{ref}/payout",
            "finance",
            {"path_parameters": {"ref": world["to_pay"].ref}, "body": {"channel": "balance"}},
            202,
        ),
        ("GET", "/api/v1/tickets/{ref}/payout", "finance", {"path_parameters": {"ref": t["paid"].ref}}, 200),
        (
            "POST",
            "/api/v1/tickets/{ref}/events",
            "customer",
            {"path_parameters": {"ref": t["evidence"].ref}, "body": {"event": "provide_evidence"}},
            200,
        ),
        ("GET", "/api/v1/analytics/summary", "manager", {}, 200),
        ("GET", "/api/v1/analytics/breakdown/{dim}", "manager", {"path_parameters": {"dim": "kind"}}, 200),
        ("GET", "/api/v1/analytics/spikes", "manager", {}, 200),
        ("GET", "/api/v1/analytics/complainants", "manager", {}, 200),
        # merchants (app/merchants/api.py): M1 is the merchant of every factory order
        ("GET", "/api/v1/merchants/{code}", "agent", {"path_parameters": {"code": "M1"}}, 200),
        ("GET", "/api/v1/merchants/{code}", "customer", {"path_parameters": {"code": "M1"}}, 404),
        (
            "POST",
            "/api/v1/merchants/{code}/deposits",
            "finance",
            {"path_parameters": {"code": "M1"}, "body": {"amount_cents": 100_000, "note": "top-up"}},
            201,
        ),
        (
            "POST",
            "/api/v1/merchants/{code}/standing",
            "manager",
            {"path_parameters": {"code": "M1"}, "body": {"action": "suspend", "reason": "no answers"}},
            200,
        ),
        (
            "POST",
            "/api/v1/webhooks",
            "platform",
            {"body": {"url": "http://1.1.1.1/hook", "events": ["merchant_timeout"]}},  # no DNS, never fired here
            201,
        ),
        ("POST", "/api/v1/webhooks", "platform", {"body": {"url": "http://10.0.0.1/hook", "events": ["pay"]}}, 403),
        ("POST", "/api/v1/webhooks/hosts", "platform", {"body": {"host": "127.0.0.1"}}, 403),
        ("GET", "/api/v1/webhooks/{webhook_id}/deliveries", "platform", {"path_parameters": {"webhook_id": 9999}}, 404),
        (
            "POST",
            "/api/v1/webhooks/deliveries/{delivery_id}/replay",
            "platform",
            {"path_parameters": {"delivery_id": "nope"}},
            404,
        ),
    ]


def test_every_documented_answer_conforms(app, world):
    """The fuzzing above rarely reaches deep answers (an item answered, a payout made): these requests do."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    token = schema["/api/v1/auth/tokens"]["POST"].Case(
        body={"email": world["users"]["agent"].email, "password": "password123"}, media_type="application/json"
    )
    assert token.call_and_validate(checks=RESPONSE_CHECKS).status_code == 201
    seen = set()
    for method, path, role, fields, status in _known_requests(world):
        case = schema[path][method].Case(**{"media_type": "application/json", **fields})
        resp = case.call_and_validate(headers=world["headers"][role], checks=RESPONSE_CHECKS)
        assert resp.status_code == status, (method, path, role, resp.text)
        seen.add((method, path))
    assert seen == {(op.method.upper(), op.path) for op in _operations(app)} - {("POST", "/api/v1/auth/tokens")}


# Rules that depend on the ticket or order, not on the body's shape: a schema-valid body may break
# them (422 `invalid` naming the field), as it may meet a 409. Everything else must be accepted.
TICKET_RULES = {
    ("POST", "/api/v1/tickets/{ref}/events"): {"reason", "amount_cents", "items"},  # per event, ≤ balance
    ("POST", "/api/v1/tickets"): {"requested_amount_cents"},  # ≤ the order's refundable balance
}


def _ticket_rule(op, resp) -> bool:
    fields = TICKET_RULES.get((op.method.upper(), op.path))
    if not fields or resp.status_code != 422:
        return False
    named = set((resp.json().get("error") or {}).get("fields") or {})
    return bool(named) and named <= fields


def _multipart(op) -> bool:
    body = op.definition.raw.get("requestBody", {})
    return "multipart/form-data" in body.get("content", {})


def test_405_is_a_json_error_with_allow(client, api, app):
    ticket = make_ticket()
    resp = client.delete(f"/api/v1/tickets/{ticket.ref}", headers=api.headers(staff("agent")))
    assert resp.status_code == 405 and resp.json["error"]["code"] == "not_allowed"
    assert set(resp.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}


def test_windows_and_limits_are_documented_as_validated(client, app):
    doc = client.get("/api/v1/openapi.json").json
    comps = doc["components"]["schemas"]
    limit = {p["name"]: p["schema"] for p in doc["paths"]["/api/v1/tickets"]["get"]["parameters"]}["limit"]
    assert (limit["minimum"], limit["maximum"]) == (1, 200)
    assert comps["EventRequest"]["properties"]["items"]["maxItems"] == 20
    assert comps["OrderCreate"]["additionalProperties"] is False
    paid_at = comps["OrderCreate"]["properties"]["paid_at"]
    assert paid_at["pattern"] == "^20[0-9]{2}-" and "2000-2099" in paid_at["description"]
