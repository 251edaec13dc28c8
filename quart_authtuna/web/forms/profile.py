"""Forms of the user area (profile); the rules themselves are the core's."""

from __future__ import annotations

from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length

from ...core.i18n import lazy_gettext as _l
from .base import AuthTunaForm

_REQUIRED = DataRequired(message=_l("This field is required."))


class UsernameForm(AuthTunaForm):
    username = StringField(_l("Username"), [_REQUIRED, Length(max=64)],
                           render_kw={"autocomplete": "username"})


class EmailChangeForm(AuthTunaForm):
    email = EmailField(_l("New email address"), [_REQUIRED, Length(max=254)],
                       render_kw={"autocomplete": "email", "autofocus": True})
