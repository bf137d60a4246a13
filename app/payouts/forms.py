"""Finance desk forms. Field shapes only; payout and workflow rules live in the services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField, DecimalField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.inputs import InputForm
from app.tickets.labels import PRODUCT_TYPE_LABELS
from app.tickets.models import PAYMENT_CHANNELS, PRODUCT_TYPES

MAX_REPORT_DAYS = 366


def to_utc(local: datetime | None) -> datetime | None:
    """A naive datetime typed in TZ_DISPLAY (Asia/Shanghai) → aware UTC."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(current_app.config["TZ_DISPLAY"])).astimezone(UTC)


class PayForm(InputForm):
    channel = SelectField(_l("Pay to"), validate_choice=False)


class RetryForm(InputForm):
    """Retry a failed payout: on its channel, or (after a decline, which closes that channel for
    the ticket) on another one; the service checks which."""

    channel = SelectField(_l("Retry on"), validate_choice=False)


class BulkPayForm(InputForm):
    """Pay the selected tickets (checkboxes named `ref`) to their original channel or the balance."""

    ref = SelectMultipleField(_l("Selected tickets"), validate_choice=False)
    channel = SelectField(
        _l("Pay to"),
        choices=[
            SelectChoice("original", _l("Each order's original channel")),
            SelectChoice("balance", _l("Platform balance")),
        ],
        default="original",
    )


AGE_CHOICES = (1, 3, 7, 14, 30)
MAX_YUAN = Decimal("10000000")


class QueueFilterForm(InputForm):
    """GET filters of the finance desk (amounts typed in yuan)."""

    class Meta:
        csrf = False

    channel = SelectField(_l("Original channel"), validate_choice=False)
    min_yuan = DecimalField(_l("From (¥)"), places=2, validators=[Optional(), NumberRange(min=0, max=MAX_YUAN)])
    max_yuan = DecimalField(_l("To (¥)"), places=2, validators=[Optional(), NumberRange(min=0, max=MAX_YUAN)])
    age = SelectField(_l("Waiting for at least"), validate_choice=False)

    def validate_channel(self, field) -> None:
        if field.data and field.data not in PAYMENT_CHANNELS:
            raise ValidationError(_l("Unknown channel."))

    def validate_age(self, field) -> None:
        if field.data and field.data not in {str(d) for d in AGE_CHOICES}:
            raise ValidationError(_l("Choose one of the listed ages."))

    def validate_max_yuan(self, field) -> None:
        if field.data is not None and self.min_yuan.data is not None and field.data < self.min_yuan.data:
            raise ValidationError(_l("The upper amount must not be below the lower one."))

    @staticmethod
    def cents(value: Decimal | None) -> int | None:
        return None if value is None else int((value * 100).to_integral_value())


class ReturnForm(InputForm):
    reason = TextAreaField(
        _l("What is wrong"), validators=[DataRequired(_l("A reason is required.")), Length(max=2000)]
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class IncidentForm(InputForm):
    starts_at = DateTimeLocalField(
        _l("Start (Beijing time)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired(_l("Required."))]
    )
    ends_at = DateTimeLocalField(
        _l("End (Beijing time, empty while it lasts)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    product_types = MultiCheckboxField(
        _l("Affected product types"),
        choices=[SelectChoice(t, PRODUCT_TYPE_LABELS[t]) for t in PRODUCT_TYPES],
        validators=[Optional()],
    )
    note = TextAreaField(_l("What happened"), validators=[DataRequired(_l("Required.")), Length(max=2000)])

    def validate_ends_at(self, field) -> None:
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The end must be after the start."))


class EndIncidentForm(InputForm):
    ends_at = DateTimeLocalField(
        _l("End (Beijing time)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired(_l("Required."))]
    )


class ReportRangeForm(InputForm):
    """GET filter: local days, inclusive."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])

    def validate_end(self, field) -> None:
        if field.data and self.start.data:
            if field.data < self.start.data:
                raise ValidationError(_l("The end must not be before the start."))
            if (field.data - self.start.data).days >= MAX_REPORT_DAYS:
                raise ValidationError(_l("Choose at most a year."))

    def range(self, today: date) -> tuple[date, date]:
        """The chosen days, or the last 30 days when the filter is empty or invalid."""
        if self.validate():
            end = self.end.data or today
            start = self.start.data or end - timedelta(days=29)
            return max(start, end - timedelta(days=MAX_REPORT_DAYS - 1)), end
        return today - timedelta(days=29), today
