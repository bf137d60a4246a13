"""The knowledge base's built-in pages: one short policy page per ticket kind, in zh and en.

They are what a kind's page shows until an admin saves it (then they become its version 1, see
services.py); `flask seed-demo` writes them as version 1 too. The numbers said here are the
defaults of app/settings.py and docs/sla.md (first response 4 business hours, evidence window 7
days, review decision 2 working days, payout 1 working day, merchant answer 48 business hours,
arrival per channel); an admin who changes a setting edits the page too.
Pictures: small illustrations in static/kb/ (never external URLs; see render.py).
"""

from __future__ import annotations

from app.tickets.models import KINDS

LANGS = ("zh", "en")
MERCHANT_FIRST = frozenset({"not_delivered", "invalid_card", "not_as_described"})  # MERCHANT_KINDS' default


def _img(name: str, alt: str) -> str:
    return f"![{alt}](/static/kb/{name}.svg)"


_QUALIFIES = {
    "wrong_order": (
        "下错单",
        "- 买错了商品、面额或充值账号，且**商品尚未使用**（卡密未查看、充值未到账、会员未激活）。\n"
        "- 付款后 **10 分钟内**提交：系统立即全额退款，无需任何材料。\n"
        "- 超过 10 分钟或商品已使用：由客服审核，可能只能部分退款或无法退款。",
        "Wrong order",
        "- You bought the wrong product, value or top-up account, and the goods are **not used yet** "
        "(card key not revealed, top-up not delivered, membership not activated).\n"
        "- Reported within **10 minutes** of payment: refunded in full at once, nothing to send.\n"
        "- Later, or the goods were used: support reviews it; the refund may be partial or refused.",
    ),
    "not_delivered": (
        "未到账 / 不给货",
        "- 已付款，但充值、点券或卡密没有到账。\n"
        "- 先等待商品页写明的发货时间；超过后即可申请。\n"
        "- ¥50 以内且近期退款记录正常：自动批准。",
        "Not delivered",
        "- You paid, but the top-up, points or card key never arrived.\n"
        "- Wait for the delivery time shown on the product page first; after it you may file.\n"
        "- Up to ¥50 with a normal refund history: approved automatically.",
    ),
    "invalid_card": (
        "卡密无效 / 已被使用",
        "- 兑换卡密时提示无效、已使用或已过期。\n"
        "- 请在兑换失败后尽快申请，并保留失败页面。\n"
        "- 商家可以选择补发新卡密、退款或提出异议；补发后仍然无效，可在 7 天内重新打开申请。",
        "Invalid or used card key",
        "- Redeeming the card key says it is invalid, already used or expired.\n"
        "- File soon after the failure and keep the failure screen.\n"
        "- The merchant may reissue a new key, refund or dispute; if the new key fails too, "
        "you can reopen the request within 7 days.",
    ),
    "not_as_described": (
        "与描述不符",
        "- 收到的商品与商品页描述不一致（数量、区服、面额、有效期等）。\n"
        "- 需要能看出差异的截图或录屏，以及一段文字说明。",
        "Not as described",
        "- What you received differs from the product page (quantity, server/region, value, validity…).\n"
        "- Send a screenshot or recording that shows the difference, and a few sentences.",
    ),
    "duplicate_charge": (
        "重复扣费",
        "- 同一订单被扣款两次或以上。\n"
        "- 系统能看到两笔相同金额的支付时，会自动退还多扣的一笔。\n"
        "- 系统看不到时，请上传两笔支付记录。",
        "Duplicate charge",
        "- One order was charged twice or more.\n"
        "- When the system sees two payments of the same amount, the extra one is refunded automatically.\n"
        "- Otherwise send both payment records.",
    ),
    "membership_refund": (
        "会员退款",
        "- **未激活**的会员：全额退款，无需材料。\n- **已激活**的会员：按未使用天数折算退款（见下文），由客服审核。",
        "Membership refund",
        "- A membership **not activated** yet: refunded in full, nothing to send.\n"
        "- An **activated** membership: a pro-rata refund of the unused days (see below), reviewed by support.",
    ),
    "service_fault": (
        "平台故障",
        "- 因平台故障（支付、发货或兑换系统出错）导致订单失败或损失。\n"
        "- 平台已公告的故障期间内的订单：无需提供材料，直接进入审核。",
        "Platform fault",
        "- An order failed or you lost out because of a platform fault (payment, delivery or redemption).\n"
        "- Orders paid during a declared incident: nothing to send, straight to review.",
    ),
    "other": (
        "其他问题",
        "- 不属于以上任何一类的问题。\n- 请写清楚发生了什么，以及希望如何解决。",
        "Other",
        "- Anything that fits none of the other kinds.\n- Say what happened and what would make it right.",
    ),
}

