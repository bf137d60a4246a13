"""Role checks for the HTML pages: not logged in → the login page; wrong role → 403."""

from __future__ import annotations

from functools import wraps

from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.errors import Forbidden


def roles_required(*roles: str):
    """Allow the view only to logged-in users whose role is one of `roles`."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                raise Forbidden(str(_l("Your account has no access to this page.")))
            return view(*args, **kwargs)

        return wrapped

    return decorator
