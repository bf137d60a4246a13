"""Who may do what: the one table of permissions, and the helpers that read it.

Views (`permission_required`), the API (`token_required`), services (`can`), queries
(`roles_with`), the header (`NAV`) and templates (the Jinja global `can("...")`) all ask this
table; no other module compares role names. Adding a role is one line in `ROLES` plus its name
on the line of each permission it gets. The workflow's own table (which role fires which event)
stays in `app/workflow/machine.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.errors import Forbidden

ROLES = ("customer", "agent", "finance", "manager", "admin", "platform", "merchant")

# permission → the roles that have it. One line per permission; keep each line's roles in ROLES order.
PERMISSIONS: dict[str, frozenset[str]] = {
    # customers
    "own_tickets": frozenset({"customer"}),  # my orders and requests; sees only their own orders/tickets
    "file_ticket": frozenset({"customer", "platform"}),
    "customer_evidence": frozenset({"customer", "platform"}),  # uploads on the customer's side
    # reading tickets
    "ticket_page": frozenset({"customer", "agent", "finance", "manager", "admin"}),  # the HTML ticket page
    "see_any_ticket": frozenset({"agent", "finance", "manager", "admin", "platform"}),
    "staff": frozenset({"agent", "finance", "manager", "admin"}),  # staff view: notes, history, staff evidence
    "platform_view": frozenset({"platform"}),  # the customer's view plus fast-track facts (tickets/visibility.py)
    "queue": frozenset({"agent", "finance", "manager", "admin"}),
    "ticket_list": frozenset({"agent", "finance", "manager", "admin", "merchant"}),  # GET /api/v1/tickets (scoped)
    "saved_views": frozenset({"agent", "finance", "manager", "admin"}),  # personal saved views of the queue
    "shared_views": frozenset({"manager"}),  # create, rename, delete the shared views
    "customer_flags": frozenset({"agent", "manager", "admin"}),  # abusive-complainant flags on the ticket page
    # working tickets
    "messages": frozenset({"customer", "agent", "manager", "admin"}),  # write on the ticket page
    "internal_notes": frozenset({"agent", "manager", "admin"}),
    "assign": frozenset({"agent", "manager"}),  # claim and release
    "assign_others": frozenset({"manager"}),  # assign to someone else
    "assignable": frozenset({"agent", "manager"}),  # may be a ticket's assignee
    "capped_approvals": frozenset({"agent"}),  # approvals above APPROVAL_LIMIT_CENTS need a manager
    "escalations": frozenset({"manager"}),  # the managers' view of tickets escalated above the limit
    "bulk_actions": frozenset({"agent", "manager"}),  # act on tickets selected in the queue
    "tag_tickets": frozenset({"agent", "manager"}),
    "use_macros": frozenset({"agent", "manager"}),  # insert canned replies on the ticket page
    "manage_macros": frozenset({"manager", "admin"}),  # write the canned replies
    # money
    "finance_desk": frozenset({"finance", "manager"}),
    "pay": frozenset({"finance"}),  # pay, retry, return to review
    # managers
    "sla_dashboard": frozenset({"manager"}),
    "sla_alerts": frozenset({"manager"}),  # notified of SLA breaches
    "incidents": frozenset({"manager", "admin"}),  # declare and end platform incidents
    "calendar_admin": frozenset({"manager", "admin"}),
    "analytics": frozenset({"manager", "admin"}),  # complaint analytics page and /api/v1/analytics
    # administration
    "admin_users": frozenset({"admin"}),
    "api_tokens": frozenset({"admin"}),
    "audit_log": frozenset({"admin"}),
    "kb_edit": frozenset({"admin"}),  # edit, history and restore of the refund policies (app/kb; reading is public)
    "create_order": frozenset({"admin", "platform"}),
    "api_client": frozenset({"platform"}),  # accounts admins issue long-lived API tokens to
    # the web account
    "web_pages": frozenset({"customer", "agent", "finance", "manager", "admin", "merchant"}),  # language on the account
    "notifications": frozenset({"customer", "agent", "finance", "manager", "admin", "merchant"}),
    # merchants (app/merchants): a merchant user is bound to one merchant and sees only its tickets
    "merchant_tickets": frozenset({"merchant"}),  # its own merchant's tickets: desk, answers, evidence, messages
    "merchants_page": frozenset({"agent", "finance", "manager", "admin"}),  # scores, ledgers, collective groups
    "merchant_top_up": frozenset({"finance", "admin"}),  # deposit (保证金) top-ups
    "merchant_standing": frozenset({"manager", "admin"}),  # suspend / blacklist, with a reason
    "merchant_reports": frozenset({"finance", "manager", "admin"}),  # deductions per merchant and day
    "merchant_deposit_alerts": frozenset({"finance"}),  # told when a deposit falls below the floor
    "webhooks": frozenset({"admin", "platform", "merchant"}),  # register outgoing webhooks
    "webhook_hosts": frozenset({"admin"}),  # allow a private-range webhook host (SSRF)
}

# The header: (label, endpoint, permission), in order. Shown only to users with the permission.
NAV: tuple[tuple[Any, str, str], ...] = (
    (_l("My orders"), "tickets.my_orders", "own_tickets"),
    (_l("My requests"), "tickets.my_tickets", "own_tickets"),
    (_l("Queue"), "tickets.queue", "queue"),
    (_l("Finance desk"), "payouts.queue", "finance_desk"),
    (_l("Dashboard"), "dashboard.index", "sla_dashboard"),
    (_l("Macros"), "tickets.macros_page", "manage_macros"),
    (_l("Analytics"), "analytics.index", "analytics"),
    (_l("Users"), "admin.users", "admin_users"),
    (_l("API tokens"), "admin.tokens", "api_tokens"),
    (_l("Audit log"), "admin.audit_log", "audit_log"),
    (_l("Business calendar"), "sla.calendar", "calendar_admin"),
    (_l("Refund policies"), "kb.index", "kb_edit"),
    (_l("Incidents"), "payouts.incidents", "incidents"),
    (_l("Merchant desk"), "merchants.desk", "merchant_tickets"),
    (_l("Merchants"), "merchants.index", "merchants_page"),
    (_l("Notifications"), "notifications.index", "notifications"),
)


def role_can(role: str | None, permission: str) -> bool:
    """Whether `role` has `permission` (an unknown permission is a programming error)."""
    return role in PERMISSIONS[permission]


def can(user: object, permission: str) -> bool:
    """Whether `user` (a User, an anonymous user or None) has `permission`. Anonymous: never."""
    if user is None or not getattr(user, "is_authenticated", False):
        return role_can(None, permission)  # still raises KeyError on a misspelt permission
    return role_can(getattr(user, "role", None), permission)


def roles_with(permission: str) -> tuple[str, ...]:
    """The roles having `permission`, in ROLES order (for queries: `User.role.in_(...)`)."""
    return tuple(r for r in ROLES if r in PERMISSIONS[permission])


F = TypeVar("F", bound=Callable[..., Any])


def permission_required(permission: str) -> Callable[[F], F]:
    """HTML views: anonymous → the login page; logged in without `permission` → 403."""
    if permission not in PERMISSIONS:  # fail at import on a misspelt name
        raise KeyError(permission)

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not can(current_user, permission):
                raise Forbidden(str(_l("Your account has no access to this page.")))
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def nav_links() -> list[tuple[str, str, str]]:
    """The header's links for the current user: (label, endpoint, url)."""
    from flask import url_for

    return [(str(label), endpoint, url_for(endpoint)) for label, endpoint, perm in NAV if can(current_user, perm)]


def register_template_helpers(app: Flask) -> None:
    """`can("finance_desk")` (the current user) or `can("x", user)`, and `nav_links()` in templates."""

    def template_can(permission: str, user: object | None = None) -> bool:
        return can(current_user if user is None else user, permission)

    app.jinja_env.globals.update(can=template_can, nav_links=nav_links)
