"""Demo data for `flask seed-demo`: a realistic desk built through the real services and workflow.

Several customers file requests on their own orders over the last 90 days; each request lives
its life through `apply_event` at the times it would have happened (the services' `now=`), so
audit trails, SLA records (met, late and running late), payouts and the merchant ledger are what
the real desk would hold: the SLA dashboard opens with breaches and a trend, the analytics page
with its roll-up (run at the end). Kinds fit their products (no membership refund on a phone
top-up), descriptions are plain Chinese, payout references have their channel's prefix.

Automatic steps that would run at the wall clock's time (fast track, merchant routing, auto-pay)
are switched off while seeding; the journeys fire those events themselves, dated. Open tickets
are kept young enough that the periodic sweep does not expire them on the first `make run`
(evidence: 7 days, merchant: 48 business hours). Deterministic (a seeded random), ~80 tickets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.auth.models import User
from app.auth.services import create_user
from app.extensions import db
from app.tickets.models import Ticket
from app.tickets.services import add_message, assign_ticket, create_order, create_ticket
from app.types import utcnow
from app.workflow.service import apply_event

PASSWORD = "demo-pass-2026"
DEMO_LOGINS = [
    ("customer", "customer@demo.refundesk", PASSWORD),
    ("customer", "customer2@demo.refundesk", PASSWORD),
    ("agent", "agent@demo.refundesk", PASSWORD),
    ("agent", "agent2@demo.refundesk", PASSWORD),
    ("finance", "finance@demo.refundesk", PASSWORD),
    ("manager", "manager@demo.refundesk", PASSWORD),
    ("admin", "admin@demo.refundesk", PASSWORD),
    ("platform", "platform@demo.refundesk", PASSWORD),
    ("merchant", "merchant@demo.refundesk", PASSWORD),
    ("merchant", "merchant2@demo.refundesk", PASSWORD),
    ("merchant", "merchant3@demo.refundesk", PASSWORD),
]
STAFF_NAMES = {
    "customer@demo.refundesk": "张伟",
    "customer2@demo.refundesk": "李娜",
    "agent@demo.refundesk": "客服小周",
    "agent2@demo.refundesk": "客服小吴",
    "finance@demo.refundesk": "财务老郑",
    "manager@demo.refundesk": "主管王经理",
    "admin@demo.refundesk": "管理员",
    "platform@demo.refundesk": "卡盟平台",
}
MORE_CUSTOMERS = [("wangfang", "王芳"), ("liuyang", "刘洋"), ("chenjing", "陈静"), ("zhaolei", "赵磊")]
DEMO_MERCHANTS = {"M-STARCARD": "星辰卡券", "M-QUICKPAY": "快充小铺", "M-GAMEHUB": "游戏仓库"}
MERCHANT_LOGINS = {
    "merchant@demo.refundesk": ("M-STARCARD", "星辰卡券客服"),
    "merchant2@demo.refundesk": ("M-QUICKPAY", "快充小铺客服"),
    "merchant3@demo.refundesk": ("M-GAMEHUB", "游戏仓库客服"),
}
DEMO_MERCHANT_LOGIN = "M-STARCARD"  # merchant@demo.refundesk answers for it


@dataclass(frozen=True)
class Product:
    type: str
    name: str
    cents: int
    merchant: str
    channels: tuple[str, ...]
    kinds: tuple[str, ...]  # the kinds a customer of this product can sensibly file


PRODUCTS = [
    Product(
        "game_card",
        "王者荣耀 点券 1000",
        10_000,
        "M-GAMEHUB",
        ("alipay", "wechat"),
        ("not_delivered", "wrong_order", "duplicate_charge", "service_fault"),
    ),
    Product(
        "recharge",
        "中国移动 话费充值 100元",
        9_850,
        "M-QUICKPAY",
        ("wechat", "alipay", "balance"),
        ("not_delivered", "wrong_order", "duplicate_charge", "service_fault"),
    ),
    Product(
        "card_key",
        "Steam 钱包卡密 ¥200",
        19_500,
        "M-STARCARD",
        ("alipay", "bank_card"),
        ("invalid_card", "not_delivered", "wrong_order", "duplicate_charge"),
    ),
    Product(
        "membership",
        "爱奇艺 黄金会员 年卡",
        19_800,
        "M-QUICKPAY",
        ("wechat", "alipay"),
        ("membership_refund", "duplicate_charge", "wrong_order"),
    ),
    Product(
        "item",
        "原神 创世结晶 6480",
        64_800,
        "M-GAMEHUB",
        ("bank_card", "alipay"),
        ("not_as_described", "not_delivered", "duplicate_charge"),
    ),
    Product("other", "网易 一卡通 50元", 5_000, "M-STARCARD", ("balance", "wechat"), ("invalid_card", "other")),
]

DESCRIPTIONS = {
    "wrong_order": [
        "本来想买50元的，手滑点成了100元，还没有使用，麻烦退款。",
        "充值号码填错了一位，商品还没到账，请帮我取消。",
    ],
    "not_delivered": [
        "付款已经两个多小时了，游戏里还是没有到账，订单一直显示处理中。",
        "下单后一直没收到卡密，客服也联系不上。",
    ],
    "invalid_card": ["兑换时提示“该卡密已被使用”，我是第一次兑换。", "卡密输入后显示无效，截图已经上传。"],
    "not_as_described": ["页面写的是6480创世结晶，实际只到账了648个。", "说好的是国服账号，收到的是外服的，无法使用。"],
    "duplicate_charge": ["同一个订单被扣了两次钱，两笔交易记录都有。", "支付时卡了一下，结果扣款两笔，金额一样。"],
    "membership_refund": [
        "会员开通后发现不需要了，还没怎么用，申请退剩下的钱。",
        "误买了年卡，还没有激活，请全额退款。",
    ],
    "service_fault": ["支付页面报错，钱扣了但订单显示失败。", "平台维护期间下的单，一直没有处理。"],
    "other": ["一卡通面值和页面显示的不一样，想问一下怎么处理。", "发票开错了抬头，需要重新开。"],
}
REJECT_REASONS = [
    "订单已正常发货并已被使用，不符合退款条件",
    "超过售后期限，且商品已激活使用",
    "未能提供有效的付款凭证",
]
RESOLVE_REASONS = ["已补发新卡密，客户确认可用", "已联系商家重新发货，客户已收到", "已为客户更正发票信息"]
AGENT_REPLIES = [
    "您好，已收到您的申请，我们正在核实订单情况。",
    "您好，已为您加急处理，请耐心等待。",
    "已核实，正在为您安排退款。",
]
CUSTOMER_REPLIES = ["好的，谢谢！", "请尽快处理，着急用。", "截图已经补充上传了。"]
REF_PREFIX = {"alipay": "ALI", "wechat": "WX", "bank_card": "BANK", "balance": "BAL"}
MERCHANT_KINDS = frozenset({"not_delivered", "invalid_card", "not_as_described"})

# (journey, how many). Each journey is a list of (event, who, hours after the previous step).
# who: "customer", "agent" (the assignee), "manager", "finance", "merchant", "system".
Step = tuple[str, str, float]
JOURNEYS: dict[str, list[Step]] = {
    "submitted": [],
    "merchant": [("ask_merchant", "agent", 0.5)],
    "evidence": [("request_evidence", "agent", 2)],
    "review": [("start_review", "agent", 3)],
    "finance": [("start_review", "agent", 2), ("approve", "approver", 20)],
    "paid": [("start_review", "agent", 2), ("approve", "approver", 20), ("pay", "finance", 6)],
    "paid_by_merchant": [("ask_merchant", "agent", 0.5), ("merchant_refund", "merchant", 10), ("pay", "finance", 5)],
    "rejected": [("start_review", "agent", 3), ("reject", "agent", 30)],
    "rejected_after_appeal": [
        ("start_review", "agent", 3),
        ("reject", "agent", 20),
        ("appeal", "customer", 30),
        ("reject", "manager", 20),
    ],
    "resolved": [("start_review", "agent", 2), ("resolve", "agent", 18)],
    "resolved_by_reissue": [
        ("ask_merchant", "agent", 0.5),
        ("merchant_reissue", "merchant", 8),
        ("resolve", "agent", 20),
    ],
    "withdrawn": [("withdraw", "customer", 5)],
    "closed": [("request_evidence", "agent", 3), ("expire", "system", 7 * 24 + 1)],
}
COUNTS = {
    "submitted": 5,
    "merchant": 3,
    "evidence": 4,
    "review": 8,
    "finance": 5,
    "paid": 18,
    "paid_by_merchant": 5,
    "rejected": 7,
    "rejected_after_appeal": 2,
    "resolved": 6,
    "resolved_by_reissue": 3,
    "withdrawn": 5,
    "closed": 4,
}
# Open journeys: how far back a ticket may have been filed (days), so the sweep leaves it be.
RECENT = {"submitted": 6, "merchant": 2, "evidence": 5, "review": 20, "finance": 12}


def seed_demo() -> list[tuple[str, str, str]] | None:
    if db.session.scalar(select(User.id).where(User.email == DEMO_LOGINS[0][1])):
        return None
    config = current_app.config
    saved = {k: config.get(k) for k in ("FAST_TRACK_ENABLED", "MERCHANT_STEP_ENABLED", "AUTO_PAY")}
    config.update(FAST_TRACK_ENABLED=False, MERCHANT_STEP_ENABLED=False, AUTO_PAY=False)
    try:
        _Seeder(utcnow()).run()
    finally:
        config.update(saved)
    return DEMO_LOGINS


class _Seeder:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.rnd = random.Random(2026)
        self.users: dict[str, User] = {}
        self.customers: list[User] = []
        self.merchant_users: dict[str, User] = {}
        self.n_orders = 0

    def run(self) -> None:
        from app.analytics.services import HISTORY_DAYS, rollup
        from app.kb.services import ensure_defaults

        self._people()
        self._merchants()
        plan = [name for name, count in COUNTS.items() for _ in range(count)]
        self.rnd.shuffle(plan)
        for i, journey in enumerate(plan):
            self._ticket(journey, self.customers[i % len(self.customers)])
        # A complaint filed just now on M-STARCARD's order: it waits for the merchant's answer.
        star = next(p for p in PRODUCTS if p.type == "card_key")
        order = self._order(self.customers[0], star, self.now - timedelta(hours=3), "invalid_card")
        ticket = create_ticket(
            order.order_no, "invalid_card", "卡密无效，等待商家处理", self.customers[0], now=self.now
        )
        apply_event(ticket, "ask_merchant", self.users["agent"], now=self.now)
        ensure_defaults()  # the refund policies (app/kb) as version 1
        rollup(now=self.now, days=HISTORY_DAYS)  # the analytics page has its numbers at once

    # --- people and merchants -------------------------------------------------------------

    def _people(self) -> None:
        for role, email, pw in DEMO_LOGINS:
            if role == "merchant":
                continue
            user = create_user(email, pw, role=role, name=STAFF_NAMES.get(email, email.split("@")[0]))
            self.users.setdefault(role, user)
            self.users.setdefault(email, user)
            if role == "customer":
                self.customers.append(user)
        for login, name in MORE_CUSTOMERS:
            self.customers.append(create_user(f"{login}@demo.refundesk", PASSWORD, role="customer", name=name))

    def _merchants(self) -> None:
        from app.merchants.ledger import top_up
        from app.merchants.models import Merchant

        for code, name in DEMO_MERCHANTS.items():  # the merchants exist before their first order
            if db.session.scalar(select(Merchant.id).where(Merchant.code == code)) is None:
                db.session.add(Merchant(code=code, name=name))
        db.session.commit()
        for code, amount in zip(DEMO_MERCHANTS, (500_000, 300_000, 800_000), strict=True):
            top_up(code, amount, self.users["finance"], note="保证金（演示）")
        for email, (code, name) in MERCHANT_LOGINS.items():
            self.merchant_users[code] = create_user(email, PASSWORD, role="merchant", name=name, merchant_code=code)

    # --- orders and tickets ---------------------------------------------------------------

    def _order(self, customer: User, product: Product, paid_at: datetime, kind: str):
        self.n_orders += 1
        delivered = kind != "not_delivered"
        data: dict[str, Any] = {
            "order_no": f"KM{paid_at:%Y%m%d}{self.n_orders:05d}",
            "customer_email": customer.email,
            "merchant_code": product.merchant,
            "product_type": product.type,
            "product_name": product.name,
            "quantity": 1,
            "amount_cents": product.cents,
            "currency": "CNY",
            "payment_channel": self.rnd.choice(product.channels),
            "paid_at": paid_at,
            "delivery_status": "delivered" if delivered else "pending",
            "delivered_at": paid_at + timedelta(minutes=2) if delivered else None,
            "created_at": paid_at,
        }
        if product.type == "membership" and kind == "membership_refund" and self.rnd.random() < 0.6:
            data["membership"] = {
                "activated_at": paid_at + timedelta(minutes=30),
                "term_days": 365,
                "benefits_used_cents": self.rnd.choice([0, 0, 1_500]),
            }
        return create_order(data, self.users["platform"])

    def _ticket(self, journey: str, customer: User) -> Ticket:
        rnd = self.rnd
        steps = JOURNEYS[journey]
        kind = self._kind_for(journey)
        product = rnd.choice([p for p in PRODUCTS if kind in p.kinds])
        scale = rnd.choice([0.3, 0.6, 1.0, 1.0, 1.5, 3.0])  # quick and slow desks: some steps run late
        delays = [timedelta(hours=h * scale * rnd.uniform(0.7, 1.3)) for _e, _w, h in steps]
        if journey == "closed":
            delays[-1] = timedelta(days=7, hours=rnd.uniform(1, 20))  # the evidence window really passed
        span = sum(delays, timedelta())
        newest = self.now - span - timedelta(hours=1)
        oldest = self.now - timedelta(days=RECENT.get(journey, 88))
        filed = newest - (newest - oldest) * rnd.random() if newest > oldest else newest
        paid_at = filed - timedelta(minutes=rnd.choice([25, 90, 300, 1_500]))
        order = self._order(customer, product, paid_at, kind)
        amount = None if rnd.random() < 0.7 else product.cents // 2
        ticket = create_ticket(order.order_no, kind, rnd.choice(DESCRIPTIONS[kind]), customer, amount, now=filed)
        agent = self.users[rnd.choice(["agent@demo.refundesk", "agent2@demo.refundesk"])]
        if steps and steps[0][1] == "agent":
            assign_ticket(ticket, agent, self.users["manager"])
        at = filed
        for (event, who, _h), delay in zip(steps, delays, strict=True):
            at += delay
            self._fire(ticket, event, who, agent, at)
            if event in ("start_review", "request_evidence") and rnd.random() < 0.5:
                add_message(ticket, agent, rnd.choice(AGENT_REPLIES), now=at + timedelta(minutes=5))
                add_message(ticket, customer, rnd.choice(CUSTOMER_REPLIES), now=at + timedelta(minutes=40))
        return ticket

    def _kind_for(self, journey: str) -> str:
        if journey in ("merchant", "paid_by_merchant", "resolved_by_reissue"):
            return self.rnd.choice(sorted(MERCHANT_KINDS))
        if journey in ("evidence", "closed"):
            return self.rnd.choice(["invalid_card", "not_delivered", "not_as_described", "service_fault"])
        return self.rnd.choice(sorted({k for p in PRODUCTS for k in p.kinds}))

    def _fire(self, ticket: Ticket, event: str, who: str, agent: User, at: datetime) -> None:
        from app.evidence.checklists import checklist_for

        amount = ticket.requested_amount_cents
        kw: dict[str, Any] = {"now": at}
        if event == "approve":
            limit = current_app.config["APPROVAL_LIMIT_CENTS"]
            who = "agent" if amount <= limit else "manager"
            kw["amount_cents"] = amount
        if event == "merchant_refund":
            kw["amount_cents"] = amount
        if event == "request_evidence":
            kw["items"] = [item.code for item in checklist_for(ticket.kind)]
        if event in ("reject",):
            kw["reason"] = self.rnd.choice(REJECT_REASONS)
        if event == "resolve":
            kw["reason"] = self.rnd.choice(RESOLVE_REASONS)
        if event == "appeal":
            kw["reason"] = "我确实没有使用过这张卡，请再核实一下。"
        if event == "merchant_reissue":
            kw["reason"] = "已补发新卡密"
            kw["payload"] = {"note": "新卡密已发送至订单页面，请重新兑换"}
        if event == "expire":
            kw["reason"] = "evidence window expired"
        if event == "withdraw":
            kw["reason"] = "问题已经自己解决了"
        if event == "pay":
            channel = ticket.order.payment_channel
            kw["payload"] = {"reference": f"{REF_PREFIX[channel]}-{self.rnd.getrandbits(48):012X}"}
        actor = {
            "customer": ticket.customer,
            "agent": agent,
            "approver": agent,
            "manager": self.users["manager"],
            "finance": self.users["finance"],
            "merchant": self.merchant_users.get(ticket.order.merchant.code),
            "system": None,
        }[who]
        apply_event(ticket, event, actor, **kw)
