"""Forms of the admin roles pages (each posted from a page, or sent as JSON)."""

from __future__ import annotations

from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .base import AuthTunaForm, text

_NAME = {"spellcheck": "false", "autocapitalize": "off", "autocomplete": "off"}


def _name(label: str, message: str) -> StringField:
    return StringField(label, [DataRequired(message=message), Length(max=80)], render_kw=_NAME)


class RoleCreateForm(AuthTunaForm):
    """Upstream's ``{name, description, level}``; the level must stay below the creator's."""

    name = _name("Name", "Name the role.")
    description = TextAreaField("Description", [Optional(), Length(max=255)],
                                render_kw={"rows": 2})
    level = IntegerField("Level", [Optional(), NumberRange(min=0, max=100_000)],
                         render_kw={"inputmode": "numeric"})


class RolePermissionForm(AuthTunaForm):
    """Attach a permission to a role (upstream's ``{permission_name}``)."""

    permission_name = _name("Permission", "Choose a permission.")


class AssignGrantForm(AuthTunaForm):
    """Holders of ``assigner_role_name`` may (or may no longer) assign ``assignable_role_name``."""

    assigner_role_name = _name("Role", "Which role may assign?")
    assignable_role_name = _name("May assign", "Choose a role.")

    def pair(self) -> tuple[str, str]:
        return text(self.assigner_role_name), text(self.assignable_role_name)


class PermissionGrantForm(AuthTunaForm):
    """Holders of ``granter_role_name`` may (or may no longer) grant the permission."""

    granter_role_name = _name("Role", "Which role may grant?")
    grantable_permission_name = _name("May grant", "Choose a permission.")

    def pair(self) -> tuple[str, str]:
        return text(self.granter_role_name), text(self.grantable_permission_name)
