"""Bearer-token authentication for the JSON API."""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import lazy_gettext as _l

from app.auth.services import user_for_token
from app.errors import Forbidden, Unauthorized


def api_user():
    return g.api_user


def token_required(*roles: str):
    """Require `Authorization: Bearer <token>`; with roles given, the user's role must be one."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized(str(_l("Send an Authorization: Bearer <token> header.")))
            g.api_user = user_for_token(token.strip())
            if roles and g.api_user.role not in roles:
                raise Forbidden(str(_l("Your role may not do this.")))
            return view(*args, **kwargs)

        return wrapped

    return decorator
