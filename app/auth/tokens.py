"""Bearer-token authentication for the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.auth.permissions import PERMISSIONS, can
from app.auth.services import user_for_token
from app.errors import Forbidden, Unauthorized

F = TypeVar("F", bound=Callable[..., Any])


def api_user():
    return g.api_user


def token_required(permission: str | None = None) -> Callable[[F], F]:
    """Require `Authorization: Bearer <token>` (else 401); with a permission given, the user must
    have it (else 403). Both answer the API's JSON error."""
    if permission is not None and permission not in PERMISSIONS:
        raise KeyError(permission)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized(str(_l("Send an Authorization: Bearer <token> header.")))
            g.api_user = user_for_token(token.strip())
            if permission is not None and not can(g.api_user, permission):
                raise Forbidden(str(_l("Your role may not do this.")))
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None without such a header."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def token_or_login_required(view):
    """For URLs that browsers and API clients both follow (evidence files linked from the ticket JSON).

    A Bearer header authenticates as in the API (a bad token is a JSON 401, never a redirect to the
    login page); without one, the session login applies. The view asks `request_user()`.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        token = bearer_token()
        if token is None:
            return login_required(view)(*args, **kwargs)
        if not token:
            raise Unauthorized(str(_l("Send an Authorization: Bearer <token> header.")))
        g.api_user = user_for_token(token)
        return view(*args, **kwargs)

    return wrapped


def request_user():
    """The user of this request: the bearer token's, else the logged-in session's."""
    return g.get("api_user") or current_user
