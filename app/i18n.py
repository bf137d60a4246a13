"""Locale/timezone selection and the template helpers for money and times."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.support import NullTranslations
from flask import Flask, current_app, has_request_context, request, session, url_for
from flask.globals import _cv_app
from flask_babel import Domain, get_babel, get_domain, get_locale
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


# --- resolved once per request ------------------------------------------------------------------
# Flask-Babel's gettext / format_datetime look up the context, the locale and the catalog again on
# every call (a few dozen µs each, a few hundred calls on a queue page). These helpers resolve them
# once per app/request context and keep them on Flask-Babel's own per-context namespace
# (g._flask_babel), next to the locale they belong to: `refresh()` (every request, see
# remember_locale) and `force_locale()` replace that locale object, which drops the cached catalog.


def translations() -> NullTranslations:
    """The current request's catalog."""
    ctx = _cv_app.get(None)
    if ctx is None:
        return NullTranslations()
    ns = ctx.g.__dict__.get("_flask_babel")
    if ns is not None:
        cached = ns.__dict__.get("rd_translations")
        if cached is not None and cached[0] is ns.__dict__.get("babel_locale"):
            return cached[1]
    catalog = Domain.get_translations(get_domain())  # Flask-Babel's own lookup (also sets the locale)
    ns = ctx.g.__dict__.get("_flask_babel")
    if ns is not None:
        ns.rd_translations = (ns.__dict__.get("babel_locale"), catalog)
    return catalog


class RequestCachedDomain(Domain):
    """Flask-Babel's domain with the catalog from `translations()`: every gettext, lazy string
    (labels, form choices) and `_()` in views and templates then costs a dict lookup."""

    def get_translations(self):
        return translations()


def current_locale() -> Locale:
    ctx = _cv_app.get(None)
    ns = ctx.g.__dict__.get("_flask_babel") if ctx is not None else None
    locale = ns.__dict__.get("babel_locale") if ns is not None else None
    return locale or get_locale() or Locale.parse(current_app.config["BABEL_DEFAULT_LOCALE"])


def gettext(string: str, **variables) -> str:
    """flask_babel.gettext with the catalog resolved once per request."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# Babel patterns made only of numbers look the same in every locale: plain strftime does them.
_NUMERIC = {
    "yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M",
    "MM-dd HH:mm": "%m-%d %H:%M",
    "yyyy-MM-dd": "%Y-%m-%d",
    "HH:mm": "%H:%M",
}


def money(cents: int | None) -> str:
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}¥{cents // 100:,}.{cents % 100:02d}"


def file_size(n: int | None) -> str:
    """A file size a person can read: bytes below 1 KB (never "0.0 KB"), then KB, then MB."""
    if n is None:
        return "—"
    if n < 1024:
        return gettext("%(n)s bytes", n=n)
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def local_time(dt: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A UTC datetime shown in TZ_DISPLAY (Asia/Shanghai by default)."""
    if dt is None:
        return ""
    local = to_display_tz(dt)
    numeric = _NUMERIC.get(fmt)
    if numeric is not None:
        return local.strftime(numeric)
    return babel_format_datetime(local, fmt, locale=current_locale())


def to_display_tz(dt: datetime) -> datetime:
    """A stored time (UTC; naive means UTC) in TZ_DISPLAY."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(_zone(current_app.config["TZ_DISPLAY"]))


def remember_locale() -> None:
    """?lang=en / ?lang=zh: kept in the session (select_locale) and on a logged-in user's account."""
    if not request.query_string:  # most requests: no query to parse
        return
    lang = request.args.get("lang")
    if lang in SUPPORTED and can(current_user, "web_pages"):
        from app.auth.services import set_locale

        set_locale(current_user, SUPPORTED[lang])


def lang_url(lang: str) -> str:
    """This page in another language (GET pages keep their query; after a POST, the home page)."""
    if request.method == "GET" and request.endpoint:
        args: dict[str, Any] = request.args.to_dict()
        args["lang"] = lang
        # the path's own values win over a query argument of the same name (/help/<kind>?kind=…)
        return url_for(request.endpoint, **{**args, **(request.view_args or {})})
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
    from app.extensions import babel

    babel.domain_instance = RequestCachedDomain(domain=get_babel(app).default_domain)
    # Replaces the callables Flask-Babel installed (same behaviour, catalog resolved once per request).
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["http_message"] = http_message
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["file_size"] = file_size
    app.jinja_env.globals["lang_url"] = lang_url
    app.before_request(remember_locale)
    from app.tickets.labels import CHANNEL_LABELS, KIND_HINTS, KIND_LABELS, PRODUCT_TYPE_LABELS
    from app.workflow.labels import event_label, state_label

    @app.context_processor
    def labels():
        return {
            "get_locale": get_locale,
            "state_label": state_label,
            "event_label": event_label,
            "KIND_LABELS": KIND_LABELS,
            "KIND_HINTS": KIND_HINTS,
            "PRODUCT_TYPE_LABELS": PRODUCT_TYPE_LABELS,
            "CHANNEL_LABELS": CHANNEL_LABELS,
        }
