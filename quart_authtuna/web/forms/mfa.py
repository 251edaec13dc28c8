"""Forms of the MFA area."""

from __future__ import annotations

from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ...core.i18n import lazy_gettext as _l
from .base import AuthTunaForm

_CODE = [DataRequired(message=_l("Enter a code.")), Length(max=32)]


class CodeForm(AuthTunaForm):
    """A TOTP code (or, where accepted, a recovery code)."""

    code = StringField(_l("Code"), _CODE, render_kw={"autocomplete": "one-time-code",
                                                "inputmode": "text", "autofocus": True,
                                                "spellcheck": "false"})
    next = HiddenField()


class ValidateLoginForm(CodeForm):
    """JSON twin of the challenge page: ``{"mfa_token", "code"}`` (a refused form post gets
    the challenge page back, so it has the page's fields too)."""

    mfa_token = StringField(validators=[DataRequired(), Length(max=128)])


class RegenerateCodesForm(AuthTunaForm):
    """A new set of recovery codes: only CSRF is checked (the page is the disable page)."""

    code = StringField(_l("Code"), [Optional(), Length(max=32)])
