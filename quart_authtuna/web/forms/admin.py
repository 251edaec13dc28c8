"""Forms of the admin area (each action posts one of these, from a page or as JSON)."""

from __future__ import annotations

from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ...core.i18n import lazy_gettext as _l
from .base import AuthTunaForm


class ConfirmForm(AuthTunaForm):
    """An action with nothing to fill in: only CSRF is checked (the button is the intent)."""


class ReasonForm(AuthTunaForm):
    """Suspend or unsuspend: an optional reason, kept in the audit log."""

    reason = StringField(_l("Reason"), [Optional(), Length(max=500)])


class RoleForm(AuthTunaForm):
    """Assign or revoke a role at a scope (upstream's ``{user_id, role_name, scope}``)."""

    user_id = HiddenField(validators=[DataRequired(message=_l("Which user?")), Length(max=64)])
    role_name = StringField(_l("Role"),
                            [DataRequired(message=_l("Choose a role.")), Length(max=80)])
    scope = StringField(_l("Scope"), [Optional(), Length(max=255)], default="global",
                        render_kw={"spellcheck": "false", "autocapitalize": "off"})
