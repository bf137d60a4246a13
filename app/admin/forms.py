"""Admin forms. Field shapes only; who may do what and the guards live in the services."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.admin.services import ACTIONS, TOKEN_DAYS
from app.auth.permissions import ROLES
from app.inputs import InputForm
from app.tickets.progress import role_label

ACTION_LABELS = {
    "user_created": _l("Account created"),
    "user_disabled": _l("Account disabled"),
    "user_enabled": _l("Account enabled"),
    "role_changed": _l("Role changed"),
    "password_reset": _l("Password reset"),
    "token_created": _l("API token created"),
    "token_revoked": _l("API token revoked"),
    "merchant_top_up": _l("Merchant deposit topped up"),
    "merchant_suspend": _l("Merchant suspended"),
    "merchant_unsuspend": _l("Merchant suspension lifted"),
    "merchant_blacklist": _l("Merchant blacklisted"),
    "merchant_unblacklist": _l("Merchant taken off the blacklist"),
    "incident_declared": _l("Incident declared"),
    "incident_ended": _l("Incident end set"),
    "calendar_date_set": _l("Calendar date set"),
    "calendar_date_removed": _l("Calendar date removed"),
    "kb_page_saved": _l("Refund policy saved"),
    "kb_page_restored": _l("Refund policy restored to an old version"),
    "macro_saved": _l("Macro saved"),
    "macro_deleted": _l("Macro removed"),
    "webhook_host_allowed": _l("Webhook host allowed"),
}
LANGUAGES = [SelectChoice("zh_Hans_CN", "中文"), SelectChoice("en", "English")]


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(r, role_label(r)) for r in ROLES]


class UserForm(InputForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(_l("Required.")), Email(_l("Enter a valid e-mail address.")), Length(max=254)],
    )
    name = StringField(_l("Name (optional)"), validators=[Length(max=100)])
    role = SelectField(_l("Role"), choices=role_choices, default="agent")
    locale = SelectField(_l("Language"), choices=LANGUAGES, default="zh_Hans_CN")
    merchant = StringField(
        _l("Merchant code (merchant accounts only)"), validators=[Optional(), Length(max=40)], filters=[_strip]
    )
    submit = SubmitField(_l("Create account"))


class RoleForm(InputForm):
    role = SelectField(_l("Role"), choices=role_choices)
    submit = SubmitField(_l("Change role"))


class ConfirmForm(InputForm):
    """A button that only needs the CSRF token (disable, enable, reset password, revoke)."""


class TokenForm(InputForm):
    user = SelectField(_l("Platform account"), coerce=int, validate_choice=False)
    label = StringField(
        _l("What it is for"),
        validators=[DataRequired(_l("Required.")), Length(max=100)],
        description=_l("e.g. shop, production"),
    )
    days = SelectField(
        _l("Valid for"),
        coerce=int,
        choices=[SelectChoice(d, _l("%(n)s days", n=d)) for d in TOKEN_DAYS],
        default=365,
    )
    submit = SubmitField(_l("Create token"))


class UserFilterForm(InputForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    role = SelectField(
        _l("Role"), choices=lambda: [SelectChoice("", _l("All roles")), *role_choices()], validators=[Optional()]
    )
    page = IntegerField(validators=[Optional()])


class AuditFilterForm(InputForm):
    """GET filter: actor, action, local days (inclusive), page."""

    class Meta:
        csrf = False

    actor = SelectField(_l("Who"), coerce=int, validate_choice=False, validators=[Optional()])
    action = SelectField(
        _l("Action"),
        choices=lambda: [("", _l("All actions"))] + [(a, action_label(a)) for a in ACTIONS],
        validators=[Optional()],
    )
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    page = IntegerField(validators=[Optional()])

    def validate_end(self, field) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end must not be before the start."))

    def utc_range(self) -> tuple[datetime | None, datetime | None]:
        """[start of the first day, start of the day after the last) in UTC; the days are local."""
        tz = ZoneInfo(current_app.config["TZ_DISPLAY"])

        def at_midnight(day: date | None, plus: int = 0) -> datetime | None:
            if day is None:
                return None
            return datetime.combine(day + timedelta(days=plus), time(), tzinfo=tz).astimezone(UTC)

        return at_midnight(self.start.data), at_midnight(self.end.data, 1)
