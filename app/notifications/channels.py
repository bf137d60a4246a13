"""Outside channels: e-mail over SMTP, and SMS / app push adapters (simulated by default).

An adapter is a class built with the app config that has `send(msg: Outgoing) -> str | None`
(the provider's message id) and raises `ChannelUnavailable` (or OSError) when the message
should be tried again later. A real SMS or push provider plugs in by setting, like the payout
gateways: `NOTIFY_ADAPTERS="sms=mypkg.sms:AliyunSms,push=mypkg.push:JPush"`.
"""

from __future__ import annotations

import importlib
import logging
import secrets
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from flask import current_app

log = logging.getLogger(__name__)


class ChannelUnavailable(Exception):
    """The provider could not take the message now; the delivery is retried later."""


@dataclass
class Outgoing:
    channel: str
    to: str  # e-mail address, phone number, or "user:<id>" for push
    subject: str
    text: str
    link: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Adapter(Protocol):
    def send(self, msg: Outgoing) -> str | None: ...


class SmtpEmail:
    """Plain SMTP (STARTTLS and login when configured). Without SMTP_HOST mail is only logged."""

    def __init__(self, config) -> None:
        self.config = config

    def send(self, msg: Outgoing) -> str | None:
        cfg = self.config
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = cfg["MAIL_FROM"], msg.to, msg.subject
        mail["Message-ID"] = make_msgid(domain=cfg["MAIL_FROM"].rpartition("@")[2] or "localhost")
        for name, value in msg.headers.items():
            mail[name] = value
        mail.set_content(msg.text)
        if msg.html:
            mail.add_alternative(msg.html, subtype="html")
        if not cfg.get("SMTP_HOST"):
            log.info("mail (SMTP_HOST unset, not sent) to=%s subject=%s", msg.to, msg.subject)
            return mail["Message-ID"]
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=20) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("SMTP_USER"):
                smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
            smtp.send_message(mail)
        return mail["Message-ID"]


# What the simulators "sent", newest last (per process; tests and the demo read it).
SIMULATED: list[Outgoing] = []


class SimulatedSms:
    def __init__(self, config) -> None:
        self.config = config

    def send(self, msg: Outgoing) -> str | None:
        SIMULATED.append(msg)
        log.info("sms (simulated) to=%s text=%s", msg.to, msg.subject)
        return "sim-sms-" + secrets.token_hex(6)


class SimulatedPush:
    def __init__(self, config) -> None:
        self.config = config

    def send(self, msg: Outgoing) -> str | None:
        SIMULATED.append(msg)
        log.info("push (simulated) to=%s title=%s", msg.to, msg.subject)
        return "sim-push-" + secrets.token_hex(6)


DEFAULTS: dict[str, type] = {"email": SmtpEmail, "sms": SimulatedSms, "push": SimulatedPush}


def _overrides(spec: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in (spec or "").split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs}


def get_adapter(channel: str) -> Adapter:
    """The adapter configured for `channel` (NOTIFY_ADAPTERS overrides the defaults)."""
    config = current_app.config
    path = _overrides(config.get("NOTIFY_ADAPTERS", "")).get(channel)
    if path:
        module, _, cls_name = path.partition(":")
        return getattr(importlib.import_module(module), cls_name)(config)
    if channel not in DEFAULTS:
        raise KeyError(f"no notification adapter for channel {channel!r}")
    return DEFAULTS[channel](config)
