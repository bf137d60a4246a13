"""Outgoing webhooks: the platform (all tickets) and merchants (their own) are told what happened.

- `register(user, url, events)` → a Webhook with its secret (shown once, in the 201 answer).
  Only http(s) URLs; a host resolving to a private, loopback, link-local or reserved address is
  refused unless an admin allowed that host (`allow_host`) — checked again before every send
  (DNS may change), and redirects are never followed (SSRF).
- `on_transition` (a receiver of `ticket_transitioned`, after the commit) writes one
  WebhookDelivery row per subscribed webhook — its id is the delivery id receivers dedupe on —
  commits, then enqueues `deliver_webhooks(webhook_id, ticket_id)`.
- `deliver_webhooks` sends the ticket's pending deliveries for that webhook oldest first and stops
  at the first failure, so a receiver gets one ticket's events in order. Each send is claimed by a
  conditional UPDATE (pending → sending), so two workers never send one delivery at once; a
  failure sets `next_attempt_at` (backoff 30 s · 2^attempts) and the periodic `retry_webhooks`
  sends it again (WEBHOOK_MAX_ATTEMPTS, then failed). `replay` sends a delivery again with the
  same id (receivers see a repeat of an id they know, never a new event).
Body: {"id", "event", "ticket_ref", "state", "at"}; header `Refundesk-Signature: t=<unix>,v1=<hex>`
with hex = HMAC-SHA256(secret, "<unix>." + body), like Stripe's.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.auth.models import User
from app.auth.permissions import can
from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db, rowcount
from app.merchants.models import Webhook, WebhookDelivery, WebhookHost
from app.types import utcnow

log = logging.getLogger(__name__)

MERCHANT_EVENTS = ("merchant.suspend", "merchant.unsuspend", "merchant.blacklist", "merchant.unblacklist")
BACKOFF_SECONDS = 30


# --- registering ----------------------------------------------------------------------------------


def known_events() -> tuple[str, ...]:
    from app.workflow.machine import EVENTS

    return (*EVENTS, *MERCHANT_EVENTS)


def _host_allowed(host: str) -> bool:
    return db.session.scalar(select(WebhookHost.id).where(WebhookHost.host == host.lower())) is not None


def check_target(url: str) -> str:
    """The URL if it may be called: http(s), a host, no private-range address unless allowed."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:  # a bad port or bracketed host
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise Forbidden(str(_l("Webhook URLs must be http(s) with a host.")))
    host = parts.hostname.lower()
    if _host_allowed(host):
        return parts.geturl()
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError, ValueError):  # not (yet) resolvable: checked again before each send
        return parts.geturl()
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not addr.is_global or addr.is_multicast:
            raise Forbidden(str(_l("Webhook targets in private or reserved networks need an admin's approval.")))
    return parts.geturl()


def register(user: User, url: str, events: list[str]) -> Webhook:
    if not can(user, "webhooks"):
        raise Forbidden(str(_l("Your role may not do this.")))
    wanted = sorted(set(events or []))
    unknown = [e for e in wanted if e not in known_events()]
    if not wanted or unknown:
        raise Invalid(str(_l("Name at least one known event.")), fields={"events": unknown or ["required"]})
    hook = Webhook(
        owner_id=user.id,
        merchant_id=user.merchant_id if can(user, "merchant_tickets") else None,
        url=check_target(url),
        events=wanted,
        secret="whsec_" + secrets.token_urlsafe(32),
    )
    db.session.add(hook)
    db.session.commit()
    return hook


def allow_host(user: User, host: str) -> WebhookHost:
    if not can(user, "webhook_hosts"):
        raise Forbidden(str(_l("Only admins allow webhook hosts.")))
    host = (host or "").strip().lower()
    if not host or len(host) > 255:
        raise Invalid(str(_l("Name a host.")), fields={"host": ["required"]})
    row = db.session.scalar(select(WebhookHost).where(WebhookHost.host == host))
    if row is None:
        row = WebhookHost(host=host, allowed_by_id=user.id)
        db.session.add(row)
        db.session.flush()
        from app.admin.services import record  # an exception to the SSRF guard: in the audit log

        record(user, "webhook_host_allowed", "webhook_host", row.id, host)
        db.session.commit()
    return row


# --- recording (after commit) ---------------------------------------------------------------------


def _next_seq() -> int:
    return int(db.session.scalar(select(db.func.coalesce(db.func.max(WebhookDelivery.seq), 0))) or 0) + 1


def _record(hooks: list[Webhook], event: str, ticket_id: int | None, ref: str | None, state: str | None) -> list:
    created: list[tuple[int, int | None]] = []
    at = utcnow().isoformat()
    for hook in hooks:
        delivery_id = str(uuid.uuid4())
        body = json.dumps(
            {"id": delivery_id, "event": event, "ticket_ref": ref, "state": state, "at": at},
            separators=(",", ":"),
            ensure_ascii=False,
        )
        seq = _next_seq() + len(created)
        db.session.add(
            WebhookDelivery(id=delivery_id, seq=seq, webhook_id=hook.id, ticket_id=ticket_id, event=event, body=body)
        )
        created.append((hook.id, ticket_id))
    db.session.commit()
    return created


def _hooks_for(event: str, merchant_id: int | None) -> list[Webhook]:
    hooks = db.session.scalars(select(Webhook).where(Webhook.active.is_(True))).all()
    return [h for h in hooks if event in (h.events or []) and (h.merchant_id is None or h.merchant_id == merchant_id)]


