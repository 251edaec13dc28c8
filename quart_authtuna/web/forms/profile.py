"""Forms of the user area (profile); the rules themselves are the core's."""

from __future__ import annotations

from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length

from .base import AuthTunaForm

_REQUIRED = DataRequired(message="This field is required.")


class UsernameForm(AuthTunaForm):
    username = StringField("Username", [_REQUIRED, Length(max=64)],
                           render_kw={"autocomplete": "username"})


class EmailChangeForm(AuthTunaForm):
    email = EmailField("New email address", [_REQUIRED, Length(max=254)],
                       render_kw={"autocomplete": "email", "autofocus": True})
