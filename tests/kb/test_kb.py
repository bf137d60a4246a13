"""The refund knowledge base: safe Markdown, versions (save, history, restore, stale edits),
who may edit (admins only), zh/en pages, the built-in pages and pictures, and the links to it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.admin.models import AdminAction
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.kb import services
from app.kb.models import KbVersion
from app.kb.render import render
from app.tickets.models import KINDS
from tests.factories import make_order, make_ticket, make_user, staff
from tests.helpers import csrf_token
from tests.tickets.test_views import login, text

# --- rendering ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](vbscript:msgbox(1))",
        "![x](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<svg onload="alert(1)"></svg>',
        "<iframe src='https://evil.example'></iframe>",
        '<p style="background:url(javascript:alert(1))" onclick="alert(1)">x</p>',
    ],
)
def test_rendering_strips_scripts_handlers_and_javascript_links(markdown):
    tags = _tags(str(render(markdown)))
    assert not {t for t, _ in tags} & {"script", "iframe", "svg", "style", "object"}, tags
    for tag, attrs in tags:
        assert not [a for a in attrs if a.startswith("on") or a == "style"], (tag, attrs)
        for name in ("href", "src"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "vbscript:", "data:")), (tag, attrs)


def _tags(html: str) -> list[tuple[str, dict]]:
    """The elements of `html` as a browser would parse them (escaped text is not an element)."""
    from html.parser import HTMLParser

    found: list[tuple[str, dict]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    Collect().feed(html)
    return found


def test_rendering_keeps_the_markdown_and_only_the_apps_own_pictures():
    html = str(
        render(
            "## 需要准备什么\n\n- **付款记录**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
            "[帮助](https://help.example/refund) [mail](mailto:help@example.test) [same site](/orders)\n\n"
            "![示例](/static/kb/payment-record.svg) ![tracker](https://evil.example/t.png) ![up](/static/../x.svg)"
            " ![rel](//evil.example/x.svg)"
        )
    )
    assert "<h2>需要准备什么</h2>" in html and "<strong>付款记录</strong>" in html and "<td>2</td>" in html
    assert 'href="https://help.example/refund"' in html and 'href="mailto:help@example.test"' in html
    assert 'href="/orders"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert '<img src="/static/kb/payment-record.svg" alt="示例">' in html
    assert "evil.example" not in html and "/static/../" not in html


# --- the built-in pages and their pictures -----------------------------------------------


def test_every_kind_has_a_page_in_zh_and_en_with_a_picture_that_is_served(client, app):
    for kind in KINDS:
        zh = client.get(f"/help/{kind}?lang=zh")
        assert zh.status_code == 200, kind
        page = text(zh)
        for heading in ("什么情况可以申请", "需要准备什么", "每一步要多久", "已激活的会员"):
            assert f"<h2>{heading}</h2>" in page, (kind, heading)
        en = text(client.get(f"/help/{kind}?lang=en"))
        headings = ("What qualifies", "What to prepare", "How long each step takes", "Memberships already activated")
        for heading in headings:
            assert f"<h2>{heading}</h2>" in en, (kind, heading)
        pictures = re.findall(r'<img src="(/static/kb/[^"]+)"', page)
        assert pictures, kind
        for src in pictures:
            resp = client.get(src)
            assert resp.status_code == 200 and resp.mimetype == "image/svg+xml", src
            assert b"<script" not in resp.data and b"http://www.w3.org/2000/svg" in resp.data
    assert "按未使用的天数折算" in text(client.get("/help/membership_refund?lang=zh"))
    assert "48 business hours" in text(client.get("/help/invalid_card?lang=en"))
    assert "48 business hours" not in text(client.get("/help/duplicate_charge?lang=en"))


def test_the_index_lists_every_kind_and_unknown_pages_are_404(client, app):
    page = text(client.get("/help/?lang=en"))
    assert all(f'href="/help/{kind}"' in page for kind in KINDS)
    assert "Membership refund" in page and "/edit" not in page  # no edit links for visitors
    assert client.get("/help/no_such_kind").status_code == 404
    admin = make_user("admin")
    login(client, admin, client_auth(client))
    assert client.get("/help/wrong_order/fr/edit").status_code == 404
    assert client.get("/help/wrong_order/zh/versions/7").status_code == 404


def client_auth(client):
    from tests.conftest import WebAuth

    return WebAuth(client)


def test_seed_writes_the_built_in_pages_once(app, db):
    assert services.ensure_defaults() == 2 * len(KINDS)
    assert services.ensure_defaults() == 0
    page = services.current("not_delivered", "zh")
    assert page.number == 1 and page.author is None and page.title == "未到账 / 不给货"


# --- permissions ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["customer", "agent", "manager", "finance", "merchant"])
def test_only_admins_edit(client, app, auth, role):
    user = make_user(role)
    login(client, user, auth)
    assert client.get("/help/invalid_card/zh/edit").status_code == 403
    token = csrf_token(client.get("/help/"))
    resp = client.post(
        "/help/invalid_card/zh/edit", data={"csrf_token": token, "title": "hacked", "body": "hacked", "base": "0"}
    )
    assert resp.status_code == 403
    assert client.get("/help/invalid_card/zh/history").status_code == 403
    assert "hacked" not in text(client.get("/help/invalid_card"))
    assert db.session.scalar(select(func.count()).select_from(KbVersion)) == 0
    with pytest.raises(Forbidden):
        services.save("invalid_card", "zh", "x", "y", user, base=0)


def test_anonymous_editing_goes_to_the_login_page(client, app):
    resp = client.get("/help/invalid_card/zh/edit")
    assert resp.status_code == 302 and "/login?next=" in resp.location


# --- versions ------------------------------------------------------------------------------


def test_admin_saves_versions_sees_the_history_and_restores(client, app, auth):
    admin = make_user("admin", name="管理员小王")
    login(client, admin, auth)
    form = client.get("/help/invalid_card/zh/edit")
    assert form.status_code == 200 and "卡密无效 / 已被使用" in text(form)
    resp = client.post(
        "/help/invalid_card/zh/edit",
        data={
            "csrf_token": csrf_token(form),
            "title": "卡密无效",
            "body": "## 新规则\n\n兑换失败请截图。<script>alert(1)</script>",
            "base": "0",
        },
    )
    assert resp.status_code == 302, text(resp)
    page = text(client.get("/help/invalid_card?lang=zh"))
    assert "<h2>新规则</h2>" in page and "<script>alert" not in page and "&lt;script&gt;" in page
    history = text(client.get("/help/invalid_card/zh/history"))
    assert "v2" in history and "v1" in history and "管理员小王" in history and "内置文本" in history
    assert services.current("invalid_card", "en").number == 0  # the English page is its own
    # an edit started from v1 is stale now: refused, nothing saved
    stale = client.post(
        "/help/invalid_card/zh/edit",
        data={"csrf_token": csrf_token(form), "title": "旧的", "body": "旧的", "base": "1"},
    )
    assert stale.status_code == 409 and "先保存" in text(stale)
    restore = client.post(
        "/help/invalid_card/zh/versions/1/restore", data={"csrf_token": csrf_token(form), "base": "2"}
    )
    assert restore.status_code == 302
    db.session.expire_all()
    current = services.current("invalid_card", "zh")
    assert (current.number, current.restored_from, current.author.id) == (3, 1, admin.id)
    assert "<h2>什么情况可以申请</h2>" in text(client.get("/help/invalid_card?lang=zh"))
    versions = db.session.scalars(select(KbVersion).order_by(KbVersion.number)).all()
    assert [(v.number, v.author_id) for v in versions] == [(1, None), (2, admin.id), (3, admin.id)]
    actions = db.session.scalars(select(AdminAction.action).order_by(AdminAction.id)).all()
    assert actions == ["kb_page_saved", "kb_page_restored"]
    old = client.get("/help/invalid_card/zh/versions/2")
    assert old.status_code == 200 and "<h2>新规则</h2>" in text(old)


def test_saves_refuse_nothing_changed_and_stale_bases(app, db):
    admin = staff("admin")
    title, body = services.current("other", "en").title, services.current("other", "en").body
    with pytest.raises(Invalid):
        services.save("other", "en", title, body, admin, base=0)
    services.save("other", "en", "Other problems", body, admin, base=0)
    with pytest.raises(Conflict):
        services.save("other", "en", "Again", body, admin, base=0)
    with pytest.raises(NotFound):
        services.restore("other", "en", 9, admin, base=2)
    assert [v.number for v in services.history("other", "en", admin)] == [2, 1]


# --- zh / en and the links -----------------------------------------------------------------


def test_the_page_follows_the_ui_language(client, app):
    assert "<h1>Invalid or used card key</h1>" in text(client.get("/help/invalid_card?lang=en"))
    assert "<h1>卡密无效 / 已被使用</h1>" in text(client.get("/help/invalid_card?lang=zh"))
    page = text(client.get("/help/?lang=en"))
    assert "Refund policies" in page
    assert "退款政策" in text(client.get("/help/?lang=zh"))
    odd = client.get("/help/invalid_card?kind=other&lang=zh")  # a query argument named like the path's
    assert odd.status_code == 200 and 'href="/help/invalid_card?lang=en"' in text(odd)


def test_the_new_ticket_form_and_the_trackers_link_to_the_policies(client, app, auth):
    customer = make_user("customer")
    order = make_order(customer)
    ticket = make_ticket("review", customer=customer, kind="invalid_card")
    public = text(client.get(f"/t/{ticket.tracker_token}?lang=zh"))
    assert 'href="/help/invalid_card"' in public
    login(client, customer, auth)
    form = text(client.get(f"/orders/{order.order_no}/ticket?lang=zh"))
    assert 'href="/help/"' in form and "退款政策" in form
    assert 'href="/help/invalid_card"' in text(client.get(f"/tickets/{ticket.ref}?lang=en"))


def test_admins_see_edit_links_and_the_header_entry(client, app, auth):
    login(client, make_user("admin"), auth)
    page = text(client.get("/help/?lang=en"))
    assert 'href="/help/wrong_order/en/edit"' in page and 'href="/help/wrong_order/zh/history"' in page
    nav = re.search(r'<nav class="nav">(.*?)</nav>', page, re.S).group(1)
    assert 'href="/help/"' in nav and "Refund policies" in nav