_PREPARE = {
    "wrong_order": (
        "- 10 分钟内：无需材料。\n- 之后：说明原本想买什么、实际买了什么；付款记录截图。",
        "- Within 10 minutes: nothing.\n- Later: what you meant to buy and what was bought; a payment record.",
        "wrong-order",
        ("示例：想买的与实际买的", "Example: what was meant and what was bought"),
    ),
    "not_delivered": (
        "- 付款记录截图（支付宝、微信或银行 App），能看到订单号、金额和时间。\n"
        "- 未到账的页面截图（订单状态或游戏余额）。",
        "- A payment record (Alipay, WeChat or bank app) showing the order number, amount and time.\n"
        "- A screenshot of the missing delivery (order status or game balance).",
        "payment-record",
        (
            "示例：付款记录，订单号、金额、时间清晰可见",
            "Example: a payment record, order number, amount and time visible",
        ),
    ),
    "invalid_card": (
        "- 兑换失败的截图，能看到卡号（可遮住部分）和错误提示。\n- 付款记录截图。",
        "- A screenshot of the failed redemption, with the card number (partly hidden is fine) and the error.\n"
        "- A payment record.",
        "activation-failure",
        ("示例：兑换失败页面", "Example: the redemption failure"),
    ),
    "not_as_described": (
        "- 截图或录屏：把商品描述和实际收到的内容放在一起。\n- 文字说明：期望的是什么，实际是什么。",
        "- A screenshot or recording with the product description next to what you received.\n"
        "- A few sentences: what you expected and what you got.",
        "not-as-described",
        ("示例：描述与实际对比", "Example: the listing next to what arrived"),
    ),
    "duplicate_charge": (
        "- 两笔扣款的支付记录，各自带交易号、金额和时间。",
        "- Both payment records, each with its transaction number, amount and time.",
        "duplicate-charge",
        ("示例：同一订单的两笔扣款", "Example: two charges for one order"),
    ),
    "membership_refund": (
        "- 未激活：无需材料。\n- 已激活：退款原因，以及会员页面截图（开通日期、已用权益）。",
        "- Not activated: nothing.\n"
        "- Activated: why you want to stop it, and the membership page (start date, benefits used).",
        "membership-status",
        ("示例：会员状态页面", "Example: the membership status page"),
    ),
    "service_fault": (
        "- 有公告的故障：无需材料。\n- 否则：故障页面截图（错误提示和时间）和付款记录。",
        "- A declared incident: nothing.\n"
        "- Otherwise: a screenshot of the fault (the error and the time) and a payment record.",
        "fault-screenshot",
        ("示例：故障页面", "Example: the fault screen"),
    ),
    "other": (
        "- 文字说明；有截图更好。",
        "- A description; screenshots help.",
        "payment-record",
        ("示例：付款记录", "Example: a payment record"),
    ),
}

