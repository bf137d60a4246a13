"""Which tickets and merchants a merchant user reaches (the permissions are in app/auth/permissions.py).

A merchant user sees only tickets on its own merchant's orders (anything else is not found),
the customer's public messages and evidence (metadata-stripped copies of images), never
internal notes, staff uploads or other merchants.
"""

from __future__ import annotations

from app.auth.permissions import can


def merchant_sees(user, ticket) -> bool:
    if user is None or not can(user, "merchant_tickets") or user.merchant_id is None:
        return False
    order = ticket.order
    return order is not None and order.merchant_id == user.merchant_id


def may_view_merchant(user, merchant) -> bool:
    if user is None:
        return False
    if can(user, "merchant_tickets"):
        return user.merchant_id == merchant.id
    return can(user, "merchants_page")
