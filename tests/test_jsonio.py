"""API answers are encoded by orjson with Flask's rules: the same JSON a client got before."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from flask.json.provider import DefaultJSONProvider
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l


def test_the_fast_encoder_writes_what_flask_would(app):
    obj = {
        "b": [datetime(2026, 1, 1, 8, 30, tzinfo=UTC), date(2026, 1, 2), Decimal("1.50"), uuid.UUID(int=5)],
        "a": {"中文": "退款", "n": None, "big": 2**53},
    }
    assert app.json.dumps(obj) == json.dumps(
        json.loads(DefaultJSONProvider(app).dumps(obj)), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert json.loads(app.json.dumps({"huge": 2**70})) == {"huge": 2**70}  # beyond orjson: the stdlib writes it
    with app.test_request_context(), force_locale("en"):
        resp = app.json.response({"label": _l("Refund paid")})
        assert resp.mimetype == "application/json" and json.loads(resp.get_data()) == {"label": "Refund paid"}


def test_api_lists_come_back_as_json(client, api):
    from tests.factories import make_ticket, staff

    make_ticket()
    resp = client.get("/api/v1/tickets", headers=api.headers(staff("agent")))
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.get_json()["items"] and resp.data.decode().startswith('{"')
