"""Forms of the business-calendar admin page (app/sla/views.py)."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from app.inputs import InputForm, parse_day


class BusinessDateForm(InputForm):
    day = DateField(_l("Date"), validators=[DataRequired(_l("Required."))])
    kind = SelectField(
        _l("The desk"),
        choices=[
            SelectChoice("holiday", _l("is closed (holiday)")),
            SelectChoice("workday", _l("works (working day)")),
        ],
    )
    note = StringField(_l("Note"), validators=[Length(max=200)])
    submit = SubmitField(_l("Save"))


class RemoveDateForm(InputForm):
    day = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Remove"))

    def validate_day(self, field) -> None:
        try:
            parse_day(field.data)
        except ValueError:
            raise ValidationError(_l("Dates are YYYY-MM-DD.")) from None
