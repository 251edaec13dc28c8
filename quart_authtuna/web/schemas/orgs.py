"""Schemas of the organization and team routes (``authtuna_ui``, UI_PREFIX), and of the admin
area's organization pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .auth import TokenQuery, UserSummary
from .envelope import NoInput
from .operations import Op, answers


@dataclass
class OrganizationOut:
    id: str
    name: str
    created_at: float
    scope: str


@dataclass
class MyOrganization(OrganizationOut):
    """``role``: the highest organization role the user holds there."""

    role: str


@dataclass
class NameIn:
    name: str


@dataclass
class MemberOut:
    user_id: str
    username: str
    email: str
    roles: list[str]


@dataclass
class TeamSummary:
    id: str
    name: str


@dataclass
class InvitationOut:
    """A pending invitation (``team_id`` set for a team's)."""

    id: str
    email: str
    role_name: str
    team_id: str | None
    created_at: float
    expires_at: float


@dataclass
class OrganizationDetail(OrganizationOut):
    """``invitations`` is filled for members who may invite."""

    members: list[MemberOut]
    teams: list[TeamSummary]
    invitations: list[InvitationOut]


@dataclass
class InviteIn:
    """``role_name``: OrgMember or OrgAdmin (TeamMember or TeamLead for a team), and one the
    inviter may assign there."""

    email: str
    role_name: str | None = None


@dataclass
class InvitationRevoked:
    id: str
    revoked: bool


@dataclass
class Left:
    left: bool
    roles_removed: int


@dataclass
class MemberRemoved:
    user_id: str
    roles_removed: int


@dataclass
class TransferIn:
    member_id: str


@dataclass
class Transferred:
    organization_id: str
    owner_id: str


@dataclass
class GroupDeleted:
    id: str
    deleted: bool
    members: int


@dataclass
class TeamOut:
    id: str
    name: str
    organization_id: str
    scope: str
    created_at: float


@dataclass
class MyTeam(TeamOut):
    role: str


@dataclass
class TeamCreated:
    id: str
    name: str
    organization_id: str


@dataclass
class TeamDetail(TeamOut):
    members: list[MemberOut]


@dataclass
class TeamMemberIn:
    user_id: str
    role_name: Literal["TeamMember", "TeamLead"] = "TeamMember"


@dataclass
class TeamMemberSet:
    user_id: str
    role: str


@dataclass
class InvitationPreview:
    organization: OrganizationOut
    team: TeamSummary | None
    role_name: str
    email: str
    expires_at: float
    account_exists: bool


@dataclass
class JoinIn:
    """Signed in: the token only. Without an account: also a username and a password (the
    account gets the invited address, verified)."""

    token: str
    username: str | None = None
    password: str | None = None


@dataclass
class Joined:
    user: UserSummary
    organization: OrganizationOut
    team_id: str | None
    role_name: str
    signed_in: bool
    next: str


@dataclass
class AdminOrganization(OrganizationOut):
    members: int
    teams: int


@dataclass
class AdminOrganizationDetail(OrganizationOut):
    members: list[MemberOut]
    teams: list[TeamSummary]


_JOIN_GET = Op(page=True, query=TokenQuery, responses=answers(InvitationPreview).responses)
_JOIN = answers(Joined, request=JoinIn)
_REVOKE = answers(InvitationRevoked, request=NoInput)
_REMOVE = answers(MemberRemoved, request=NoInput)
_DELETE = answers(GroupDeleted, request=NoInput)

ROUTES: dict[str, Op] = {
    "GET authtuna_ui.organizations": answers(list[MyOrganization], page=True),
    "POST authtuna_ui.organization_create": answers(MyOrganization, 201, request=NameIn),
    "GET authtuna_ui.organization": answers(OrganizationDetail, page=True),
    "POST authtuna_ui.organization_invite": answers(InvitationOut, 201, request=InviteIn),
    "GET authtuna_ui.organization_invitations": answers(list[InvitationOut]),
    "POST authtuna_ui.invitation_resend": answers(InvitationOut, request=NoInput),
    "POST authtuna_ui.invitation_revoke": _REVOKE,
    "DELETE authtuna_ui.invitation_revoke": _REVOKE,
    "POST authtuna_ui.organization_leave": answers(Left, request=NoInput),
    "POST authtuna_ui.organization_member_remove": _REMOVE,
    "DELETE authtuna_ui.organization_member_remove": _REMOVE,
    "POST authtuna_ui.organization_transfer": answers(Transferred, request=TransferIn),
    "POST authtuna_ui.organization_delete": _DELETE,
    "DELETE authtuna_ui.organization_delete": _DELETE,
    "POST authtuna_ui.team_create": answers(TeamCreated, 201, request=NameIn),
    "GET authtuna_ui.join_organization": _JOIN_GET,
    "POST authtuna_ui.join_organization": _JOIN,
    "GET authtuna_ui.join_team": _JOIN_GET,
    "POST authtuna_ui.join_team": _JOIN,
    "GET authtuna_ui.teams": answers(list[MyTeam]),
    "GET authtuna_ui.team": answers(TeamDetail, page=True),
    "POST authtuna_ui.team_member_add": answers(TeamMemberSet, request=TeamMemberIn),
    "POST authtuna_ui.team_invite": answers(InvitationOut, 201, request=InviteIn),
    "POST authtuna_ui.team_leave": answers(Left, request=NoInput),
    "POST authtuna_ui.team_member_remove": _REMOVE,
    "DELETE authtuna_ui.team_member_remove": _REMOVE,
    "POST authtuna_ui.team_delete": _DELETE,
    "DELETE authtuna_ui.team_delete": _DELETE,
    "GET authtuna_admin.organizations": answers(list[AdminOrganization], page=True),
    "GET authtuna_admin.organization_detail": answers(AdminOrganizationDetail, page=True),
}
