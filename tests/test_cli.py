"""The operators' CLI contract: create-user, seed-demo, audit verify."""

from sqlalchemy import func, select

from app.auth.models import User
from app.auth.services import authenticate
from app.tickets.models import Order, Ticket
from app.workflow.machine import STATES


def test_create_user_then_log_in(runner, app, db):
    result = runner.invoke(
        args=[
            "create-user",
            "Lee@Example.test",
            "--role",
            "agent",
            "--password",
            "Violet-harbour-lantern-42",
            "--name",
            "小李",
        ]
    )
    assert result.exit_code == 0, result.output
    user = authenticate("lee@example.test", "Violet-harbour-lantern-42")
    assert user is not None and user.role == "agent" and user.name == "小李"
    assert user.password_hash != "Violet-harbour-lantern-42"


def test_create_user_refuses_bad_input(runner, app, db):
    assert runner.invoke(args=["create-user", "a@b.test", "--role", "wizard", "--password", "x" * 10]).exit_code != 0
    short = runner.invoke(args=["create-user", "a@b.test", "--role", "agent", "--password", "short"])
    assert short.exit_code != 0 and "10" in short.output
    assert (
        runner.invoke(
            args=["create-user", "a@b.test", "--role", "agent", "--password", "Sturdy-copper-kettle-77"]
        ).exit_code
        == 0
    )
    again = runner.invoke(args=["create-user", "a@b.test", "--role", "agent", "--password", "Sturdy-copper-kettle-77"])
    assert again.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_seed_demo_covers_every_state_and_product_once(runner, app, db):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "agent@demo.refundesk" in first.output
    states = set(db.session.scalars(select(Ticket.state)))
    assert states == set(STATES) - {"new"}
    assert set(db.session.scalars(select(Order.product_type))) == {
        "game_card",
        "recharge",
        "card_key",
        "membership",
        "item",
        "other",
    }
    tickets = db.session.scalar(select(func.count()).select_from(Ticket))
    carried = select(func.count()).select_from(Ticket).join(Order).where(Ticket.merchant_id == Order.merchant_id)
    assert db.session.scalar(carried) == tickets  # every ticket carries its order's merchant
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "exists already" in again.output
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == tickets
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_seed_demo_builds_a_realistic_desk_over_90_days(runner, app, db, client, auth):
    """Through the real workflow, dated: every state, a 90-day spread, SLA breaches and a trend on the
    dashboard, the analytics roll-up, kinds that fit products, channel-true payout references,
    merchants with accounts and deposits, the refund policies — without time_machine."""
    import re
    import subprocess
    import sys
    from datetime import timedelta

    from app.analytics.models import ComplaintDaily
    from app.dashboard.services import breached_now, stats
    from app.kb.models import KbVersion
    from app.merchants.models import Merchant
    from app.payouts.models import Payout
    from app.seed import PASSWORD, PRODUCTS, REF_PREFIX
    from app.tickets.models import KINDS
    from app.types import utcnow
    from app.workflow.models import TicketEvent

    probe = "import sys, app.seed, app.cli; assert 'time_machine' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0  # a test dependency only
    result = runner.invoke(args=["seed-demo"])  # not timed: a wall-clock limit flaked on a busy machine
    assert result.exit_code == 0, result.output
    now = utcnow()
    tickets = db.session.scalars(select(Ticket)).all()
    assert len(tickets) >= 60
    assert {t.state for t in tickets} == set(STATES) - {"new"}
    created = sorted(t.created_at for t in tickets)
    assert created[0] < now - timedelta(days=60) and created[-1] <= now
    assert len({c.date() for c in created}) >= 30  # spread, not bunched on one day
    events = db.session.scalars(select(TicketEvent)).all()
    assert all(e.created_at <= now for e in events)
    assert min(e.created_at for e in events) < now - timedelta(days=60)
    # kinds fit their products; descriptions are readable Chinese
    allowed = {p.type: set(p.kinds) for p in PRODUCTS}
    for t in tickets:
        assert t.kind in allowed[t.order.product_type], (t.kind, t.order.product_type)
        assert re.search(r"[\u4e00-\u9fff]{4}", t.description), t.description
    assert not [t for t in tickets if t.kind == "membership_refund" and t.order.product_type != "membership"]
    # payouts: one per paid ticket, the reference of its channel
    payouts = db.session.scalars(select(Payout)).all()
    assert len(payouts) == sum(t.state == "paid" for t in tickets)
    for p in payouts:
        assert p.status == "succeeded" and p.gateway_reference.startswith(REF_PREFIX[p.channel] + "-"), p
    # merchants: accounts and deposits; some refunds charged to them
    merchants = db.session.scalars(select(Merchant).where(Merchant.code.like("M-%"))).all()
    assert len(merchants) == 3 and all(m.deposit_cents > 0 for m in merchants)
    merchant_users = db.session.scalars(select(User).where(User.role == "merchant")).all()
    assert {u.merchant_id for u in merchant_users} == {m.id for m in merchants}
    assert any(e.event == "merchant_refund" for e in events) and any(e.event == "merchant_reissue" for e in events)
    # SLA: real breaches now and a trend; analytics has its roll-up; the refund policies exist
    assert len(breached_now(now)) >= 3
    st = stats((now - timedelta(days=90)).date(), now.date(), now)
    assert st["totals"].breached >= 5 and sum(1 for _d, started_n, _b in st["trend"] if started_n) >= 30
    assert db.session.scalar(select(func.count()).select_from(ComplaintDaily)) > 0
    assert db.session.scalar(select(func.count()).select_from(KbVersion)) == 2 * len(KINDS)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    # the manager's pages open on it
    manager = db.session.scalar(select(User).where(User.email == "manager@demo.refundesk"))
    page = client.get("/login")
    from tests.helpers import csrf_token

    client.post("/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": csrf_token(page)})
    for path in ("/dashboard/", "/analytics/", "/queue"):
        assert client.get(path).status_code == 200, path


def test_seed_demo_refuses_in_production(runner, app, db):
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "production" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
