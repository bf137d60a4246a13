"""Knowledge-base forms (admins). Field shapes only; the rules live in services.py."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from app.inputs import InputForm
from app.kb.render import MAX_BODY


class PageForm(InputForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired(), Length(max=MAX_BODY)])
    base = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0)])


class RestoreForm(InputForm):
    base = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0)])
