"""Settings: every environment variable the app reads, typed, documented and validated at boot.

`Settings()` reads the environment when it is called — never at import — and a bad value raises
at once, naming the variable and what it accepts; `create_app` turns that into one
`SettingsError` listing every bad variable. `Settings.from_values(...)` takes the given values and
the defaults only (tests and scripts: nothing inherited from the shell).

The small configuration languages are parsed here, once:
  SLA_WORK_HOURS   "1-5 09:00-12:00,13:00-18:00; 6 10:00-14:00"  →  WorkHours
  SLA_POLICY       "review_decision=1d,duplicate_charge.payout=4h"  →  SlaPolicy (every target)
  PAYOUT_GATEWAYS  "alipay=mypkg.alipay:AlipayGateway"  →  {channel: gateway class} (imported)

`flask_config()` is what `create_app` puts into `app.config`: every field under its own
(upper-case, environment) name with its typed value — so `app.config["SLA_POLICY"]` is a
`SlaPolicy`, `app.config["PAGE_SIZE"]` an int — plus the fixed Flask/extension keys derived
from them (SQLALCHEMY_DATABASE_URI, SESSION_COOKIE_SECURE, RATELIMIT_STORAGE_URI, ...).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-not-secret"

# ---------------------------------------------------------------- SLA_WORK_HOURS

_HOURS_HELP = (
    'ISO weekdays (1 = Monday … 7 = Sunday, a day or a range) then HH:MM-HH:MM spans, e.g. "1-5 09:00-18:00" or '
    '"1-5 09:00-12:00,13:00-18:00; 6 10:00-14:00" (parts separated by ";", 00:00 as an end means midnight)'
)
_DAYS = re.compile(r"([1-7])(?:-([1-7]))?")
_SPAN = re.compile(r"(\d\d:\d\d)-(\d\d:\d\d)")


@dataclass(frozen=True)
class WorkHours:
    """The desk's weekly working hours: (weekday 0 = Monday, start, end) spans, wall-clock time."""

    spans: tuple[tuple[int, time, time], ...]

    def by_weekday(self) -> dict[int, list[tuple[time, time]]]:
        """{weekday: [(start, end)]}, the shape BusinessCalendar takes."""
        hours: dict[int, list[tuple[time, time]]] = {}
        for wd, start, end in self.spans:
            hours.setdefault(wd, []).append((start, end))
        return hours

    def workday_length(self) -> timedelta:
        """Length of the first working weekday (9h for 09:00–18:00): the unit of "1d" in SLA durations."""
        first = min(wd for wd, _, _ in self.spans)

        def minutes(t: time) -> int:
            return t.hour * 60 + t.minute

        return sum(
            (
                timedelta(minutes=(minutes(end) or 24 * 60) - minutes(start))
                for wd, start, end in self.spans
                if wd == first
            ),
            timedelta(),
        )


def parse_work_hours(spec: str) -> WorkHours:
    """Parse SLA_WORK_HOURS; ValueError (saying what is accepted) on anything else."""
    spans: list[tuple[int, time, time]] = []
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        days_text, _, spans_text = part.partition(" ")
        days = _DAYS.fullmatch(days_text)
        if days is None or not spans_text.strip():
            raise ValueError(f"{part!r} is not weekdays followed by hours; accepted: {_HOURS_HELP}")
        lo, hi = int(days[1]), int(days[2] or days[1])
        if lo > hi:
            raise ValueError(f"weekday range {days_text!r} runs backwards; accepted: {_HOURS_HELP}")
        for span in spans_text.replace(" ", "").split(","):
            m = _SPAN.fullmatch(span)
            try:
                start, end = (time.fromisoformat(m[1]), time.fromisoformat(m[2])) if m else (None, None)
            except ValueError:
                start = end = None
            if start is None or end is None:
                raise ValueError(f"{span!r} is not a HH:MM-HH:MM span; accepted: {_HOURS_HELP}")
            spans += [(iso - 1, start, end) for iso in range(lo, hi + 1)]
    if not spans:
        raise ValueError(f"no working hours given; accepted: {_HOURS_HELP}")
    hours = WorkHours(tuple(sorted(spans)))
    from app.sla.calendar import BusinessCalendar  # the calendar's own checks: overlaps, empty spans

    try:
        BusinessCalendar(hours.by_weekday())
    except ValueError as exc:
        raise ValueError(f"{exc}; accepted: {_HOURS_HELP}") from None
    return hours


