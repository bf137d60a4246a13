"""Merchant jobs: webhook sending (queued after commit) and the periodic retry of due deliveries."""

from __future__ import annotations

from app.merchants.webhooks import deliver_webhooks, retry_webhooks

__all__ = ["deliver_webhooks", "retry_webhooks"]
