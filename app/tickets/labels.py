"""Human labels for ticket kinds, product types and payment channels."""

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "wrong_order": _l("Wrong order"),
    "not_delivered": _l("Not delivered"),
    "invalid_card": _l("Invalid or used card key"),
    "not_as_described": _l("Not as described"),
    "duplicate_charge": _l("Charged twice"),
    "membership_refund": _l("Membership refund"),
    "service_fault": _l("Platform fault"),
    "other": _l("Other"),
}

KIND_HINTS = {
    "wrong_order": _l("Bought the wrong item? Within 10 minutes and unused, it is refunded at once."),
    "not_delivered": _l("Paid but nothing arrived: a payment record helps."),
    "invalid_card": _l("The card key fails or was already used: a screenshot of the failure."),
    "not_as_described": _l("Not what the page promised: a screenshot or recording and a description."),
    "duplicate_charge": _l("Charged twice for one order: both payment records (we can often see it ourselves)."),
    "membership_refund": _l("Not activated: full refund. Activated: the unused share."),
    "service_fault": _l("A platform fault hit your order: nothing needed when an incident covers it."),
    "other": _l("Anything else: describe it in your words."),
}

PRODUCT_TYPE_LABELS = {
    "game_card": _l("Game point card"),
    "recharge": _l("Recharge"),
    "card_key": _l("Card key"),
    "membership": _l("Membership"),
    "item": _l("Item"),
    "other": _l("Other"),
}

CHANNEL_LABELS = {
    "balance": _l("Platform balance"),
    "alipay": _l("Alipay"),
    "wechat": _l("WeChat Pay"),
    "bank_card": _l("Bank card"),
}