# ---------------------------------------------------------------- SLA_POLICY

#: The desk metrics and the merchant's response, with their default business-time targets ("d" = one
#: working day, "h" = business hours: the merchant's 48h are 48 business hours).
DEFAULT_SLA_TARGETS = {"first_response": "4h", "review_decision": "2d", "payout": "1d", "merchant_response": "48h"}
_DURATION = re.compile(r"(\d+)([dhm])")


def _policy_help() -> str:
    from app.tickets.models import KINDS

    return (
        "comma-separated METRIC=DURATION or KIND.METRIC=DURATION, METRIC one of "
        f"{', '.join(DEFAULT_SLA_TARGETS)}, KIND one of {', '.join(KINDS)}, DURATION like 4h, 30m, 2d, 1d4h30m "
        '(d = one working day), e.g. "review_decision=1d,duplicate_charge.payout=4h"'
    )


def parse_duration(text: str, workday: timedelta) -> timedelta:
    """ "4h", "2d", "1d4h30m" → business time ("d" = `workday`); ValueError otherwise."""
    text = text.strip().lower()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{text!r} is not a duration")
    unit = {"d": workday, "h": timedelta(hours=1), "m": timedelta(minutes=1)}
    total = sum((int(n) * unit[u] for n, u in parts), timedelta())
    if total <= timedelta():
        raise ValueError(f"{text!r} is not a positive duration")
    return total


@dataclass(frozen=True)
class SlaPolicy:
    """Every SLA target, resolved: the defaults, then METRIC overrides, then KIND.METRIC overrides."""

    targets: Mapping[str, timedelta]  # "metric" and "kind.metric" → business time

    def target(self, metric: str, kind: str) -> timedelta:
        return self.targets.get(f"{kind}.{metric}") or self.targets[metric]


def parse_sla_policy(spec: str, hours: WorkHours) -> SlaPolicy:
    """Parse SLA_POLICY over the defaults; ValueError (saying what is accepted) on anything else."""
    from app.tickets.models import KINDS

    workday = hours.workday_length()
    targets = {m: parse_duration(d, workday) for m, d in DEFAULT_SLA_TARGETS.items()}
    seen: set[str] = set()
    for item in filter(None, (p.strip() for p in spec.split(","))):
        key, eq, value = (s.strip() for s in item.partition("="))
        kind, _, metric = key.rpartition(".")
        if not eq or metric not in DEFAULT_SLA_TARGETS or (kind and kind not in KINDS):
            raise ValueError(f"{item!r} is not METRIC=DURATION or KIND.METRIC=DURATION; accepted: {_policy_help()}")
        if key in seen:
            raise ValueError(f"{key!r} is given twice; accepted: {_policy_help()}")
        seen.add(key)
        try:
            targets[key] = parse_duration(value, workday)
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}; accepted: {_policy_help()}") from None
    return SlaPolicy(targets)


# ---------------------------------------------------------------- PAYOUT_GATEWAYS

_GATEWAYS_HELP = (
    "comma-separated CHANNEL=module.path:ClassName (a class with pay() and lookup(), built with the app config), "
    'e.g. "alipay=mypkg.alipay:AlipayGateway,wechat=mypkg.wechat:WechatGateway"'
)


