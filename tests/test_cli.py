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
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "exists already" in again.output
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == tickets
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_seed_demo_refuses_in_production(runner, app, db):
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "production" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
