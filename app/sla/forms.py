"""Forms of the business-calendar admin page (app/sla/views.py)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class BusinessDateForm(FlaskForm):
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


class RemoveDateForm(FlaskForm):
    day = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Remove"))
