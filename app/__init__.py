"""Application factory."""

from __future__ import annotations

from flask import Flask

from app.config import BASE_DIR, Config, config_from_env


def create_app(config: type[Config] | None = None) -> Flask:
    config = config or config_from_env()
    if hasattr(config, "check"):
        config.check()
    app = Flask(__name__, static_folder=str(BASE_DIR / "static"), instance_relative_config=False)
    app.config.from_object(config)
    _ensure_sqlite_dir(app.config["SQLALCHEMY_DATABASE_URI"])

    from app.extensions import babel, csrf, db, limiter, login, migrate
    from app.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)

    from app import models  # noqa: F401  (every model registered on the metadata)
    from app.auth import api as auth_api
    from app.auth import views as auth_views
    from app.dashboard import views as dashboard_views
    from app.evidence import api as evidence_api
    from app.evidence import views as evidence_views
    from app.payouts import api as payouts_api
    from app.payouts import views as payouts_views
    from app.tickets import api as tickets_api
    from app.tickets import views as tickets_views

    for bp in (auth_api.bp, tickets_api.bp, evidence_api.bp, payouts_api.bp):  # token auth, no cookies
        csrf.exempt(bp)
        app.register_blueprint(bp)
    for bp in (auth_views.bp, tickets_views.bp, evidence_views.bp, payouts_views.bp, dashboard_views.bp):
        app.register_blueprint(bp)

    from app.errors_handlers import register_error_handlers
    from app.i18n import register_template_helpers

    register_error_handlers(app)
    from app.security import register_security_headers

    register_security_headers(app)
    register_template_helpers(app)
    from app.auth.permissions import register_template_helpers as register_permission_helpers

    register_permission_helpers(app)

    from app.cli import register_cli

    register_cli(app)
    from app.plugins import init_plugins

    init_plugins(app)
    return app


def _ensure_sqlite_dir(uri: str) -> None:
    """A file-backed SQLite database needs its folder (instance/ on a fresh checkout)."""
    if uri.startswith("sqlite:///") and len(uri) > len("sqlite:///"):
        from pathlib import Path

        Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