def parse_payout_gateways(spec: str) -> dict[str, type]:
    """Parse PAYOUT_GATEWAYS and import each class; ValueError (saying what is accepted) otherwise."""
    from app.payouts.models import PAYOUT_CHANNELS

    gateways: dict[str, type] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        channel, eq, path = (s.strip() for s in item.partition("="))
        module, colon, name = path.partition(":")
        if not eq or not colon or not module or not name:
            raise ValueError(f"{item!r} is not CHANNEL=module:Class; accepted: {_GATEWAYS_HELP}")
        if channel not in PAYOUT_CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; channels: {', '.join(PAYOUT_CHANNELS)}")
        if channel in gateways:
            raise ValueError(f"channel {channel!r} is given twice; accepted: {_GATEWAYS_HELP}")
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"{path!r} cannot be imported ({exc}); accepted: {_GATEWAYS_HELP}") from None
        if not (isinstance(cls, type) and all(callable(getattr(cls, m, None)) for m in ("pay", "lookup"))):
            raise ValueError(f"{path!r} is not a gateway class with pay() and lookup(); accepted: {_GATEWAYS_HELP}")
        gateways[channel] = cls
    return gateways


# ---------------------------------------------------------------- the settings

PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Rate = Annotated[float, Field(ge=0, le=1)]


