"""Application factory: everything the app is made of is wired here, explicitly.

Extensions, blueprints (HTML and /api/v1), error handlers, security headers, template helpers,
CLI groups (app/cli.py, app/sla/cli.py), the receivers of the workflow's one signal
(`ticket_transitioned`, app/workflow/signals.py), evidence storage, and — without Redis — the
inline runner of the periodic-job table (PERIODIC in app/jobs.py). Nothing registers itself
at import time.
"""

from __future__ import annotations

from flask import Flask

from app.settings import BASE_DIR, Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    """The app for `settings` (default: read from the environment now; bad values raise SettingsError)."""
    settings = settings or load_settings()
    app = Flask(__name__, static_folder=str(BASE_DIR / "static"), instance_relative_config=False)
    app.config.from_mapping(settings.flask_config())
    app.extensions["settings"] = settings
    if app.config.get("PROXY_FIX_X_FOR") or app.config.get("PROXY_FIX_X_PROTO"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=app.config["PROXY_FIX_X_PROTO"]
        )
    _ensure_sqlite_dir(app.config["SQLALCHEMY_DATABASE_URI"])
    from app.inputs import install_converters

    install_converters(app)  # bounded <int:…>, control-free <…> segments: before any blueprint

    from app.extensions import babel, csrf, db, limiter, login, migrate
    from app.i18n import select_locale, select_timezone

    db.init_app(app)
    with app.app_context():
        from app.extensions import check_liveness_on_checkout

        for engine in db.engines.values():
            check_liveness_on_checkout(engine)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    from app import request_stack

    request_stack.install(app, limiter=limiter, login=login)  # after every extension that adds hooks

    from app import models  # noqa: F401  (every model registered on the metadata)
    from app.errors_handlers import register_error_handlers
    from app.jsonio import OrjsonProvider
    from app.security import SessionInterface, register_security_headers

    app.json = OrjsonProvider(app)
    app.session_interface = SessionInterface()
    _register_blueprints(app)
    register_error_handlers(app)
    register_security_headers(app)
    from app import page_cache

    page_cache.init_app(app)
    _register_template_helpers(app)
    _register_cli(app)
    _connect_receivers(app)
    _configure_evidence(app)

    from app.jobs import install_inline_periodic

    install_inline_periodic(app)  # PERIODIC from a thread of the web process, only without Redis
    return app


def _register_blueprints(app: Flask) -> None:
    from app.admin import views as admin_views
    from app.analytics import views as analytics_views
    from app.auth import api as auth_api
    from app.auth import views as auth_views
    from app.dashboard import views as dashboard_views
    from app.evidence import api as evidence_api
    from app.evidence import views as evidence_views
    from app.extensions import csrf
    from app.kb import views as kb_views
    from app.merchants import api as merchants_api
    from app.merchants import views as merchants_views
    from app.notifications import api as notifications_api
    from app.notifications import views as notifications_views
    from app.payouts import api as payouts_api
    from app.payouts import views as payouts_views
    from app.sla import views as sla_views
    from app.tickets import api as tickets_api
    from app.tickets import views as tickets_views

    for bp in (
        auth_api.bp,
        tickets_api.bp,
        evidence_api.bp,
        payouts_api.bp,
        analytics_views.api_bp,
        notifications_api.bp,
        merchants_api.bp,
    ):  # token auth, no cookies
        csrf.exempt(bp)
        app.register_blueprint(bp)
    for bp in (
        auth_views.bp,
        tickets_views.bp,
        evidence_views.bp,
        payouts_views.bp,
        dashboard_views.bp,
        notifications_views.bp,
        sla_views.bp,
        analytics_views.bp,
        admin_views.bp,
        merchants_views.bp,
        kb_views.bp,
    ):
        app.register_blueprint(bp)


def _register_template_helpers(app: Flask) -> None:
    """Every package's template globals (blueprints add their own with app_context_processor)."""
    from app.auth.permissions import register_template_helpers as permission_helpers
    from app.evidence.panels import register_template_helpers as evidence_helpers
    from app.i18n import register_template_helpers as i18n_helpers
    from app.merchants.hooks import register_template_helpers as merchant_helpers
    from app.notifications.hooks import register_template_helpers as notification_helpers
    from app.sla.display import short_time, sla_view

    i18n_helpers(app)
    permission_helpers(app)
    evidence_helpers(app)
    notification_helpers(app)
    merchant_helpers(app)
    app.jinja_env.globals.update(sla_view=sla_view, sla_short_time=short_time)


def _register_cli(app: Flask) -> None:
    from app.cli import register_cli
    from app.sla.cli import calendar_cli

    register_cli(app)  # create-user, seed-demo, worker, audit, jobs
    app.cli.add_command(calendar_cli)


def _connect_receivers(app: Flask) -> None:
    """The receivers of `ticket_transitioned` (app/workflow/signals.py): the only place they are
    connected. Each runs after the commit, in isolation. Webhooks come first: a receiver that fires
    another event (fast track, merchant routing, auto-pay) sends its signal from inside, so the
    outer event's delivery must be recorded before (deliveries keep each ticket's order)."""
    from app.merchants.webhooks import on_transition as webhooks_on_transition
    from app.notifications.hooks import notify_on_transition
    from app.payouts.receivers import auto_pay
    from app.workflow.receivers import fast_track_on_submit
    from app.workflow.signals import ticket_transitioned

    for receiver in (webhooks_on_transition, fast_track_on_submit, auto_pay, notify_on_transition):
        ticket_transitioned.connect(receiver, sender=app, weak=False)


def _configure_evidence(app: Flask) -> None:
    from app.evidence import images
    from app.evidence.services import storage_from_config

    app.extensions["evidence_storage"] = storage_from_config(app.config)
    images.set_max_pixels(app.config.get("EVIDENCE_MAX_PIXELS", images.DEFAULT_MAX_PIXELS))


def _ensure_sqlite_dir(uri: str) -> None:
    """A file-backed SQLite database needs its folder (instance/ on a fresh checkout)."""
    if uri.startswith("sqlite:///") and len(uri) > len("sqlite:///"):
        from pathlib import Path

        Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
