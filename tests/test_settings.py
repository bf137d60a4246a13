"""Settings: read from the environment when the app is created, validated at boot, explicit in tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from app import create_app
from app.payouts.gateways import SimulatedGateway, get_gateway
from app.settings import Settings, SettingsError
from tests.factories import make_ticket
from tests.helpers import make_settings

SH = ZoneInfo("Asia/Shanghai")


class RecordingGateway(SimulatedGateway):
    """A stand-in for a real adapter named in PAYOUT_GATEWAYS."""


@pytest.fixture(autouse=True)
def _harmless_environment(monkeypatch):
    """Apps built from the environment here never reach a real database or Redis of the shell."""
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.delenv("REDIS_URL", raising=False)


def test_create_app_reads_the_environment_when_called(monkeypatch):
    monkeypatch.setenv("PAGE_SIZE", "7")
    monkeypatch.setenv("SLA_POLICY", "review_decision=1d")
    app = create_app()
    assert app.config["PAGE_SIZE"] == 7
    assert app.config["SLA_POLICY"].target("review_decision", "other") == timedelta(hours=9)


def test_the_shells_environment_does_not_leak_into_test_settings(monkeypatch):
    monkeypatch.setenv("PAGE_SIZE", "7")
    monkeypatch.setenv("SLA_POLICY", "review_decision=2x")  # would stop create_app() (see below)
    monkeypatch.setenv("REFUNDESK_ENV", "production")
    settings = make_settings()
    assert settings.PAGE_SIZE == 25 and settings.REFUNDESK_ENV == "testing"
    assert create_app(settings).config["SLA_POLICY"].target("review_decision", "other") == timedelta(hours=18)


def test_the_app_fixture_ignores_the_shell_too(app):
    # conftest built `app` in a process whose environment may hold anything; only the defaults count
    assert app.config["PAGE_SIZE"] == 25 and app.config["TESTING"] is True


@pytest.mark.parametrize(
    "name, value, accepted",
    [
        ("SLA_POLICY", "review_decision=2x", "DURATION like 4h"),
        ("SLA_POLICY", "review=1d", "METRIC one of first_response, review_decision, payout"),
        ("SLA_POLICY", "refund_please.payout=4h", "KIND one of wrong_order"),
        ("SLA_POLICY", "payout", "METRIC=DURATION"),
        ("SLA_WORK_HOURS", "1-5 9-18", "HH:MM-HH:MM"),
        ("SLA_WORK_HOURS", "8 09:00-18:00", "ISO weekdays"),
        ("SLA_WORK_HOURS", "1-5 18:00-09:00", "HH:MM-HH:MM"),
        ("SLA_WORK_HOURS", "1-5 09:00-13:00,12:00-18:00", "overlapping"),
        ("PAYOUT_GATEWAYS", "alipay=no.such.module:Gateway", "CHANNEL=module.path:ClassName"),
        ("PAYOUT_GATEWAYS", "alipay", "CHANNEL=module.path:ClassName"),
        ("PAYOUT_GATEWAYS", "paypal=tests.test_settings:RecordingGateway", "channels: balance, alipay"),
        ("PAYOUT_GATEWAYS", "alipay=tests.test_settings:SH", "pay() and lookup()"),
        ("PAGE_SIZE", "ten", "valid integer"),
        ("PAGE_SIZE", "0", "greater than 0"),
        ("PAYOUT_SIM_FAILURE_RATE", "1.5", "less than or equal to 1"),
        ("AUTO_PAY", "maybe", "valid boolean"),
        ("TZ_DISPLAY", "Asia/Beijing", "IANA time zone"),
        ("STORAGE_BACKEND", "ftp", "'local' or 's3'"),
    ],
)
def test_a_bad_value_stops_create_app_naming_the_variable_and_what_is_accepted(monkeypatch, name, value, accepted):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        create_app()
    message = str(err.value)
    assert f"{name} (got {value!r})" in message and accepted in message, message


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.setenv("REFUNDESK_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="SECRET_KEY must be set when REFUNDESK_ENV=production"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "s3cret-from-the-vault")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://desk.example.com")
    app = create_app()
    assert app.secret_key == "s3cret-from-the-vault"
    assert app.config["SESSION_COOKIE_SECURE"] is True  # production default


def test_secrets_are_not_echoed_in_the_error(monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("SMTP_PORT", "smtp")
    with pytest.raises(SettingsError) as err:
        create_app()
    assert "SMTP_PORT" in str(err.value) and "hunter2" not in str(err.value)


def test_s3_storage_needs_a_bucket():
    with pytest.raises(ValueError, match="S3_BUCKET must be set when STORAGE_BACKEND=s3"):
        make_settings(STORAGE_BACKEND="s3")


def test_a_misspelt_setting_in_code_is_refused():
    with pytest.raises(ValueError, match="PAGESIZE"):
        make_settings(PAGESIZE=10)


def test_every_setting_is_documented():
    undocumented = [name for name, field in Settings.model_fields.items() if not (field.description or "").strip()]
    assert undocumented == []


@pytest.mark.settings(PAYOUT_GATEWAYS="alipay=tests.test_settings:RecordingGateway")
def test_payout_gateways_name_the_class_used_for_a_channel(app):
    assert type(get_gateway("alipay")) is RecordingGateway
    assert type(get_gateway("wechat")) is SimulatedGateway


@pytest.mark.settings(SLA_WORK_HOURS="1-5 10:00-12:00,14:00-16:00", SLA_POLICY="review_decision=1d")
def test_work_hours_and_policy_drive_the_sla_clock(app):
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=SH), tick=False):  # Monday
        ticket = make_ticket("review")
    # one working day = 4h of these hours: 10–12 and 14–16 on Monday
    assert ticket.sla_due_at.astimezone(SH) == datetime(2026, 11, 23, 16, 0, tzinfo=SH)