class Settings(BaseSettings):
    """Every setting of Refundesk. The environment variable is the field's name (upper case, exact)."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="forbid", validate_default=True, frozen=True)

    # --- deployment
    REFUNDESK_ENV: Literal["development", "testing", "production"] = Field(
        "development",
        description="`production` requires SECRET_KEY and turns secure cookies on; `testing` is the test suite "
        "(Flask TESTING, no in-process sweep).",
    )
    REFUNDESK_INSTANCE: Path = Field(
        BASE_DIR / "instance", description="Folder for the default SQLite database and evidence files."
    )
    SECRET_KEY: SecretStr | None = Field(
        None,
        description="Signs sessions, CSRF and tracker tokens. Required when REFUNDESK_ENV=production; a fixed "
        "development key otherwise.",
    )
    DATABASE_URL: str = Field(
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db (default: SQLite in REFUNDESK_INSTANCE).",
    )
    REDIS_URL: str | None = Field(
        None, description="rq queue and scheduler, rate-limit storage. Unset: jobs run inline, limits in memory."
    )
    SERVER_NAME: str | None = Field(None, description="Flask SERVER_NAME (host[:port]) for URLs outside requests.")
    PUBLIC_BASE_URL: str = Field(
        "",
        description="Base URL of links in e-mails and API answers (never taken from the Host header), "
        "e.g. https://desk.example.com. Required when REFUNDESK_ENV=production.",
    )
    COOKIE_SECURE: bool | None = Field(
        None, description="Session and remember cookies only over HTTPS (default: on in production, off otherwise)."
    )
    RATELIMIT_ENABLED: bool = Field(True, description="Rate limits on login, token and public endpoints.")
    PROXY_FIX_X_FOR: NonNegativeInt = Field(
        0, description="Behind a load balancer: how many proxies' X-Forwarded-For to trust (0: none)."
    )
    PROXY_FIX_X_PROTO: NonNegativeInt = Field(
        0, description="Behind a load balancer: how many proxies' X-Forwarded-Proto to trust (0: none)."
    )
    AUDIT_HMAC_KEY: SecretStr | None = Field(
        None,
        description="Key of the audit trail's HMAC hashes (app/workflow/events.py); unset: derived from SECRET_KEY.",
    )
    TZ_DISPLAY: str = Field(
        "Asia/Shanghai", description="IANA time zone times are shown in (stored in UTC); also the SLA calendar's zone."
    )
    MAX_CONTENT_LENGTH: PositiveInt = Field(110 * 1024 * 1024, description="Largest request body in bytes.")
    PAGE_SIZE: PositiveInt = Field(25, description="Default page size of lists and the API (at most 200).")

    # --- evidence
    STORAGE_BACKEND: Literal["local", "s3"] = Field(
        "local", description="Where evidence blobs live: `local` (EVIDENCE_DIR) or `s3` (S3_BUCKET, ...)."
    )
    EVIDENCE_DIR: str = Field(
        description="Local evidence storage, outside the web root (default: REFUNDESK_INSTANCE/evidence).",
    )
    EVIDENCE_TMP_DIR: str | None = Field(None, description="Staging folder for uploads to S3 (default: the system's).")
    S3_BUCKET: str | None = Field(None, description="S3 bucket for evidence; required when STORAGE_BACKEND=s3.")
    S3_ENDPOINT_URL: str | None = Field(None, description="S3-compatible endpoint (MinIO, OSS); unset: AWS.")
    S3_PREFIX: str = Field("evidence/", description="Key prefix of evidence objects in the bucket.")
    EVIDENCE_MAX_FILE_BYTES: PositiveInt = Field(20 * 1024 * 1024, description="Largest image or PDF, in bytes.")
    EVIDENCE_MAX_VIDEO_BYTES: PositiveInt = Field(100 * 1024 * 1024, description="Largest video, in bytes.")
    EVIDENCE_MAX_FILES: PositiveInt = Field(20, description="Most evidence files on one ticket.")
    EVIDENCE_MAX_TICKET_BYTES: PositiveInt = Field(200 * 1024 * 1024, description="Most evidence bytes on one ticket.")
    EVIDENCE_MAX_PIXELS: PositiveInt = Field(40_000_000, description="Largest image (width × height) decoded.")

    # --- workflow rules
    APPEAL_WINDOW_DAYS: PositiveInt = Field(15, description="Days after a rejection the customer may appeal, once.")
    REOPEN_WINDOW_DAYS: PositiveInt = Field(
        7, description="Days after a resolution the customer may reopen it, once (the fix did not work)."
    )
    REFUND_ARRIVAL: str = Field(
        "balance=0m,alipay=2h,wechat=2h,bank_card=5d",
        description="When refunded money should arrive per channel (app/tickets/arrival.py): "
        "`channel=N(m|h|d)`, comma-separated; m/h clock minutes/hours, d working days on the business calendar.",
    )
    NOTIFY_ADAPTERS: str = Field(
        "",
        description="Notification adapters (app/notifications/channels.py), "
        "e.g. `sms=pkg.module:Class,push=pkg.module:Class`.",
    )
    APPROVAL_LIMIT_CENTS: NonNegativeInt = Field(
        50_000, description="Largest refund (cents) an agent approves; above it a manager must."
    )

    # --- merchants (app/merchants): the merchant answers first for these kinds; its deadline is the SLA
    # metric merchant_response (default 48 business hours; override in SLA_POLICY)
    MERCHANT_STEP_ENABLED: bool = Field(True, description="Send merchant-responsible kinds to the merchant first.")
    MERCHANT_KINDS: str = Field(
        "not_delivered,invalid_card,not_as_described",
        description="Comma-separated ticket kinds the merchant answers first (see app/tickets/models.KINDS).",
    )
    MERCHANT_DEPOSIT_FLOOR_CENTS: NonNegativeInt = Field(
        100_000, description="Deposit (cents) below which a merchant is flagged and finance is told."
    )
    COLLECTIVE_WINDOW_HOURS: PositiveInt = Field(
        24, description="Collective complaints: hours in which tickets against one merchant/product are grouped."
    )
    COLLECTIVE_MIN_TICKETS: Annotated[int, Field(ge=2)] = Field(
        3, description="Collective complaints: tickets in the window that make a group (at least 2)."
    )
    WEBHOOK_MAX_ATTEMPTS: PositiveInt = Field(
        8, description="Webhook delivery attempts (with backoff) before a delivery is failed (replayable)."
    )

    # --- fast track (app/workflow/policies.py)
    FAST_TRACK_ENABLED: bool = Field(True, description="Automatic decisions on small, clear-cut tickets.")
    SMALL_AMOUNT_CENTS: NonNegativeInt = Field(5_000, description="Fast-track: largest refund (cents) decided alone.")
    COOLING_OFF_MINUTES: NonNegativeInt = Field(
        10, description="Fast-track: minutes a new ticket waits (the customer may still withdraw) before deciding."
    )
    STANDING_WINDOW_DAYS: PositiveInt = Field(30, description="Fast-track: days of a customer's history looked at.")
    STANDING_MAX_REFUNDS: NonNegativeInt = Field(
        3, description="Fast-track: most refunds a customer got in the window and still qualifies."
    )
    STANDING_MAX_REFUND_CENTS: NonNegativeInt = Field(
        20_000, description="Fast-track: most refunded cents in the window and still qualifies."
    )
    DUPLICATE_WINDOW_MINUTES: NonNegativeInt = Field(
        5, description="Fast-track: two charges of one order this close count as a duplicate charge."
    )

    # --- payouts (app/payouts)
    AUTO_PAY: bool = Field(True, description="Start the payout as soon as a ticket reaches finance.")
    PAYOUT_GATEWAYS: Annotated[dict[str, type], NoDecode] = Field(
        default_factory=dict,
        description="Gateway per channel: " + _GATEWAYS_HELP + ". Channels not named use the balance ledger "
        "(balance) or the simulator.",
    )
    PAYOUT_SIM_LATENCY_MS: NonNegativeInt = Field(0, description="Simulated gateway: delay of each transfer, in ms.")
    PAYOUT_SIM_FAILURE_RATE: Rate = Field(0.0, description="Simulated gateway: share of transient failures (0–1).")
    PAYOUT_SIM_DECLINE_RATE: Rate = Field(0.0, description="Simulated gateway: share of permanent declines (0–1).")
    PAYOUT_RETRIES: NonNegativeInt = Field(4, description="Job retries (with backoff) of a transient payout failure.")
    PAYOUT_MAX_ATTEMPTS: PositiveInt = Field(5, description="Gateway attempts before a payout is marked failed.")
    PAYOUT_STUCK_MINUTES: PositiveInt = Field(
        10, description="Minutes after which a running payout counts as stuck (reconciliation)."
    )

    # --- SLA (app/sla); the defaults of the two languages are their text, parsed like the environment's
    SLA_WORK_HOURS: Annotated[WorkHours, NoDecode] = Field(  # type: ignore[assignment]
        "1-5 09:00-18:00", description="Working hours of the SLA calendar (TZ_DISPLAY): " + _HOURS_HELP + "."
    )
    SLA_POLICY: Annotated[SlaPolicy, NoDecode] = Field(  # type: ignore[assignment]
        "",
        description="SLA target overrides (defaults: first_response=4h, review_decision=2d, payout=1d): "
        "comma-separated METRIC=DURATION or KIND.METRIC=DURATION, DURATION like 4h, 30m, 2d, 1d4h30m "
        "(business time, d = one working day of SLA_WORK_HOURS), KIND a ticket kind, "
        'e.g. "review_decision=1d,duplicate_charge.payout=4h".',
    )
    SLA_WARN_RATIO: float = Field(0.75, gt=0, lt=1, description="Share of a target used when the warning fires.")
    SLA_EVIDENCE_DAYS: PositiveInt = Field(7, description="Calendar days the customer has to provide evidence.")
    SLA_EVIDENCE_REMINDER_DAYS: NonNegativeInt = Field(
        2, description="Days before the end of the evidence window the customer is reminded."
    )
    SLA_INPROCESS_SWEEP: bool = Field(
        True, description="Without REDIS_URL, the serving process sweeps SLA deadlines in a thread."
    )
    SLA_SWEEP_SECONDS: Annotated[int, Field(ge=5)] = Field(60, description="Interval of the in-process sweep (≥ 5).")

    TRACKER_FRESH_SECONDS: NonNegativeFloat = Field(
        1.0,
        description="The public tracker page serves its cached HTML this long without checking the ticket "
        "(a change shows within this bound; 0: check on every request). See app/tickets/tracker_cache.py.",
    )
    STAFF_PAGE_CACHE_SECONDS: NonNegativeFloat = Field(
        10.0,
        description="Longest a cached staff page (queue, ticket page) may lag behind other people's changes "
        "(one's own show at once; 0: no cache). See app/page_cache.py.",
    )

    # --- e-mail (app/notifications)
    SMTP_HOST: str | None = Field(None, description="SMTP server; unset: e-mails are logged, not sent.")
    SMTP_PORT: Annotated[int, Field(gt=0, lt=65536)] = Field(25, description="SMTP port.")
    SMTP_USER: str | None = Field(None, description="SMTP login (unset: no AUTH).")
    SMTP_PASSWORD: SecretStr | None = Field(None, description="SMTP password.")
    SMTP_STARTTLS: bool = Field(False, description="STARTTLS after connecting.")
    MAIL_FROM: str = Field("refundesk@localhost", description="From address of notification e-mails.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)  # keyword arguments first, then the environment; no .env files

    @classmethod
    def from_values(cls, **values: Any) -> Settings:
        """These values and the defaults only: the environment is not read (tests, scripts)."""
        return _ExplicitSettings(**values)

    @model_validator(mode="before")
    @classmethod
    def _instance_defaults(cls, data: Any) -> Any:
        """DATABASE_URL and EVIDENCE_DIR default to files under REFUNDESK_INSTANCE."""
        if isinstance(data, dict):
            instance = Path(data.get("REFUNDESK_INSTANCE") or BASE_DIR / "instance")
            data.setdefault("DATABASE_URL", f"sqlite:///{instance / 'refundesk.sqlite3'}")
            data.setdefault("EVIDENCE_DIR", str(instance / "evidence"))
        return data

    # --- validators of the small languages (strings from the environment; typed values pass through)

    @field_validator("SLA_WORK_HOURS", mode="before")
    @classmethod
    def _work_hours(cls, value: object) -> object:
        return parse_work_hours(value) if isinstance(value, str) else value

    @field_validator("SLA_POLICY", mode="before")
    @classmethod
    def _sla_policy(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):  # if SLA_WORK_HOURS is bad (reported on its own), check against the default
            return parse_sla_policy(value, info.data.get("SLA_WORK_HOURS") or parse_work_hours("1-5 09:00-18:00"))
        return value

    @field_validator("PAYOUT_GATEWAYS", mode="before")
    @classmethod
    def _gateways(cls, value: object) -> object:
        return parse_payout_gateways(value) if isinstance(value, str) else value

    @field_validator("TZ_DISPLAY")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone; accepted: names like Asia/Shanghai, UTC") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.REFUNDESK_ENV == "production" and (self.SECRET_KEY is None or not self.SECRET_KEY.get_secret_value()):
            raise ValueError("SECRET_KEY must be set when REFUNDESK_ENV=production")
        if self.REFUNDESK_ENV == "production" and not self.PUBLIC_BASE_URL:  # links are never built from Host
            raise ValueError(
                "PUBLIC_BASE_URL must be set when REFUNDESK_ENV=production (e.g. https://desk.example.com)"
            )
        if self.STORAGE_BACKEND == "s3" and not self.S3_BUCKET:
            raise ValueError("S3_BUCKET must be set when STORAGE_BACKEND=s3")
        return self

    # --- into app.config

    @property
    def cookie_secure(self) -> bool:
        return self.REFUNDESK_ENV == "production" if self.COOKIE_SECURE is None else self.COOKIE_SECURE

    @field_validator("REFUND_ARRIVAL")
    @classmethod
    def _check_refund_arrival(cls, value: str) -> str:
        from app.payouts.models import PAYOUT_CHANNELS

        for item in filter(None, (p.strip() for p in value.split(","))):
            channel, _, spec = item.partition("=")
            if channel.strip() not in PAYOUT_CHANNELS or not re.fullmatch(r"\d+[mhd]", spec.strip()):
                raise ValueError(
                    f"{item!r}: use channel=N followed by m, h or d, channels {', '.join(PAYOUT_CHANNELS)}"
                )
        return value

    @field_validator("MERCHANT_KINDS")
    @classmethod
    def _check_merchant_kinds(cls, value: str) -> str:
        from app.tickets.models import KINDS

        unknown = [k for k in (p.strip() for p in value.split(",")) if k and k not in KINDS]
        if unknown:
            raise ValueError(f"unknown kind(s) {', '.join(unknown)}; accepted: {', '.join(KINDS)}")
        return value

    @field_validator("NOTIFY_ADAPTERS")
    @classmethod
    def _check_notify_adapters(cls, value: str) -> str:
        for item in filter(None, (p.strip() for p in value.split(","))):
            channel, _, path = item.partition("=")
            if channel.strip() not in ("email", "sms", "push") or ":" not in path:
                raise ValueError(f"{item!r}: use email|sms|push=package.module:Class")
        return value

    def flask_config(self) -> dict[str, object]:
        """The app.config mapping: every field by name (typed, secrets revealed) plus the derived Flask keys."""
        values: dict[str, object] = {name: getattr(self, name) for name in type(self).model_fields}
        secret = self.SECRET_KEY.get_secret_value() if self.SECRET_KEY else DEV_SECRET_KEY
        values.update(
            SECRET_KEY=secret,
            SMTP_PASSWORD=self.SMTP_PASSWORD.get_secret_value() if self.SMTP_PASSWORD else None,
            ENV_NAME=self.REFUNDESK_ENV,
            TESTING=self.REFUNDESK_ENV == "testing",
            SQLALCHEMY_DATABASE_URI=self.DATABASE_URL,
            SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False},  # liveness without a round trip: app/extensions.py
            BABEL_DEFAULT_LOCALE="zh_Hans_CN",
            BABEL_DEFAULT_TIMEZONE=self.TZ_DISPLAY,
            LANGUAGES=["zh_Hans_CN", "en"],
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=self.cookie_secure,
            REMEMBER_COOKIE_SECURE=self.cookie_secure,
            REMEMBER_COOKIE_HTTPONLY=True,
            WTF_CSRF_TIME_LIMIT=None,
            RATELIMIT_STORAGE_URI=self.REDIS_URL or "memory://",
            RATELIMIT_HEADERS_ENABLED=True,  # X-RateLimit-* and Retry-After on every limited answer
            RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,  # Redis down: count in memory (and log it), never 500
            AUDIT_HMAC_KEY=self.AUDIT_HMAC_KEY.get_secret_value() if self.AUDIT_HMAC_KEY else "",
        )
        return values


class _ExplicitSettings(Settings):
    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class SettingsError(RuntimeError):
    """Bad settings at boot: one line per variable, each saying what is accepted."""


def load_settings() -> Settings:
    """Settings from the environment, or SettingsError naming every bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise settings_error(exc) from None


_SECRET_NAMES = {"SECRET_KEY", "SMTP_PASSWORD", "AUDIT_HMAC_KEY"}


def settings_error(exc: ValidationError) -> SettingsError:
    lines = []
    for err in exc.errors(include_url=False):
        name = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if not name:  # a rule across variables: the message names them
            lines.append(f"  {msg}")
            continue
        given = "" if name in _SECRET_NAMES else f" (got {err['input']!r})"
        lines.append(f"  {name}{given}: {msg}")
    return SettingsError("invalid settings:\n" + "\n".join(lines))