_TIMES_ZH = (
    "| 步骤 | 通常需要 |\n|---|---|\n"
    "| 首次处理（客服或自动规则） | 4 个工作小时内 |\n"
    "{merchant}"
    "| 补充材料（如需要） | 你有 7 天时间上传，截止前会提醒；逾期未补充，申请关闭 |\n"
    "| 审核决定 | 2 个工作日内（等待你补充材料的时间不计） |\n"
    "| 财务打款 | 批准后 1 个工作日内 |\n"
    "| 到账 | 余额即时；支付宝、微信约 2 小时；银行卡 1–5 个工作日 |\n\n"
    "工作时间为周一至周五 9:00–18:00（北京时间），法定节假日除外。进度页会显示每一步的预计完成时间；"
    "超过预计时间仍未处理，可以点“催一下”。"
)
_TIMES_EN = (
    "| step | usually takes |\n|---|---|\n"
    "| first response (support or an automatic rule) | within 4 business hours |\n"
    "{merchant}"
    "| more material (if asked) | you have 7 days to upload, with a reminder before the end; "
    "without it the request closes |\n"
    "| review decision | within 2 working days (time waiting for your material does not count) |\n"
    "| payout | within 1 working day of the approval |\n"
    "| arrival | balance at once; Alipay and WeChat about 2 hours; bank card 1–5 working days |\n\n"
    "Business hours are Monday to Friday 9:00–18:00 (Beijing time), public holidays excepted. The "
    "tracker shows a dated estimate for each step; when it passes with no news, press “Urge”."
)
_MERCHANT_ZH = "| 商家答复 | 商家在 48 个工作小时内答复（退款、补发或异议）；不答复视为同意 |\n"
_MERCHANT_EN = (
    "| merchant's answer | the merchant answers within 48 business hours (refund, reissue or dispute); "
    "silence counts as agreement |\n"
)

_MEMBERSHIP_ZH = (
    "会员**未激活**时全额退款。**已激活**后，按未使用的天数折算：\n\n"
    "> 退款 = 价格 × 未使用天数 ÷ 会员总天数 − 已使用权益的价值\n\n"
    "开始使用的当天算作已使用。例如 ¥198 的年卡（365 天）用了 30 天、未用权益：约 ¥181.7。"
    "提交时即可看到折算金额，客服审核后决定。"
)
_MEMBERSHIP_EN = (
    "A membership **not activated** is refunded in full. Once **activated**, the unused days are refunded:\n\n"
    "> refund = price × unused days ÷ term days − value of the benefits used\n\n"
    "The day it started counts as used. For example a ¥198 yearly membership (365 days) used for 30 days, "
    "no benefits used: about ¥181.7. You see the amount when you file; support reviews and decides."
)
_MEMBERSHIP_SHORT_ZH = "已激活的会员请选择“会员退款”：按未使用天数折算退款，详见该类别的说明。"
_MEMBERSHIP_SHORT_EN = (
    "For an activated membership choose “Membership refund”: the unused days are refunded pro rata "
    "(see that kind's page)."
)


def _body(kind: str, lang: str) -> str:
    qualifies = _QUALIFIES[kind][1 if lang == "zh" else 3]
    zh_prep, en_prep, picture, (zh_alt, en_alt) = _PREPARE[kind]
    merchant = (_MERCHANT_ZH if lang == "zh" else _MERCHANT_EN) if kind in MERCHANT_FIRST else ""
    if lang == "zh":
        membership = _MEMBERSHIP_ZH if kind == "membership_refund" else _MEMBERSHIP_SHORT_ZH
        return (
            f"## 什么情况可以申请\n\n{qualifies}\n\n## 需要准备什么\n\n{zh_prep}\n\n{_img(picture, zh_alt)}\n\n"
            f"## 每一步要多久\n\n{_TIMES_ZH.format(merchant=merchant)}\n\n## 已激活的会员\n\n{membership}\n"
        )
    membership = _MEMBERSHIP_EN if kind == "membership_refund" else _MEMBERSHIP_SHORT_EN
    return (
        f"## What qualifies\n\n{qualifies}\n\n## What to prepare\n\n{en_prep}\n\n{_img(picture, en_alt)}\n\n"
        f"## How long each step takes\n\n{_TIMES_EN.format(merchant=merchant)}\n\n"
        f"## Memberships already activated\n\n{membership}\n"
    )


def default_page(kind: str, lang: str) -> tuple[str, str]:
    """(title, Markdown body) of the built-in page for `kind` in `lang`."""
    title = _QUALIFIES[kind][0 if lang == "zh" else 2]
    return title, _body(kind, lang)


assert set(_QUALIFIES) == set(KINDS) == set(_PREPARE), "a default page per ticket kind"
