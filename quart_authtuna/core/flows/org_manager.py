"""OrganizationManager: upstream's one object for organizations, teams and invitations
(``service.organizations``), over the three journeys that do the work."""

from __future__ import annotations

from dataclasses import dataclass

from ..db.models import Organization, Team
from ..types import RequestMeta
from .invitations import Invitations
from .orgs import OrganizationDetails, Organizations
from .results import (
    InvitationAccepted,
    InvitationSent,
    MemberRemoved,
    OrganizationCreated,
    OrganizationDeleted,
    TeamCreated,
    TeamDeleted,
)
from .teams import TeamDetails, Teams

_META = RequestMeta()


@dataclass(frozen=True, slots=True)
class OrganizationManager:
    """Upstream's method names; each call is one journey (see :mod:`.orgs`, :mod:`.teams`
    and :mod:`.invitations` for the rules)."""

    orgs: Organizations
    teams: Teams
    invitations: Invitations

    async def create_organization(self, name: str, owner_id: str,
                                  meta: RequestMeta = _META) -> OrganizationCreated:
        return await self.orgs.create_organization(owner_id, name, meta)

    async def invite_to_organization(self, org_id: str, inviter_id: str, email: str,
                                     role_name: str = "OrgMember",
                                     meta: RequestMeta = _META) -> InvitationSent:
        return await self.invitations.invite(inviter_id, org_id, email, role_name, meta)

    async def accept_organization_invite(self, token: str, user_id: str,
                                         meta: RequestMeta = _META) -> InvitationAccepted:
        return await self.invitations.accept(token, user_id, meta)

    async def get_organization_details(self, org_id: str, user_id: str) -> OrganizationDetails:
        return await self.orgs.get_organization_details(user_id, org_id)

    async def get_user_organizations(self, user_id: str) -> list[tuple[Organization, str]]:
        return await self.orgs.get_user_organizations(user_id)

    async def delete_organization(self, org_id: str, user_id: str,
                                  meta: RequestMeta = _META) -> OrganizationDeleted:
        return await self.orgs.delete_organization(user_id, org_id, meta)

    async def leave_organization(self, org_id: str, user_id: str,
                                 meta: RequestMeta = _META) -> MemberRemoved:
        return await self.orgs.leave_organization(user_id, org_id, meta)

    async def remove_member_from_organization(self, org_id: str, member_id: str,
                                              remover_id: str, meta: RequestMeta = _META
                                              ) -> MemberRemoved:
        return await self.orgs.remove_member_from_organization(remover_id, org_id, member_id,
                                                               meta)

    async def create_team(self, name: str, org_id: str, creator_id: str,
                          meta: RequestMeta = _META) -> TeamCreated:
        return await self.teams.create_team(creator_id, org_id, name, meta)

    async def invite_to_team(self, team_id: str, inviter_id: str, email: str,
                             role_name: str = "TeamMember", meta: RequestMeta = _META
                             ) -> InvitationSent:
        details = await self.teams.get_team_details(inviter_id, team_id)
        return await self.invitations.invite(inviter_id, details.team.organization_id, email,
                                             role_name, meta, team_id=team_id)

    async def accept_team_invite(self, token: str, user_id: str,
                                 meta: RequestMeta = _META) -> InvitationAccepted:
        return await self.invitations.accept(token, user_id, meta)

    async def get_team_details(self, team_id: str, user_id: str) -> TeamDetails:
        return await self.teams.get_team_details(user_id, team_id)

    async def get_user_teams(self, user_id: str) -> list[tuple[Team, str]]:
        return await self.teams.get_user_teams(user_id)

    async def delete_team(self, team_id: str, user_id: str,
                          meta: RequestMeta = _META) -> TeamDeleted:
        return await self.teams.delete_team(user_id, team_id, meta)

    async def leave_team(self, team_id: str, user_id: str,
                         meta: RequestMeta = _META) -> MemberRemoved:
        return await self.teams.leave_team(user_id, team_id, meta)

    async def remove_team_member(self, team_id: str, member_id: str, remover_id: str,
                                 meta: RequestMeta = _META) -> MemberRemoved:
        return await self.teams.remove_team_member(remover_id, team_id, member_id, meta)
