"""Macros (canned replies with placeholders, per kind, zh/en) written by managers and admins and
inserted into the reply box of the ticket page; the keyboard shortcuts' help on that page."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.tickets import macros
from app.tickets.macros import Macro
from tests.factories import make_order, make_ticket, make_user, staff
from tests.helpers import csrf_token
from tests.translations import ensure_compiled

ensure_compiled()


def _as(auth, user):
    auth.logout()
    assert auth.login(user).status_code == 302
    return user


def _new(client, **data):
    page = client.get("/macros")
    return client.post("/macros?lang=en", data={"csrf_token": csrf_token(page), **data})


def test_managers_write_macros_and_agents_insert_them_filled_in(app, client, auth):
    auth.login(staff("manager"))
    body = "您好 {customer_name}，工单 {ref} 的退款 {amount} 已在处理，请在 {due} 前补充材料。{unknown}"
    assert _new(client, name="补材料", language="zh", kind="invalid_card", body=body).status_code == 302
    assert (
        _new(client, name="Thanks", language="en", kind="", body="Dear {customer_name}, thank you.").status_code == 302
    )
    assert _new(client, name="Other kind", language="en", kind="not_delivered", body="x").status_code == 302
    assert _new(client, name="", language="en", kind="", body="x").status_code == 422
    assert "补材料" in client.get("/macros").get_data(as_text=True)

    customer = make_user("customer", name="王小明")
    ticket = make_ticket("evidence", order=make_order(customer, amount_cents=12_345), kind="invalid_card")
    _as(auth, staff("agent"))
    page = client.get(f"/tickets/{ticket.ref}?lang=en").get_data(as_text=True)
    assert "[中文] 补材料" in page and "[EN] Thanks" in page and "Other kind" not in page
    zh = db.session.query(Macro).filter_by(name="补材料").one()
    filled = macros.render(zh.body, ticket)
    assert filled.startswith(f"您好 王小明，工单 {ticket.ref} 的退款 ¥123.45 已在处理，请在 ")
    assert filled.endswith("前补充材料。{unknown}") and "{due}" not in filled
    assert f'data-text="{filled}"' in page
    # without JavaScript: ?macro=<id> puts the text into the reply box
    page = client.get(f"/tickets/{ticket.ref}?macro={zh.id}").get_data(as_text=True)
    assert f'name="body" rows="3">{filled}</textarea>' in page


def test_macros_are_managed_only_by_managers_and_admins(app, client, auth):
    auth.login(staff("agent"))
    assert client.get("/macros").status_code == 403
    page = client.get("/")
    assert client.post("/macros", data={"csrf_token": csrf_token(page), "name": "x"}).status_code == 403
    _as(auth, staff("admin"))
    assert _new(client, name="A", language="en", kind="", body="b").status_code == 302
    m = db.session.query(Macro).one()
    page = client.get("/macros")
    token = csrf_token(page)
    data = {"csrf_token": token, "name": "A2", "language": "zh", "kind": "other", "body": "c"}
    assert client.post(f"/macros/{m.id}", data=data).status_code == 302
    db.session.expire_all()
    assert (m.name, m.language, m.kind) == ("A2", "zh", "other")
    assert client.post(f"/macros/{m.id}/delete", data={"csrf_token": token}).status_code == 302
    assert db.session.query(Macro).count() == 0
    _as(auth, make_user("customer"))
    assert client.get("/macros").status_code == 403


@pytest.mark.parametrize("lang,text", [("en", "Keyboard shortcuts"), ("zh", "键盘快捷键")])
def test_ticket_page_lists_the_shortcuts(app, client, auth, lang, text):
    ticket = make_ticket("review")
    auth.login(staff("agent"))
    page = client.get(f"/tickets/{ticket.ref}?lang={lang}").get_data(as_text=True)
    assert text in page and "shortcuts.js" in page and 'data-shortcut="claim"' in page
    assert 'id="reply-body"' in page and 'id="approve-amount"' in page
