"""Responses are written by a fast path compiled from the schemas (app/api_support.py `_writer`):
every documented GET answer must be byte-for-byte what marshmallow itself writes."""

from __future__ import annotations

import pytest

from app import api_support
from tests.api.test_conformance import _known_requests, world  # noqa: F401  (the fixture)


def _url(path: str, fields: dict) -> tuple[str, dict]:
    return path.format(**fields.get("path_parameters", {})), fields.get("query", {})


def test_every_get_answer_is_what_marshmallow_writes(app, client, world, monkeypatch):  # noqa: F811
    gets = [(p, role, f) for method, p, role, f, status in _known_requests(world) if method == "GET" and status == 200]
    assert len(gets) > 20
    fast = []
    for path, role, fields in gets:
        url, query = _url(path, fields)
        fast.append(client.get(url, query_string=query, headers=world["headers"][role]))
    monkeypatch.setattr(api_support, "_writer", lambda schema: schema().dump)
    for (path, role, fields), got in zip(gets, fast, strict=True):
        url, query = _url(path, fields)
        want = client.get(url, query_string=query, headers=world["headers"][role])
        assert got.status_code == want.status_code == 200, (url, role)
        assert got.json == want.json, (url, role)
        assert got.data == want.data, (url, role)  # the same keys in the same order


@pytest.mark.parametrize("value", [None, 0, 7, "x", b"y"])
def test_plain_fields_write_what_marshmallow_writes(value):
    from marshmallow import fields

    class Shape(api_support.ResponseSchema):
        s = fields.String(allow_none=True)
        b = fields.Boolean(allow_none=True)
        i = fields.Integer(allow_none=True)
        names = fields.List(fields.String(allow_none=True))

    obj = {"s": value, "b": value, "i": value if not isinstance(value, (str, bytes)) else 1, "names": [value]}
    assert api_support.dump(Shape, obj) == Shape().dump(obj)
    assert api_support.dump(Shape, {}) == Shape().dump({})  # missing keys are left out by both


@pytest.mark.parametrize(
    "value", [None, "2026-12-01T08:00:00+00:00", "already text", "aware", "naive", "shanghai"], ids=str
)
def test_time_fields_write_what_marshmallow_writes(value):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from marshmallow import fields

    times = {
        "aware": datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=UTC),
        "naive": datetime(2026, 12, 1, 8, 30),
        "shanghai": datetime(2026, 12, 1, 16, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
    }
    value = times.get(value, value)

    class Shape(api_support.ResponseSchema):
        ours = api_support.DateTime(allow_none=True)
        plain = fields.DateTime(allow_none=True)
        year = fields.DateTime(format="%Y", allow_none=True)  # no format function: the field writes it
        stamp = fields.DateTime(format="timestamp", allow_none=True)

    obj = {"ours": value}
    if not isinstance(value, str):
        obj.update(plain=value, year=value, stamp=value if value is None or value.tzinfo else None)
    assert api_support.dump(Shape, obj) == Shape().dump(obj)
