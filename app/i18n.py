"""Locale/timezone selection and the template helpers for money and times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request, session, url_for
from flask_babel import format_datetime
from flask_login import current_user

from app.auth.permissions import can

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


def remember_locale() -> None:
    """?lang=en / ?lang=zh: kept in the session (select_locale) and on a logged-in user's account."""
    from flask_babel import refresh

    refresh()  # choose the language per request, even where one app context spans several
    lang = request.args.get("lang")
    if lang in SUPPORTED and can(current_user, "web_pages"):
        from app.auth.services import set_locale

        set_locale(current_user, SUPPORTED[lang])


def lang_url(lang: str) -> str:
    """This page in another language (GET pages keep their query; after a POST, the home page)."""
    if request.method == "GET" and request.endpoint:
        args = request.args.to_dict()
        args["lang"] = lang
        return url_for(request.endpoint, **(request.view_args or {}), **args)
    return url_for("tickets.home", lang=lang)


def http_message(status: int, message: str | None) -> str:
    """The message of an error page: werkzeug's built-in English descriptions become translated ones."""
    from flask_babel import gettext as _
    from werkzeug.exceptions import default_exceptions

    generic = {
        400: _("The request could not be used. Go back and try again."),
        401: _("Please log in first."),
        403: _("Your account has no access to this page."),
        404: _("There is nothing at this address, or it is not yours to see."),
        405: _("This page cannot be used like that."),
        413: _("The upload is too large."),
        429: _("Too many attempts. Wait a minute and try again."),
    }
    exc = default_exceptions.get(status)
    if not message or (exc is not None and message == exc.description):
        return generic.get(status, _("Something went wrong on our side. Please try again."))
    return message


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals["http_message"] = http_message
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals["lang_url"] = lang_url
    app.before_request(remember_locale)
    from app.tickets.labels import CHANNEL_LABELS, KIND_HINTS, KIND_LABELS, PRODUCT_TYPE_LABELS
    from app.workflow.labels import event_label, state_label

    @app.context_processor
    def labels():
        from flask_babel import get_locale

        return {
            "get_locale": get_locale,
            "state_label": state_label,
            "event_label": event_label,
            "KIND_LABELS": KIND_LABELS,
            "KIND_HINTS": KIND_HINTS,
            "PRODUCT_TYPE_LABELS": PRODUCT_TYPE_LABELS,
            "CHANNEL_LABELS": CHANNEL_LABELS,
        }
