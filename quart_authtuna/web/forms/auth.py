"""Forms of the sign-in area; field names are upstream AuthTuna's."""

from __future__ import annotations

from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .base import AuthTunaForm

_REQUIRED = DataRequired(message="This field is required.")
#: Generous shape limits; the password policy itself is enforced by the core.
_PASSWORD = [_REQUIRED, Length(max=1024, message="Passwords can be at most 1024 characters.")]
_EMAIL = [_REQUIRED, Length(max=254, message="That email address is too long.")]


class LoginForm(AuthTunaForm):
    username_or_email = StringField("Username or email", [_REQUIRED, Length(max=320)],
                                    render_kw={"autocomplete": "username webauthn",
                                               "autofocus": True})
    password = PasswordField("Password", _PASSWORD,
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class SignupForm(AuthTunaForm):
    username = StringField("Username", [_REQUIRED, Length(max=64)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    email = EmailField("Email", _EMAIL, render_kw={"autocomplete": "email"})
    password = PasswordField("Password", _PASSWORD, render_kw={"autocomplete": "new-password"})


class EmailForm(AuthTunaForm):
    email = EmailField("Email", _EMAIL, render_kw={"autocomplete": "email", "autofocus": True})


class TokenForm(AuthTunaForm):
    token = HiddenField(validators=[_REQUIRED, Length(max=256)])


class ResetPasswordForm(AuthTunaForm):
    token = HiddenField(validators=[_REQUIRED, Length(max=256)])
    new_password = PasswordField("New password", _PASSWORD,
                                 render_kw={"autocomplete": "new-password", "autofocus": True})


class ChangePasswordForm(AuthTunaForm):
    current_password = PasswordField("Current password", _PASSWORD,
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("New password", _PASSWORD,
                                 render_kw={"autocomplete": "new-password"})


class ReauthenticateForm(AuthTunaForm):
    password = PasswordField("Password", _PASSWORD,
                             render_kw={"autocomplete": "current-password", "autofocus": True})
    next = HiddenField()


class PasskeySignupForm(AuthTunaForm):
    """Sign-up with a passkey instead of a password: the ceremony follows."""

    username = StringField("Username", [_REQUIRED, Length(max=64)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    email = EmailField("Email", _EMAIL, render_kw={"autocomplete": "email"})


class SetPasswordForm(AuthTunaForm):
    new_password = PasswordField("New password", _PASSWORD,
                                 render_kw={"autocomplete": "new-password", "autofocus": True})


class RecoveryLoginForm(AuthTunaForm):
    username_or_email = StringField("Username or email", [_REQUIRED, Length(max=320)],
                                    render_kw={"autocomplete": "username", "autofocus": True})
    code = StringField("Recovery code", [_REQUIRED, Length(max=64)],
                       render_kw={"autocomplete": "one-time-code", "spellcheck": "false"})
