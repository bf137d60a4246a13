"""Payout gateways behind one interface.

Every gateway moves the money of one `PayoutRequest` and is idempotent by
`request.idempotency_key`: a second call with the same key returns the first result and
never pays twice. That is what makes retries, duplicate jobs and crashed workers safe.

The interface (duck-typed; see `Gateway`):

    name: str                       channel it pays to ("alipay", "balance", ...)
    instant: bool                   True when the transfer is a row in OUR database written in
                                    the caller's transaction (the balance ledger): the payout
                                    succeeds in the same commit as the ticket's `pay` event.
    pay(req) -> GatewayResult       status "succeeded" (with the provider's reference) or
                                    "declined" (permanent for that channel, no money moved;
                                    `code` is one of app/payouts/labels.DECLINE_CODES, shown
                                    translated, `error` the provider's message; finance may
                                    Retry on another channel or Return to review).
                                    Raise GatewayUnavailable for anything uncertain or
                                    transient (timeout, 5xx, network): the job is retried with
                                    backoff and the SAME key, so the provider answers again.
    lookup(key) -> GatewayResult | None
                                    what the provider knows about a key (None: never paid);
                                    used by the reconciliation job.

Plugging in a real adapter (Alipay 单笔转账, WeChat 商家转账到零钱, a bank API):
write a class with the interface above whose constructor takes the app config (a dict);
send `req.idempotency_key` as the provider's merchant-side request number (e.g. Alipay
`out_biz_no`, WeChat `out_bill_no`) so the provider de-duplicates; map "definitely refused"
to "declined" with its code (the provider's code mapped to `DECLINE_CODES`) and everything
else to GatewayUnavailable; implement `lookup` with the
provider's query API. Then point the channel at it, without code changes elsewhere:
`PAYOUT_GATEWAYS="alipay=mypkg.alipay:AlipayGateway,wechat=mypkg.wechat:WechatGateway"`.
Channels not named there use the defaults below (balance ledger; simulator for the rest).
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass
from typing import Protocol

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.payouts.models import BalanceLedger, Payout, SimulatedCharge
from app.payouts.sqlutil import insert_ignoring_conflict


class GatewayUnavailable(Exception):
    """Transient or uncertain failure: retry later with the same idempotency key."""


@dataclass(frozen=True)
class PayoutRequest:
    payout_id: int
    ticket_id: int
    customer_id: int
    channel: str
    amount_cents: int
    idempotency_key: str


@dataclass(frozen=True)
class GatewayResult:
    status: str  # "succeeded" | "declined"
    reference: str | None = None
    error: str | None = None
    code: str | None = None  # with a decline: one of app/payouts/labels.DECLINE_CODES

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


class Gateway(Protocol):
    name: str
    instant: bool

    def pay(self, req: PayoutRequest) -> GatewayResult: ...

    def lookup(self, idempotency_key: str) -> GatewayResult | None: ...


class BalanceGateway:
    """Credits the customer's platform balance in the caller's transaction (instant)."""

    name, instant = "balance", True

    def __init__(self, config=None):
        self.config = config or {}

    def pay(self, req: PayoutRequest) -> GatewayResult:
        found = self.lookup(req.idempotency_key)
        if found is not None:
            return found
        db.session.add(
            BalanceLedger(
                user_id=req.customer_id,
                amount_cents=req.amount_cents,
                payout_id=req.payout_id,
                note=f"refund payout {req.payout_id}",
            )
        )
        return GatewayResult("succeeded", reference=f"BAL-{req.payout_id:08d}")

    def lookup(self, idempotency_key: str) -> GatewayResult | None:
        payout_id = db.session.scalar(
            select(BalanceLedger.payout_id)
            .join(Payout, Payout.id == BalanceLedger.payout_id)
            .where(Payout.idempotency_key == idempotency_key)
        )
        return GatewayResult("succeeded", reference=f"BAL-{payout_id:08d}") if payout_id else None


class SimulatedGateway:
    """Stand-in for the original channel (demo and tests).

    Its "remote" memory is the payout_sim_charges table, written in its own transaction
    (its own connection), so it survives a worker dying before the app commits. Latency and
    failure rates come from PAYOUT_SIM_LATENCY_MS, PAYOUT_SIM_FAILURE_RATE (transient) and
    PAYOUT_SIM_DECLINE_RATE (permanent).
    """

    instant = False
    PREFIX = {"alipay": "ALI", "wechat": "WX", "bank_card": "BANK"}

    def __init__(self, config=None, name: str = "alipay"):
        self.config = config or {}
        self.name = name

    def pay(self, req: PayoutRequest) -> GatewayResult:
        found = self.lookup(req.idempotency_key)
        if found is not None:
            return found
        latency = int(self.config.get("PAYOUT_SIM_LATENCY_MS", 0))
        if latency > 0:
            time.sleep(latency / 1000)
        if random.random() < float(self.config.get("PAYOUT_SIM_DECLINE_RATE", 0)):
            return GatewayResult(
                "declined", error="simulated: the receiving account refused the transfer", code="account_refused"
            )
        if random.random() < float(self.config.get("PAYOUT_SIM_FAILURE_RATE", 0)):
            raise GatewayUnavailable("simulated: gateway timeout")
        reference = f"{self.PREFIX.get(self.name, 'SIM')}-{secrets.token_hex(8).upper()}"
        with db.engine.begin() as conn:  # the gateway's own transaction, not the caller's
            insert_ignoring_conflict(
                conn,
                SimulatedCharge.__table__,
                {
                    "idempotency_key": req.idempotency_key,
                    "channel": self.name,
                    "amount_cents": req.amount_cents,
                    "reference": reference,
                },
                ["idempotency_key"],
            )
            stored = conn.scalar(
                select(SimulatedCharge.reference).where(SimulatedCharge.idempotency_key == req.idempotency_key)
            )
        return GatewayResult("succeeded", reference=stored)

    def lookup(self, idempotency_key: str) -> GatewayResult | None:
        with db.engine.connect() as conn:
            ref = conn.scalar(
                select(SimulatedCharge.reference).where(SimulatedCharge.idempotency_key == idempotency_key)
            )
        return GatewayResult("succeeded", reference=ref) if ref else None


DEFAULTS = {
    "balance": BalanceGateway,
    "alipay": SimulatedGateway,
    "wechat": SimulatedGateway,
    "bank_card": SimulatedGateway,
}


def get_gateway(channel: str) -> Gateway:
    """The gateway configured for `channel` (PAYOUT_GATEWAYS overrides the defaults)."""
    config = current_app.config
    override = config["PAYOUT_GATEWAYS"].get(channel)  # {channel: class}, imported at boot (app/settings.py)
    if override is not None:
        return override(config)
    cls = DEFAULTS.get(channel)
    if cls is None:
        raise KeyError(f"no payout gateway for channel {channel!r}")
    return cls(config, name=channel) if cls is SimulatedGateway else cls(config)
