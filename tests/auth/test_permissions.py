"""The permissions table as users meet it: every role logs in through the real form and opens
every link of its header; each guarded page and API call refuses the roles without the permission
(403) and anonymous callers (the login page / 401 JSON).

One role per test: the fixtures' app context would otherwise carry one login into the next.
"""

from __future__ import annotations

import re

import pytest

from app.auth.permissions import PERMISSIONS, ROLES, can, roles_with
from tests.factories import make_ticket, make_user
from tests.helpers import csrf_token
from tests.tickets.test_views import login, text

# Written out from the product, not from the table: the header each role should see.
EXPECTED_NAV = {
    "customer": ["/orders", "/tickets", "/notifications/"],
    "agent": ["/queue", "/merchants", "/notifications/"],
    "finance": ["/queue", "/finance/", "/merchants", "/notifications/"],
    "manager": [
        "/queue",
        "/finance/",
        "/dashboard/",
        "/macros",
        "/analytics/",
        "/sla/calendar",
        "/finance/incidents",
        "/merchants",
        "/notifications/",
    ],
    "admin": [
        "/queue",
        "/macros",
        "/analytics/",
        "/admin/users",
        "/admin/tokens",
        "/admin/audit",
        "/sla/calendar",
        "/help/",
        "/finance/incidents",
        "/merchants",
        "/notifications/",
    ],
    "platform": [],
    "merchant": ["/merchant", "/notifications/"],
}

# Each guarded HTML page or form, with the permission it needs. {ref}: a ticket in the finance state.
HTML = [
    ("own_tickets", "get", "/orders"),
    ("own_tickets", "get", "/tickets"),
    ("own_tickets", "get", "/orders/{order_no}/ticket"),
    ("ticket_page", "get", "/tickets/{ref}"),
    ("ticket_page", "post", "/tickets/{ref}/events"),
    ("messages", "post", "/tickets/{ref}/messages"),
    ("assign", "post", "/tickets/{ref}/assign"),
    ("queue", "get", "/queue"),
    ("finance_desk", "get", "/finance/"),
    ("finance_desk", "get", "/finance/reports"),
    ("finance_desk", "get", "/finance/reports.csv"),
    ("pay", "post", "/finance/tickets/{ref}/pay"),
    ("pay", "post", "/finance/tickets/{ref}/return"),
    ("pay", "post", "/finance/payouts/1/retry"),
    ("incidents", "get", "/finance/incidents"),
    ("incidents", "post", "/finance/incidents/1/end"),
    ("sla_dashboard", "get", "/dashboard/"),
    ("sla_dashboard", "get", "/dashboard/breaches.csv"),
    ("analytics", "get", "/analytics/"),
    ("calendar_admin", "get", "/sla/calendar"),
    ("calendar_admin", "post", "/sla/calendar/remove"),
    ("admin_users", "get", "/admin/users"),
    ("admin_users", "get", "/admin/users/1"),
    ("admin_users", "post", "/admin/users/1/disable"),
    ("admin_users", "post", "/admin/users/1/role"),
    ("admin_users", "post", "/admin/users/1/password"),
    ("api_tokens", "get", "/admin/tokens"),
    ("api_tokens", "post", "/admin/tokens/1/revoke"),
    ("audit_log", "get", "/admin/audit"),
    ("kb_edit", "get", "/help/wrong_order/zh/edit"),
    ("kb_edit", "post", "/help/wrong_order/zh/edit"),
    ("kb_edit", "get", "/help/wrong_order/en/history"),
    ("kb_edit", "post", "/help/wrong_order/en/versions/1/restore"),
]
API = [
    ("create_order", "post", "/api/v1/orders"),
    ("file_ticket", "post", "/api/v1/tickets"),
    ("ticket_list", "get", "/api/v1/tickets"),
    ("pay", "post", "/api/v1/tickets/{ref}/payout"),
    ("finance_desk", "get", "/api/v1/tickets/{ref}/payout"),
]


def nav_hrefs(page: str) -> list[str]:
    nav = re.search(r'<nav class="nav">(.*?)</nav>', page, re.S)
    assert nav, "no header nav on the page"
    return re.findall(r'href="([^"]+)"', nav.group(1))


def fill(path: str, ticket) -> str:
    return path.format(ref=ticket.ref, order_no=ticket.order.order_no)


def test_the_table_names_only_known_roles_and_anonymous_has_nothing():
    assert all(roles <= set(ROLES) for roles in PERMISSIONS.values())
    assert not any(can(None, p) for p in PERMISSIONS)
    assert roles_with("finance_desk") == ("finance", "manager")
    with pytest.raises(KeyError):
        can(None, "no_such_permission")


@pytest.mark.parametrize("role", ROLES)
def test_every_role_logs_in_and_every_header_link_answers_200(client, app, auth, role):
    user = make_user(role)
    make_ticket("finance", customer=user if role == "customer" else None)
    login(client, user, auth)
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    links = nav_hrefs(text(home))
    assert links == EXPECTED_NAV[role]
    for href in links:
        resp = client.get(href)
        assert resp.status_code == 200, (role, href, resp.status_code)
        assert nav_hrefs(text(resp)) == links  # the same header on every page


def test_admin_header_has_no_finance_desk_or_dashboard(client, app, auth):
    login(client, make_user("admin"), auth)
    page = text(client.get("/?lang=en", follow_redirects=True))
    header = re.search(r'<nav class="nav">(.*?)</nav>', page, re.S).group(1)
    assert "Finance desk" not in header and "Dashboard" not in header
    assert "Users" in header and "API tokens" in header and "Audit log" in header and "Business calendar" in header


@pytest.mark.parametrize("role", ROLES)
def test_pages_refuse_roles_without_the_permission(client, app, auth, role):
    user = make_user(role)
    ticket = make_ticket("finance", customer=user if role == "customer" else None)
    login(client, user, auth)
    token = csrf_token(client.get("/", follow_redirects=True))
    for permission, method, path in HTML:
        url = fill(path, ticket)
        resp = client.get(url) if method == "get" else client.post(url, data={"csrf_token": token})
        if can(user, permission):
            assert resp.status_code not in (401, 403), (role, url, resp.status_code)
        else:
            assert resp.status_code == 403, (role, url, resp.status_code)
            assert "<h1>无权访问</h1>" in text(resp), (role, url)


@pytest.mark.parametrize("role", ROLES)
def test_api_refuses_roles_without_the_permission_with_a_json_403(client, app, api, role):
    user = make_user(role)
    ticket = make_ticket("finance", customer=user if role == "customer" else None)
    headers = api.headers(user)
    for permission, method, path in API:
        url = fill(path, ticket)
        if can(user, permission):
            continue  # what the allowed roles get is the API tests' business
        resp = client.get(url, headers=headers) if method == "get" else client.post(url, json={}, headers=headers)
        assert resp.status_code == 403, (role, url, resp.status_code)
        assert resp.json["error"]["code"] == "forbidden", (role, url)


def test_anonymous_gets_the_login_page_and_the_api_401(client, app):
    ticket = make_ticket("finance")
    token = csrf_token(client.get("/login"))
    for _permission, method, path in HTML:
        url = fill(path, ticket)
        resp = client.get(url) if method == "get" else client.post(url, data={"csrf_token": token})
        assert resp.status_code == 302 and "/login?next=" in resp.location, (url, resp.status_code)
    for _permission, method, path in API:
        url = fill(path, ticket)
        resp = client.get(url) if method == "get" else client.post(url, json={})
        assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized", (url, resp.status_code)
