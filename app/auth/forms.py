"""Log-in and sign-up forms."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.inputs import InputForm


class LoginForm(InputForm):
    # No format check here: a wrong address simply does not log in.
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Required.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Required.")), Length(max=200)])
    submit = SubmitField(_l("Log in"))


class RegisterForm(InputForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(_l("Required.")), Email(_l("Enter a valid e-mail address.")), Length(max=254)],
    )
    name = StringField(_l("Name (optional)"), validators=[Length(max=100)])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Required.")), Length(min=10, max=200, message=_l("Use 10 to 200 characters."))],
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[DataRequired(_l("Required.")), EqualTo("password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Create account"))


class ChangePasswordForm(InputForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(_l("Required.")), Length(max=200)])
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Required.")), Length(min=10, max=200, message=_l("Use 10 to 200 characters."))],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(_l("Required.")), EqualTo("password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))
