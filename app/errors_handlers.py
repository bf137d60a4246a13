"""One place turning errors into JSON (API) or an HTML page (browser)."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.errors import DomainError

HTTP_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    409: "conflict",
    413: "too_large",
    415: "invalid",
    422: "invalid",
    429: "too_many_requests",
    503: "unavailable",
}


def wants_json() -> bool:
    """API paths, clients asking for JSON, and bearer-token clients (e.g. following an evidence download_url)."""
    return (
        request.path.startswith("/api/")
        or request.accept_mimetypes.best == "application/json"
        or request.headers.get("Authorization", "").lower().startswith("bearer")
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if wants_json():
            return exc.to_dict(), exc.status
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        msg = _("The form expired or was sent from elsewhere. Reload the page and try again.")
        if wants_json():
            return {"error": {"code": "invalid", "message": msg}}, 400
        return render_template("errors/error.html", status=400, message=msg), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if wants_json():
            body = {"error": {"code": HTTP_CODES.get(status, "error"), "message": exc.description}}
            allow = [v for k, v in exc.get_headers() if k.lower() == "allow"]  # 405 says what is allowed
            return body, status, {"Allow": allow[0]} if allow else {}
        return render_template("errors/error.html", status=status, message=exc.description), status

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        """The database is unreachable (down, restarting, failing over): 503 and when to retry."""
        import contextlib

        from app.extensions import db

        app.logger.error("database unavailable: %s", exc.__class__.__name__, exc_info=True)
        with contextlib.suppress(Exception):
            db.session.rollback()
        msg = _("The service is briefly unavailable. Please try again in a minute.")
        headers = {"Retry-After": str(app.config.get("RETRY_AFTER_SECONDS", 30))}
        if wants_json():
            return {"error": {"code": "unavailable", "message": msg}}, 503, headers
        try:  # the page itself may need the database (the logged-in user): plain text then
            return render_template("errors/error.html", status=503, message=msg), 503, headers
        except Exception:
            return msg, 503, {**headers, "Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        from app.extensions import db

        db.session.rollback()
        msg = _("Something went wrong on our side. Please try again.")
        if wants_json():
            return {"error": {"code": "error", "message": msg}}, 500
        return render_template("errors/error.html", status=500, message=msg), 500
