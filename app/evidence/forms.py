"""Forms of the evidence partials (Flask-WTF: CSRF on every post)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FileField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.inputs import InputForm


class EvidenceUploadForm(InputForm):
    file = FileField(_l("File"), validators=[DataRequired(message=_l("Choose a file to upload."))])
    item = HiddenField(validators=[Optional(), Length(max=64)])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])
    key = HiddenField(validators=[Optional(), Length(max=80)])  # which form of the page (its errors show there)
    next = HiddenField()


class ItemAnswerForm(InputForm):
    item = HiddenField(validators=[DataRequired(), Length(max=64)])
    answer = TextAreaField(
        _l("Cannot provide it? Tell us why"),
        validators=[DataRequired(message=_l("Write why you cannot provide this item.")), Length(max=2000)],
    )
    next = HiddenField()
