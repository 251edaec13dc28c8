"""The admin's permission form (upstream's ``{name, description}``); core checks the name."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .base import AuthTunaForm


class PermissionForm(AuthTunaForm):
    """A new permission: its ``resource:action`` name and what it lets a role do."""

    name = StringField("Name", [DataRequired(message="Give the permission a name."),
                                Length(max=80, message="Use at most 80 characters.")],
                       render_kw={"spellcheck": "false", "autocapitalize": "off",
                                  "autocomplete": "off", "maxlength": 80})
    description = TextAreaField("Description", [Optional(), Length(max=255)],
                                render_kw={"maxlength": 255, "rows": 3})
