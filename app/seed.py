"""Demo data for `flask seed-demo`: built through the real services, so every row is valid."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.auth.models import User
from app.auth.services import create_user
from app.extensions import db
from app.tickets.services import create_order, create_ticket
from app.types import utcnow
from app.workflow.service import apply_event

PASSWORD = "demo-pass-2026"
DEMO_LOGINS = [
    ("customer", "customer@demo.refundesk", PASSWORD),
    ("customer", "customer2@demo.refundesk", PASSWORD),
    ("agent", "agent@demo.refundesk", PASSWORD),
    ("finance", "finance@demo.refundesk", PASSWORD),
    ("manager", "manager@demo.refundesk", PASSWORD),
    ("admin", "admin@demo.refundesk", PASSWORD),
    ("platform", "platform@demo.refundesk", PASSWORD),
    ("merchant", "merchant@demo.refundesk", PASSWORD),
]
DEMO_MERCHANTS = {"M-STARCARD": "星辰卡券", "M-QUICKPAY": "快充小铺", "M-GAMEHUB": "游戏仓库"}
DEMO_MERCHANT_LOGIN = "M-STARCARD"  # merchant@demo.refundesk answers for it

PRODUCTS = [
    ("game_card", "王者荣耀 点券 1000", 10_000, "alipay"),
    ("recharge", "中国移动 话费充值 100元", 9_850, "wechat"),
    ("card_key", "Steam 钱包卡密 ¥200", 19_500, "alipay"),
    ("membership", "爱奇艺 黄金会员 年卡", 19_800, "wechat"),
    ("item", "原神 创世结晶 6480", 64_800, "bank_card"),
    ("other", "网易 一卡通 50元", 5_000, "balance"),
]

# (state wanted, kind, events after submit as (event, role, extra))
JourneyStep = tuple[str, str, dict[str, Any]]
JOURNEYS: list[tuple[str, str, list[JourneyStep]]] = [
    ("submitted", "not_delivered", []),
    ("evidence", "invalid_card", [("request_evidence", "agent", {"items": ["activation_failure", "payment_record"]})]),
    ("review", "not_as_described", [("start_review", "agent", {})]),
    ("finance", "wrong_order", [("start_review", "agent", {}), ("approve", "manager", {})]),
    (
        "paid",
        "duplicate_charge",
        [
            ("start_review", "agent", {}),
            ("approve", "manager", {}),
            ("pay", "finance", {"payload": {"reference": "ALI-DEMO-0001"}}),
        ],
    ),
    ("rejected", "other", [("start_review", "agent", {}), ("reject", "agent", {"reason": "订单已正常发货并使用"})]),
    ("resolved", "invalid_card", [("start_review", "agent", {}), ("resolve", "agent", {"reason": "已补发新卡密"})]),
    ("withdrawn", "membership_refund", [("withdraw", "customer", {})]),
    (
        "closed",
        "not_delivered",
        [
            ("request_evidence", "agent", {"items": ["payment_record"]}),
            ("expire", "system", {"reason": "evidence window expired"}),
        ],
    ),
]


def seed_demo() -> list[tuple[str, str, str]] | None:
    if db.session.scalar(select(User.id).where(User.email == DEMO_LOGINS[0][1])):
        return None
    users: dict[str, User] = {}
    for role, email, pw in DEMO_LOGINS:
        if role != "merchant":
            users.setdefault(role, create_user(email, pw, role=role, name=email.split("@")[0]))
    platform, now = users["platform"], utcnow()
    n = 0
    for i, (ptype, name, cents, channel) in enumerate(PRODUCTS * 2):
        for email in (DEMO_LOGINS[0][1], DEMO_LOGINS[1][1]):
            n += 1
            create_order(
                {
                    "order_no": f"KM{now:%Y%m%d}{n:04d}",
                    "customer_email": email,
                    "merchant_code": ["M-STARCARD", "M-QUICKPAY", "M-GAMEHUB"][i % 3],
                    "product_type": ptype,
                    "product_name": name,
                    "quantity": 1,
                    "amount_cents": cents,
                    "currency": "CNY",
                    "payment_channel": channel,
                    "paid_at": now - timedelta(days=i, hours=n),
                    "delivery_status": "delivered",
                    "delivered_at": now - timedelta(days=i, hours=n - 1),
                },
                platform,
            )
    customer = users["customer"]
    for j, (_state, kind, steps) in enumerate(JOURNEYS):
        order_no = f"KM{now:%Y%m%d}{2 * j + 1:04d}"
        ticket = create_ticket(
            order_no, kind, "演示工单：" + kind, customer, requested_amount_cents=None if kind != "resolved" else 0
        )
        for event, role, extra in steps:
            actor = None if role == "system" else users[role]
            apply_event(
                ticket, event, actor, reason=extra.get("reason"), items=extra.get("items"), payload=extra.get("payload")
            )
    _seed_merchants(users, now)
    return DEMO_LOGINS


def _seed_merchants(users: dict, now) -> None:
    """Names and deposits for the demo merchants, the merchant login, and a complaint waiting for it."""
    from app.merchants.ledger import top_up
    from app.merchants.models import Merchant

    for code, name in DEMO_MERCHANTS.items():
        merchant = db.session.scalar(select(Merchant).where(Merchant.code == code))
        if merchant is not None:
            merchant.name = name
    db.session.commit()
    for code in DEMO_MERCHANTS:
        top_up(code, 500_000, users["finance"], note="demo deposit")
    _role, email, pw = DEMO_LOGINS[-1]
    create_user(email, pw, role="merchant", name="星辰卡券客服", merchant_code=DEMO_MERCHANT_LOGIN)
    # Order 19 is M-STARCARD's (orders rotate over the three merchants): an invalid card key,
    # filed now that the merchant can log in, waits for the merchant's answer.
    create_ticket(f"KM{now:%Y%m%d}{19:04d}", "invalid_card", "演示工单：卡密无效，等待商家处理", users["customer"])
