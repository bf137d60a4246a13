"""The queue's filters on the ticket's order: its product type and its payment channel (the
analytics page drills down to them). Only matching tickets are listed; an unknown value is a 422
with a message, on the page, in a saved view and in the service."""

from __future__ import annotations

import re

import pytest

from app.errors import Invalid
from app.tickets import saved_views, services
from tests.factories import make_order, make_ticket, make_user


def _refs(html: str) -> set[str]:
    return set(re.findall(r'<tr data-ref="([^"]+)"', html))


@pytest.fixture()
def mix():
    return {
        "card_alipay": make_ticket("submitted", order=make_order(product_type="game_card", payment_channel="alipay")),
        "card_wechat": make_ticket("review", order=make_order(product_type="game_card", payment_channel="wechat")),
        "key_wechat": make_ticket("submitted", order=make_order(product_type="card_key", payment_channel="wechat")),
    }


def test_the_queue_lists_only_the_product_type_and_channel_asked_for(client, auth, mix):
    auth.login(make_user("agent", email="order.filters@example.com"))
    refs = {k: t.ref for k, t in mix.items()}
    page = client.get("/queue", query_string={"state": "", "product_type": "game_card"})
    assert page.status_code == 200 and _refs(page.get_data(as_text=True)) == {refs["card_alipay"], refs["card_wechat"]}
    page = client.get("/queue", query_string={"state": "", "channel": "wechat"}).get_data(as_text=True)
    assert _refs(page) == {refs["card_wechat"], refs["key_wechat"]}
    both = {"state": "", "product_type": "game_card", "channel": "wechat"}
    page = client.get("/queue", query_string=both).get_data(as_text=True)
    assert _refs(page) == {refs["card_wechat"]}
    assert '<option selected value="game_card">' in page or 'value="game_card" selected' in page  # the picker keeps it
    # with the tab's state: only the submitted game cards
    page = client.get("/queue", query_string={"state": "submitted", "product_type": "game_card"}).get_data(as_text=True)
    assert _refs(page) == {refs["card_alipay"]}
    # the search box keeps the filters
    assert '<input type="hidden" name="product_type" value="game_card">' in page


@pytest.mark.parametrize("arg", [{"product_type": "diamonds"}, {"channel": "paypal"}, {"channel": "ALIPAY"}])
def test_an_unknown_product_type_or_channel_is_a_422_not_a_500(client, auth, mix, arg):
    auth.login(make_user("agent", email="bad.filters@example.com"))
    resp = client.get("/queue", query_string={"state": "", **arg, "lang": "en"})
    assert resp.status_code == 422 and "Some filters are invalid." in resp.get_data(as_text=True)


def test_the_service_and_saved_views_check_the_values(app, mix):
    agent = make_user("agent", email="svc.filters@example.com")
    rows, _ = services.list_tickets(agent, channel="alipay")
    assert {t.ref for t in rows} == {mix["card_alipay"].ref}
    with pytest.raises(Invalid):
        services.list_tickets(agent, product_type="diamonds")
    with pytest.raises(Invalid):
        services.list_tickets(agent, channel="paypal")
    assert saved_views.clean_filters({"product_type": "card_key", "channel": "wechat"}) == {
        "product_type": "card_key",
        "channel": "wechat",
    }
    with pytest.raises(Invalid):
        saved_views.clean_filters({"channel": "paypal"})
    view = saved_views.create_view(agent, "WeChat game cards", {"product_type": "game_card", "channel": "wechat"})
    rows, _ = services.list_tickets(agent, **saved_views.queue_kwargs(view.filters))
    assert {t.ref for t in rows} == {mix["card_wechat"].ref}
