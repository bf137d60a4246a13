"""The agents' desk in a real browser: an agent works the queue through a saved view and its
markers, bulk-tags and claims, inserts a macro and uses the keyboard on the ticket page (never
while typing), then escalates above the approval limit; a manager shares a view, writes a macro
and finds the escalated ticket in the managers' view. Screenshots: the queue with views on a
desktop and on a phone (docs/screenshots/queue-views-*.png with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.tickets import saved_views
from app.tickets.macros import save_macro
from app.tickets.services import add_message
from tests.browser.test_journey import _login
from tests.factories import make_order, make_ticket, make_user

pytestmark = pytest.mark.browser


def _setup(live):
    with live.app.app_context():
        live.app.config["FAST_TRACK_ENABLED"] = False
        agent = make_user("agent", email="desk-agent@example.com", name="Agent Zhou", locale="en")
        manager = make_user("manager", email="desk-manager@example.com", name="Manager Qian", locale="en")
        customer = make_user("customer", email="desk-cust@example.com", name="王小明")
        replied = make_ticket("review", order=make_order(customer, product_name="Steam ¥100"), kind="invalid_card")
        add_message(replied, customer, "卡密还是无法使用，请尽快处理。")
        others = [make_ticket("review", kind="invalid_card") for _ in range(2)]
        big = make_ticket("review", order=make_order(customer, amount_cents=90_000, product_name="iPhone 充值"))
        make_ticket("submitted")
        saved_views.create_view(agent, "Replied", {"flag": "replied"})
        saved_views.create_view(agent, "Invalid cards in review", {"state": "review", "kind": "invalid_card"})
        save_macro(
            manager, "Card key check", "en", "invalid_card", "Dear {customer_name}, we are checking {ref} ({amount})."
        )
        refs = replied.ref, [t.ref for t in others], big.ref
        db.session.remove()
    return refs


def test_agent_and_manager_work_the_desk(browser, live, shots):
    from playwright.sync_api import expect

    replied, others, big = _setup(live)

    # --- the manager shares a view with the desk
    mgr = _login(browser, live, "desk-manager@example.com", "en")
    mgr.goto(live("/queue?state=&sla=&flag=&kind=&who=all"))
    mgr.locator("details.save-view summary").click()
    mgr.fill("#view-name", "Team: everything open")
    mgr.check("details.save-view input[name=shared]")
    mgr.click("details.save-view button[type=submit]")
    expect(mgr.locator(".flash.success")).to_have_count(1)  # a click does not wait for the page it opens

    # --- the agent: views with counts, markers, bulk, macro, shortcuts
    agent = _login(browser, live, "desk-agent@example.com", "en")
    agent.goto(live("/queue?state="))
    views = agent.locator("nav.views")
    assert "Replied" in views.inner_text() and "Team: everything open" in views.inner_text()
    # a click does not wait for the page it opens, and the queue before it has the same rows and markers
    with agent.expect_navigation():
        agent.locator("nav.views a", has_text="Replied").click()
    row = agent.locator(f"tr[data-ref='{replied}']")
    assert row.locator(".marker-replied").inner_text() == "Customer replied"
    assert agent.locator("tbody tr").count() == 1
    agent.screenshot(path=str(shots / "queue-views-desktop.png"), full_page=True)

    with agent.expect_navigation():  # else the boxes below are ticked on the page being left
        agent.locator("nav.views a", has_text="Invalid cards in review").click()
    for ref in [replied, *others]:
        agent.check(f"tr[data-ref='{ref}'] input[name=ref]")
    agent.select_option("#bulk-action", "tag")
    agent.fill("#bulk input[name=tag]", "card-batch-7")
    agent.click("#bulk button[type=submit]")
    expect(agent.locator(".bulk-summary")).to_contain_text("3 of 3 done; 0 not done.")
    agent.click("text=Back to the queue")
    expect(agent.locator(".badge.tag", has_text="#card-batch-7")).to_have_count(3)

    agent.goto(live(f"/tickets/{replied}"))
    agent.select_option("#macro", label="[EN] Card key check")
    agent.click("#macro-insert")
    assert agent.input_value("#reply-body") == f"Dear 王小明, we are checking {replied} (¥100.00)."
    agent.fill("#reply-body", "")
    agent.locator("#reply-body").press("c")  # typing: no shortcut fires
    assert agent.input_value("#reply-body") == "c" and agent.locator(".assignee").inner_text() == "Unassigned"
    agent.locator("h1").click()
    agent.keyboard.press("?")
    assert agent.locator("#shortcut-help").get_attribute("open") is not None
    agent.keyboard.press("c")  # claim
    expect(agent.locator(".assignee")).to_have_text("Agent Zhou")
    agent.wait_for_load_state("load")
    agent.keyboard.press("r")
    assert agent.evaluate("document.activeElement.id") == "reply-body"
    agent.locator("h1").click()
    agent.keyboard.press("j")  # the next ticket in the agent's view
    expect(agent.locator("h1 .ref")).not_to_have_text(replied)
    assert agent.locator("h1 .ref").inner_text() in others

    # --- above the limit: escalate with a proposal
    agent.goto(live(f"/tickets/{big}"))
    assert "Your approval limit is ¥500.00." in agent.locator(".approval-limit").inner_text()
    form = agent.locator("form.event-escalate")
    form.locator("[name=amount]").fill("880")
    form.locator("[name=reason]").fill("Paid twice, proof attached")
    with agent.expect_navigation():  # the same ticket page again
        form.get_by_role("button", name="Escalate to a manager").click()
    assert "the agent proposes ¥880.00" in agent.locator(".escalated").inner_text()

    # --- the manager: the escalated ticket in the managers' view, approve field pre-filled
    mgr.goto(live("/queue?state="))
    with mgr.expect_navigation():  # the queue being left lists the escalated ticket too
        mgr.locator("nav.views a", has_text="Escalated to managers").click()
    assert mgr.locator(f"tr[data-ref='{big}'] .marker-escalated").count() == 1
    mgr.click(f"tr[data-ref='{big}'] a.ref")
    mgr.wait_for_url(f"**/tickets/{big}")
    assert mgr.input_value("#approve-amount") == "880.00"
    mgr.goto(live("/macros"))
    assert "Card key check" in mgr.locator(".macro-list").inner_text()

    # --- on a phone: the queue as cards, nothing cut off
    phone = _login(browser, live, "desk-agent@example.com", "en", phone=True)
    phone.goto(live("/queue?state="))
    assert phone.locator("nav.views").is_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    assert phone.locator("table.queue-rows thead").is_hidden()
    phone.screenshot(path=str(shots / "queue-views-phone.png"), full_page=True)
    phone.goto(live(f"/tickets/{big}"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    for page in (mgr, agent, phone):
        page.context.close()


def test_agent_finds_a_ticket_of_any_state_from_the_queue_search(browser, live):
    with live.app.app_context():
        make_user("agent", email="search-agent@example.com", locale="en")
        customer = make_user("customer", email="search-cust@example.com", name="赵敏")
        reviewed = make_ticket("review", order=make_order(customer))
        filed = make_ticket("submitted", order=make_order(customer))
        order_no, refs = reviewed.order.order_no, {reviewed.ref, filed.ref}
        db.session.remove()
    agent = _login(browser, live, "search-agent@example.com", "en")
    agent.goto(live("/queue"))  # the first tab an agent sees: submitted tickets
    assert agent.locator("nav.tabs a[aria-current]").get_attribute("data-state") == "submitted"

    def listed() -> set[str]:
        return set(agent.locator("tbody tr[data-ref]").evaluate_all("rows => rows.map(r => r.dataset.ref)"))

    agent.fill("#q", order_no)  # pasted from the customer's call: its state is unknown
    with agent.expect_navigation():
        agent.locator("#q").press("Enter")
    assert listed() == {reviewed.ref}  # under review, found from the submitted tab
    assert agent.locator("nav.tabs a[aria-current]").inner_text().startswith("All states")
    agent.fill("#q", "赵敏")
    with agent.expect_navigation():
        agent.locator("form.queue-search button[type=submit]").click()
    assert listed() == refs
    agent.select_option("select[name=state]", "submitted")  # narrowing keeps the search
    with agent.expect_navigation():
        agent.get_by_role("button", name="Filter").click()
    assert listed() == {filed.ref} and agent.input_value("#q") == "赵敏"
    agent.context.close()
