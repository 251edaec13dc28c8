"""Forms of the organization and team pages; the rules themselves are the core's."""

from __future__ import annotations

from typing import Any

from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # 3.3, unstubbed
from wtforms.validators import DataRequired, Length, Optional

from .base import AuthTunaForm

_REQUIRED = DataRequired(message="This field is required.")
ORG_CHOICES = [SelectChoice("OrgMember", "Member"), SelectChoice("OrgAdmin", "Admin")]
TEAM_CHOICES = [SelectChoice("TeamMember", "Member"), SelectChoice("TeamLead", "Lead")]


def people(pairs: list[tuple[str, str]]) -> Any:
    """``(user_id, username)`` pairs as select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class NameForm(AuthTunaForm):
    """Create an organization or a team."""

    name = StringField("Name", [_REQUIRED, Length(max=100)])


class InviteForm(AuthTunaForm):
    email = EmailField("Email address", [_REQUIRED, Length(max=254)],
                       render_kw={"autocomplete": "off", "spellcheck": "false"})
    #: Free text on purpose: the core refuses any role the inviter may not offer there.
    role_name = SelectField("Role", choices=ORG_CHOICES,
                            validate_choice=False, default="OrgMember")


class TeamInviteForm(InviteForm):
    role_name = SelectField("Role", choices=TEAM_CHOICES,
                            validate_choice=False, default="TeamMember")


class MemberForm(AuthTunaForm):
    """Choose a member (transfer ownership)."""

    member_id = SelectField("New owner", [_REQUIRED], validate_choice=False)


class TeamMemberForm(AuthTunaForm):
    """Add an organization member to a team, or change their team role."""

    user_id = SelectField("Member", [_REQUIRED], validate_choice=False)
    role_name = SelectField("Role", choices=TEAM_CHOICES,
                            validate_choice=False, default="TeamMember")


class JoinForm(AuthTunaForm):
    """Accept an invitation: signed in, just the token; new, a username and a password."""

    token = HiddenField("token", [_REQUIRED])
    username = StringField("Username", [Optional(), Length(max=64)],
                           render_kw={"autocomplete": "username"})
    password = PasswordField("Password", [Optional(), Length(max=1024)],
                             render_kw={"autocomplete": "new-password"})
