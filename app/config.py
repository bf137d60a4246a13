"""Configuration. The only module that reads the environment."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("REFUNDESK_INSTANCE", BASE_DIR / "instance"))


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'refundesk.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    EVIDENCE_DIR = os.environ.get("EVIDENCE_DIR", str(INSTANCE_DIR / "evidence"))
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local")  # local | s3
    S3_BUCKET = os.environ.get("S3_BUCKET")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL")
    S3_PREFIX = os.environ.get("S3_PREFIX", "evidence/")
    TZ_DISPLAY = os.environ.get("TZ_DISPLAY", "Asia/Shanghai")
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = TZ_DISPLAY
    LANGUAGES = ["zh_Hans_CN", "en"]
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    # Audit trail HMAC key (app/workflow/events.py); empty: derived from SECRET_KEY.
    AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY", "")

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None

    # Workflow rules
    APPEAL_WINDOW_DAYS = _int("APPEAL_WINDOW_DAYS", 15)
    REOPEN_WINDOW_DAYS = _int("REOPEN_WINDOW_DAYS", 7)
    APPROVAL_LIMIT_CENTS = _int("APPROVAL_LIMIT_CENTS", 50_000)
    PAGE_SIZE = _int("PAGE_SIZE", 25)
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 110 * 1024 * 1024)

    # Evidence limits
    EVIDENCE_MAX_FILE_BYTES = _int("EVIDENCE_MAX_FILE_BYTES", 20 * 1024 * 1024)
    EVIDENCE_MAX_VIDEO_BYTES = _int("EVIDENCE_MAX_VIDEO_BYTES", 100 * 1024 * 1024)
    EVIDENCE_MAX_FILES = _int("EVIDENCE_MAX_FILES", 20)
    EVIDENCE_MAX_TICKET_BYTES = _int("EVIDENCE_MAX_TICKET_BYTES", 200 * 1024 * 1024)

    # Fast track and payouts
    COOLING_OFF_MINUTES = _int("COOLING_OFF_MINUTES", 10)
    SMALL_AMOUNT_CENTS = _int("SMALL_AMOUNT_CENTS", 5_000)
    AUTO_PAY = os.environ.get("AUTO_PAY", "1") == "1"
    # Fast-track rules (app/workflow/policies.py): on/off and thresholds
    FAST_TRACK_ENABLED = os.environ.get("FAST_TRACK_ENABLED", "1") == "1"
    STANDING_WINDOW_DAYS = _int("STANDING_WINDOW_DAYS", 30)
    STANDING_MAX_REFUNDS = _int("STANDING_MAX_REFUNDS", 3)
    STANDING_MAX_REFUND_CENTS = _int("STANDING_MAX_REFUND_CENTS", 20_000)
    DUPLICATE_WINDOW_MINUTES = _int("DUPLICATE_WINDOW_MINUTES", 5)
    # Payouts (app/payouts): gateway overrides "alipay=pkg.module:Class,wechat=...", the
    # simulated gateway's latency and failure rates, retries and when a payout counts as stuck.
    PAYOUT_GATEWAYS = os.environ.get("PAYOUT_GATEWAYS", "")
    PAYOUT_SIM_LATENCY_MS = _int("PAYOUT_SIM_LATENCY_MS", 0)
    PAYOUT_SIM_FAILURE_RATE = float(os.environ.get("PAYOUT_SIM_FAILURE_RATE", "0"))  # transient
    PAYOUT_SIM_DECLINE_RATE = float(os.environ.get("PAYOUT_SIM_DECLINE_RATE", "0"))  # permanent
    PAYOUT_RETRIES = _int("PAYOUT_RETRIES", 4)
    PAYOUT_MAX_ATTEMPTS = _int("PAYOUT_MAX_ATTEMPTS", 5)
    PAYOUT_STUCK_MINUTES = _int("PAYOUT_STUCK_MINUTES", 10)
    # When refunded money should arrive per channel (app/tickets/arrival.py): m/h clock time,
    # d working days on the business calendar.
    REFUND_ARRIVAL = os.environ.get("REFUND_ARRIVAL", "balance=0m,alipay=2h,wechat=2h,bank_card=5d")
    # Notification adapters (app/notifications/channels.py): "sms=pkg.module:Class,push=pkg.module:Class"
    NOTIFY_ADAPTERS = os.environ.get("NOTIFY_ADAPTERS", "")

    # SLA
    SLA_WARN_RATIO = float(os.environ.get("SLA_WARN_RATIO", "0.75"))
    SMTP_HOST = os.environ.get("SMTP_HOST")
    SMTP_PORT = _int("SMTP_PORT", 25)
    MAIL_FROM = os.environ.get("MAIL_FROM", "refundesk@localhost")
    # SLA policies and clock (parsed in app/sla/clock.py; defaults there): overrides such as
    # "review_decision=1d,duplicate_charge.payout=4h" (h/m business time, d = one working day).
    SLA_POLICY = os.environ.get("SLA_POLICY", "")
    SLA_WORK_HOURS = os.environ.get("SLA_WORK_HOURS", "1-5 09:00-18:00")  # ISO weekdays + intervals
    SLA_EVIDENCE_DAYS = _int("SLA_EVIDENCE_DAYS", 7)
    SLA_EVIDENCE_REMINDER_DAYS = _int("SLA_EVIDENCE_REMINDER_DAYS", 2)
    SLA_SWEEP_SECONDS = _int("SLA_SWEEP_SECONDS", 60)  # in-process sweep interval (no Redis)
    SLA_INPROCESS_SWEEP = os.environ.get("SLA_INPROCESS_SWEEP", "1") == "1"
    SMTP_USER = os.environ.get("SMTP_USER")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "0") == "1"

    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True  # X-RateLimit-* and Retry-After on every limited answer
    # Redis down: count in this process's memory (and log it) instead of answering 500.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Behind a load balancer: how many proxies' X-Forwarded-For / -Proto to trust (0: none).
    PROXY_FIX_X_FOR = _int("PROXY_FIX_X_FOR", 0)
    PROXY_FIX_X_PROTO = _int("PROXY_FIX_X_PROTO", 0)


class TestConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REDIS_URL = None
    RATELIMIT_ENABLED = False
    SERVER_NAME = "localhost"
    PUBLIC_BASE_URL = "http://localhost"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = os.environ.get("COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    @classmethod
    def check(cls) -> None:
        if not os.environ.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set outside development")
        if not cls.PUBLIC_BASE_URL:  # links in e-mails and API answers are never built from Host
            raise RuntimeError("PUBLIC_BASE_URL must be set outside development (e.g. https://desk.example.com)")


def config_from_env() -> type[Config]:
    return ProductionConfig if os.environ.get("REFUNDESK_ENV") == "production" else Config
