"""Forms of the account settings: sessions, API keys, deleting the account."""

from __future__ import annotations

from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # 3.3, unstubbed
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ...core.i18n import lazy_gettext as _l
from .base import AuthTunaForm

#: The expiry choices a browser offers (days); JSON clients send ``valid_seconds``.
EXPIRY_DAYS = [SelectChoice(str(days), label) for days, label in
               ((30, _l("30 days")), (90, _l("90 days")), (365, _l("1 year")),
                (1095, _l("3 years")))]
KEY_TYPES = [("secret", _l("Secret key: acts with the roles you choose")),
             ("test", _l("Test key: like a secret key, for testing")),
             ("public", _l("Publishable key: identifies you, grants nothing")),
             ("master", _l("Master key: everything your account can do"))]


class CreateApiKeyForm(AuthTunaForm):
    """A new key; the chosen ``scopes`` (``Role:scope``) are read as a list beside it."""

    name = StringField(_l("Name"),
                       [DataRequired(message=_l("Give the key a name.")), Length(max=100)],
                       render_kw={"maxlength": 100, "autocomplete": "off",
                                  "placeholder": _l("e.g. Deploy script")})
    key_type = StringField(_l("Type"), [Optional(), Length(max=20)], default="secret")
    valid_days = SelectField(_l("Expires after"), [Optional()], choices=EXPIRY_DAYS, coerce=int,
                             default=365)
    valid_seconds = IntegerField(_l("Valid for (seconds)"), [Optional(), NumberRange(min=1)])

    def lifetime(self) -> float | None:
        """Seconds the key stays valid (None: the default)."""
        if self.valid_seconds.data:
            return float(self.valid_seconds.data)
        days = self.valid_days.data
        return float(days) * 86_400 if isinstance(days, int) and days > 0 else None


class DeleteAccountForm(AuthTunaForm):
    confirmation = StringField(
        _l("Type your username to confirm"), [DataRequired(message=_l("Type your username.")),
                                          Length(max=200)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