def on_transition(sender: Any, *, ticket_id: int, ticket_ref: str, event: str, to_state: str, **_: Any) -> None:
    """Receiver of ticket_transitioned: one delivery per subscribed webhook, then the send job."""
    from app.tickets.models import Ticket

    ticket = db.session.get(Ticket, ticket_id)  # no statement when this request wrote it (and its order)
    merchant_id = ticket.order.merchant_id if ticket is not None and ticket.order is not None else None
    hooks = _hooks_for(event, merchant_id)
    if hooks:
        _enqueue(_record(hooks, event, ticket_id, ticket_ref, to_state))


def merchant_event(merchant: Any, event: str) -> None:
    """A merchant's standing changed (suspend/blacklist): tell the platform and that merchant."""
    hooks = _hooks_for(event, merchant.id)
    if hooks:
        _enqueue(_record(hooks, event, None, None, merchant.code))


def _enqueue(pairs: list) -> None:
    from app.jobs import enqueue

    for webhook_id, ticket_id in dict.fromkeys(pairs):
        try:
            enqueue(deliver_webhooks, webhook_id, ticket_id)
        except Exception:  # the rows are durable: retry_webhooks sends them
            log.exception("could not queue webhook %s for ticket %s", webhook_id, ticket_id)


# --- sending --------------------------------------------------------------------------------------


def sign(secret: str, body: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer (3xx), never followed


def _post(url: str, body: str, signature: str, timeout: float) -> int:
    req = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Refundesk-Signature": signature, "User-Agent": "Refundesk"},
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _claim(delivery_id: str, now: datetime) -> bool:
    won = rowcount(
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status.in_(("pending", "failed")))
            .values(status="sending", attempts=WebhookDelivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    return won == 1


def send_one(delivery: WebhookDelivery, hook: Webhook) -> bool:
    """POST one delivery (claimed first); True when the receiver answered 2xx."""
    now = utcnow()
    if not _claim(delivery.id, now):
        return False
    claimed = db.session.get(WebhookDelivery, delivery.id, populate_existing=True)
    if claimed is None:  # deleted meanwhile: nothing to send
        return False
    delivery = claimed
    status, error = None, None
    try:
        check_target(hook.url)
        status = _post(hook.url, delivery.body, sign(hook.secret, delivery.body, int(time.time())), 10.0)
    except Forbidden as exc:
        error = exc.message
    except (OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    ok = status is not None and 200 <= status < 300
    delivery.last_status, delivery.last_error = status, error
    if ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", utcnow(), None
    elif delivery.attempts >= current_app.config.get("WEBHOOK_MAX_ATTEMPTS", 8):
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.status = "pending"
        delivery.next_attempt_at = utcnow() + timedelta(seconds=BACKOFF_SECONDS * 2 ** (delivery.attempts - 1))
    db.session.commit()
    return ok


def deliver_webhooks(webhook_id: int, ticket_id: int | None) -> int:
    """Send the pending deliveries of one webhook for one ticket, oldest first; stop at a failure."""
    hook = db.session.get(Webhook, webhook_id)
    if hook is None or not hook.active:
        return 0
    q = select(WebhookDelivery).where(
        WebhookDelivery.webhook_id == webhook_id,
        WebhookDelivery.status == "pending",
        (WebhookDelivery.ticket_id == ticket_id) if ticket_id is not None else WebhookDelivery.ticket_id.is_(None),
    )
    sent = 0
    now = utcnow()
    for delivery in db.session.scalars(q.order_by(WebhookDelivery.seq)).all():
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            break  # backing off: later ones wait, so the order holds
        if not send_one(delivery, hook):
            break
        sent += 1
    return sent


def retry_webhooks() -> int:
    """Periodic: send what is due again (after a failure, or a lost job)."""
    now = utcnow()
    pairs = db.session.execute(
        select(WebhookDelivery.webhook_id, WebhookDelivery.ticket_id)
        .where(
            WebhookDelivery.status == "pending",
            (WebhookDelivery.next_attempt_at.is_(None)) | (WebhookDelivery.next_attempt_at <= now),
        )
        .distinct()
    ).all()
    db.session.commit()
    return sum(deliver_webhooks(w, t) for w, t in pairs)


def replay(user: User, delivery_id: str) -> WebhookDelivery:
    """Send a delivery again, with the same id (the owner, or an admin)."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    hook = db.session.get(Webhook, delivery.webhook_id) if delivery is not None else None
    if delivery is None or hook is None or not (hook.owner_id == user.id or can(user, "webhook_hosts")):
        raise NotFound(str(_l("No such delivery.")))
    delivery.status, delivery.next_attempt_at = "pending", None
    db.session.commit()
    send_one(delivery, hook)
    return db.session.get(WebhookDelivery, delivery_id, populate_existing=True) or delivery


def deliveries_of(user: User, webhook_id: int) -> list[WebhookDelivery]:
    hook = db.session.get(Webhook, webhook_id) if 0 < webhook_id <= 2**31 - 1 else None
    if hook is None or not (hook.owner_id == user.id or can(user, "webhook_hosts")):
        raise NotFound(str(_l("No such webhook.")))
    return list(
        db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id).order_by(WebhookDelivery.seq)
        )
    )
