"""Locale/timezone selection and the template helpers for money and times."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_datetime
from flask_login import current_user

SUPPORTED = {"zh": "zh_Hans_CN", "zh_Hans_CN": "zh_Hans_CN", "en": "en"}


def select_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = request.args.get("lang")
    if lang in SUPPORTED:
        session["lang"] = SUPPORTED[lang]
    if session.get("lang"):
        return session["lang"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["TZ_DISPLAY"]


def money(cents: int | None) -> str:
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}¥{cents // 100:,}.{cents % 100:02d}"


def local_time(dt: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A UTC datetime shown in TZ_DISPLAY (Asia/Shanghai by default)."""
    if dt is None:
        return ""
    return format_datetime(dt, fmt)


def to_display_tz(dt: datetime) -> datetime:
    return dt.astimezone(ZoneInfo(current_app.config["TZ_DISPLAY"]))


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["local_time"] = local_time
    from app.tickets.labels import CHANNEL_LABELS, KIND_LABELS, PRODUCT_TYPE_LABELS
    from app.workflow.labels import event_label, state_label

    @app.context_processor
    def labels():
        from flask_babel import get_locale
        return {"get_locale": get_locale, "state_label": state_label, "event_label": event_label, "KIND_LABELS": KIND_LABELS,
                "PRODUCT_TYPE_LABELS": PRODUCT_TYPE_LABELS, "CHANNEL_LABELS": CHANNEL_LABELS}
