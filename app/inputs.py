"""The input layer: one set of rules for every form field, schema field and URL parameter.

Whatever a client sends, it is refused with a 4xx before any view, service or database sees it when:
- a text value holds a NUL byte (PostgreSQL cannot store one; nothing legitimate sends one);
- an integer is outside what an INTEGER column holds (-2**31 .. 2**31-1) — ids, versions, cents;
- a decimal amount is not finite or has more than MAX_DECIMAL_DIGITS digits (so no arithmetic
  later raises decimal.InvalidOperation);
- text arrives where a file belongs;
- a date or time lies outside DATE_WINDOW (years 1970..2100: nothing the desk handles is older
  or further away, and time-zone arithmetic near year 1 or 9999 overflows).

Where the rules apply:
- every Flask-WTF form, through `InputForm` (its Meta binds the checks to every field, first);
- every API schema, through `InputSchema` (app.api_support.ApiSchema derives from it): a
  `pre_load` walks the raw payload (NUL anywhere, at any depth) and a `validates_schema` checks
  the loaded integers, decimals and dates;
- path parameters, through the URL converters `install_converters` puts in place of Flask's
  `int` and `string` ones: out of range or holding control characters → 404;
- query-string dates read outside a form go through `parse_day`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import Schema, ValidationError, pre_load, validates_schema
from werkzeug.routing import BaseConverter, IntegerConverter
from wtforms import DateField, DateTimeField, DecimalField, Field, FileField, IntegerField
from wtforms.validators import StopValidation

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
MAX_DECIMAL_DIGITS = 15
DATE_WINDOW = (date(1970, 1, 1), date(2100, 12, 31))


def has_nul(value: Any) -> bool:
    """A NUL byte anywhere in a string, or in any string inside lists / dicts (keys too)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_nul(v) for v in value)
    return False


def int_in_range(value: int) -> bool:
    return INT_MIN <= value <= INT_MAX


def decimal_ok(value: Decimal) -> bool:
    try:
        return value.is_finite() and len(value.as_tuple().digits) <= MAX_DECIMAL_DIGITS and abs(value) < 10**12
    except (InvalidOperation, ValueError):
        return False


def day_in_window(value: date | datetime) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return DATE_WINDOW[0] <= day <= DATE_WINDOW[1]


def _messages() -> dict[str, Any]:
    return {
        "nul": _l("This text holds an invalid character (NUL)."),
        "int": _l("This number is out of range."),
        "decimal": _l("This amount is out of range."),
        "date": _l("Choose a date between %(start)s and %(end)s.", start=DATE_WINDOW[0], end=DATE_WINDOW[1]),
    }


# --- forms -------------------------------------------------------------------------------


def check_field(form: Any, field: Field) -> None:
    """The input layer's checks of one form field: first in its validator chain, stops it."""
    msg = _messages()
    if any(isinstance(raw, str) and "\x00" in raw for raw in (field.raw_data or [])):
        field.data = None
        raise StopValidation(str(msg["nul"]))
    data = field.data
    if isinstance(field, FileField) and data is not None and not hasattr(data, "stream"):
        field.data = None  # text sent where a file belongs
        raise StopValidation(str(_l("Choose a file to upload.")))
    if isinstance(field, IntegerField) and isinstance(data, int) and not int_in_range(data):
        raise StopValidation(str(msg["int"]))
    if isinstance(field, DecimalField) and isinstance(data, Decimal) and not decimal_ok(data):
        raise StopValidation(str(msg["decimal"]))
    if isinstance(field, (DateField, DateTimeField)) and isinstance(data, (date, datetime)) and not day_in_window(data):
        raise StopValidation(str(msg["date"]))
    for value in data if isinstance(data, list) else []:  # SelectMultipleField, coerce=int
        if isinstance(value, int) and not int_in_range(value):
            raise StopValidation(str(msg["int"]))
    if not isinstance(field, (IntegerField, DecimalField)) and isinstance(data, int) and not int_in_range(data):
        raise StopValidation(str(msg["int"]))  # a SelectField coercing to int


class InputForm(FlaskForm):
    """Base of every form: the input layer's checks run first on every field (see module docstring)."""

    class Meta(FlaskForm.Meta):
        def bind_field(self, form: Any, unbound_field: Any, options: dict) -> Field:
            field = super().bind_field(form, unbound_field, options)
            field.validators = [check_field, *field.validators]
            return field

        def get_translations(self, form: Any) -> Any:
            """WTForms' own messages in the request's language, each catalog read once per process
            (Flask-WTF reads the .mo file again on every request)."""
            from app.i18n import current_locale

            return _wtforms_translations(str(current_locale()))


@functools.cache
def _wtforms_translations(locale: str) -> Any:
    from babel import support
    from wtforms.i18n import messages_path

    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def all_form_classes() -> list[type[InputForm]]:
    """Every form class of the app (subclasses of InputForm, at any depth)."""
    found: list[type[InputForm]] = []
    todo = list(InputForm.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


# --- API schemas --------------------------------------------------------------------------


class InputSchema(Schema):
    """Base of every API schema: NUL refused anywhere in the payload, loaded numbers and dates in range."""

    @pre_load(pass_collection=True)
    def _refuse_nul(self, data: Any, **kwargs: Any) -> Any:
        if has_nul(data):
            raise ValidationError(str(_messages()["nul"]), field_name=_first_nul_key(data))
        return data

    @validates_schema(pass_collection=False)
    def _in_range(self, data: Any, **kwargs: Any) -> None:
        msg, errors = _messages(), {}
        for key, value in data.items() if isinstance(data, dict) else []:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, bool):
                    continue
                if isinstance(item, int) and not int_in_range(item):
                    errors[key] = [str(msg["int"])]
                elif (
                    isinstance(item, Decimal)
                    and not decimal_ok(item)
                    or isinstance(item, float)
                    and not (abs(item) < 10**12)
                ):
                    errors[key] = [str(msg["decimal"])]
                elif isinstance(item, (date, datetime)) and not day_in_window(item):
                    errors[key] = [str(msg["date"])]
        if errors:
            raise ValidationError(errors)


def _first_nul_key(data: Any) -> str:
    if isinstance(data, dict):
        for k, v in data.items():
            if has_nul(k) or has_nul(v):
                return str(k) if not has_nul(k) else "_schema"
    return "_schema"


def all_schema_classes() -> Iterator[type[Schema]]:
    todo = list(InputSchema.__subclasses__())
    seen: set[type] = set()
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.add(cls)
            todo += cls.__subclasses__()
            yield cls


# --- query-string dates and URL converters -------------------------------------------------


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD query parameter inside DATE_WINDOW; ValueError otherwise (the caller answers 4xx)."""
    if not value:
        return None
    if has_nul(value) or len(value) > 10:
        raise ValueError("not a date")
    day = date.fromisoformat(value)
    if not day_in_window(day):
        raise ValueError("outside the date window")
    return day


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` limited to the INTEGER column range: a larger id is a 404, never a database error."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = None) -> None:
        super().__init__(
            map, fixed_digits=fixed_digits, min=INT_MIN if min is None else min, max=INT_MAX if max is None else max
        )


class PlainStringConverter(BaseConverter):
    """The default `<name>` segment, without control characters (NUL...) and at most 200 characters."""

    regex = r"[^/\x00-\x1f\x7f]{1,200}"


def install_converters(app: Flask) -> None:
    """Call before any blueprint is registered (rules are compiled with the converters of the time)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_map.converters["default"] = PlainStringConverter
    app.url_map.converters["string"] = PlainStringConverter
