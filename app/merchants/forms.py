"""Forms of the merchant desk and the staff merchant pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.inputs import InputForm
from app.merchants.workflow import ANSWERS


class AnswerForm(InputForm):
    """One of the merchant's three answers; workflow rules (deadline, amount, evidence) stay in the service."""

    event = HiddenField(validators=[DataRequired()])
    version = IntegerField(validators=[Optional()])
    amount = DecimalField(_l("Refund amount (¥)"), places=2, validators=[Optional(), NumberRange(min=0.01)])
    reason = TextAreaField(_l("Reason (for the agent)"), validators=[Length(max=5000)])
    note = TextAreaField(_l("Note or new delivery (e.g. the replacement card key)"), validators=[Length(max=5000)])

    def validate_event(self, field) -> None:
        if field.data not in ANSWERS:
            raise ValidationError(_l("Unknown action."))

    def amount_cents(self) -> int | None:
        return int(round(self.amount.data * 100)) if self.amount.data is not None else None


class MerchantMessageForm(InputForm):
    body = TextAreaField(_l("Message to the customer"), validators=[DataRequired(), Length(max=5000)])


class TopUpForm(InputForm):
    amount = DecimalField(_l("Amount (¥)"), places=2, validators=[DataRequired(), NumberRange(min=0.01, max=10**9)])
    note = StringField(_l("Note"), validators=[Length(max=200)])


class StandingForm(InputForm):
    action = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class ReissueFeedbackForm(InputForm):
    """The customer: does the merchant's replacement work?"""

    works = RadioField(
        _l("Does the replacement work?"),
        choices=[SelectChoice("yes", _l("Yes, it works")), SelectChoice("no", _l("No, it does not work"))],
        validators=[DataRequired(_l("Choose whether it works."))],
    )
    note = TextAreaField(_l("Anything support should know (optional)"), validators=[Length(max=1000)])
