"""Teams inside an organization: create, details, add a member, delete, leave, remove.

A team's scope is ``org:<org>/team:<team>``, so roles held on the organization apply in it.
Rules: creating needs ``team:create`` on the organization (the creator becomes TeamLead);
only members of the organization join its teams; a team keeps a lead (the last TeamLead
cannot leave, be removed or step down while other members remain); removals go through
:mod:`..revocation` like the organization's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Team
from ..db.unit_of_work import UnitOfWork
from ..errors import ConflictError, InputError, NotFound
from ..managers.audit import AuditManager
from ..managers.orgs import TEAM_ROLES, Member, OrganizationStore, new_id, org_scope, team_scope
from ..managers.roles import RoleManager
from ..rbac.checker import RbacChecker
from ..rbac.grants import Grants
from ..revocation import Revocation
from ..signals import member_joined, member_removed, team_created, team_deleted
from ..types import SYSTEM_ACTOR, Clock, FieldError, RequestMeta
from .orgs import actor_grants, clean_name, require
from .results import MemberAdded, MemberRemoved, TeamCreated, TeamDeleted

LEAD = "TeamLead"
LAST_LEAD = "A team must keep a lead: make another member lead first."


@dataclass(frozen=True, slots=True)
class TeamDetails:
    team: Team
    organization_name: str
    members: list[Member]
    #: Organization members not in the team (whom the viewer may add).
    candidates: list[Member]
    grants: Grants
    scope: str


@dataclass(frozen=True, slots=True)
class Teams:
    """Upstream's team methods; each change is one transaction with its audit row."""

    _db: UnitOfWork
    _clock: Clock
    _store: OrganizationStore
    _roles: RoleManager
    _rbac: RbacChecker
    _audit: AuditManager
    _revocation: Revocation

    async def create_team(self, actor_id: str, org_id: str, name: str, meta: RequestMeta
                          ) -> TeamCreated:
        name = clean_name(name)
        async with self._db.transaction() as tx:
            await self._store.organization(tx, org_id)
            require(await actor_grants(self._rbac, tx, actor_id), "team:create", org_scope(org_id))
            team = Team(id=new_id(), name=name, organization_id=org_id, created_at=self._clock())
            tx.add(team)
            await tx.flush()
            await self._roles.assign_to_user(actor_id, LEAD, SYSTEM_ACTOR,
                                             team_scope(org_id, team.id), tx,
                                             ip_address=meta.ip_address)
            self._audit.record(tx, "TEAM_CREATED", user_id=actor_id, actor_id=actor_id,
                               ip_address=meta.ip_address,
                               details={"organization_id": org_id, "team_id": team.id,
                                        "name": name})
            self._db.emit(tx, team_created, team=team, actor_id=actor_id)
        return TeamCreated(team)

    async def get_user_teams(self, user_id: str) -> list[tuple[Team, str]]:
        """``(team, role)`` for each team the user belongs to."""
        async with self._db.transaction() as tx:
            return await self._store.user_teams(tx, user_id)

    async def get_team_details(self, actor_id: str, team_id: str) -> TeamDetails:
        """Team members see it, and holders of ``team:manage`` on it or its organization."""
        async with self._db.transaction() as tx:
            team, scope = await self._team(tx, team_id)
            org = await self._store.organization(tx, team.organization_id)
            grants = await actor_grants(self._rbac, tx, actor_id)
            members = await self._store.members(tx, scope)
            if actor_id not in {m.user_id for m in members} and not grants.has_permission(
                    "team:manage", scope):
                raise NotFound("Team not found.")
            inside = {m.user_id for m in members}
            others = [m for m in await self._store.members(tx, org_scope(org.id))
                      if m.user_id not in inside]
            return TeamDetails(team, org.name, members, others, grants, scope)

    async def add_team_member(self, actor_id: str, team_id: str, user_id: str, role: str,
                              meta: RequestMeta) -> MemberAdded:
        """Give an organization member ``role`` (TeamLead or TeamMember) in the team, in
        place of the team role they held; needs ``team:manage`` and the right to assign it."""
        if role not in TEAM_ROLES:
            raise InputError(FieldError("invalid_role", "Choose TeamLead or TeamMember.",
                                        "role_name"))
        async with self._db.transaction() as tx:
            team, scope = await self._team(tx, team_id)
            require(await actor_grants(self._rbac, tx, actor_id), "team:manage", scope)
            if not await self._store.roles_at(tx, user_id, org_scope(team.organization_id)):
                raise InputError(FieldError("not_a_member", "Only members of the organization "
                                            "can join its teams.", "user_id"))
            held = await self._store.roles_at(tx, user_id, scope)
            if LEAD in held and role != LEAD:
                await self._keep_a_lead(tx, user_id, scope)
            await self._roles.assign_to_user(user_id, role, actor_id, scope, tx,
                                             ip_address=meta.ip_address)
            for other in held:
                if other != role:
                    await self._roles.remove_from_user(user_id, other, actor_id, scope, tx,
                                                       ip_address=meta.ip_address)
            if not held:
                self._audit.record(tx, "TEAM_MEMBER_ADDED", user_id=user_id, actor_id=actor_id,
                                   ip_address=meta.ip_address,
                                   details={"team_id": team_id, "role": role})
                self._db.emit(tx, member_joined, user_id=user_id,
                              organization_id=team.organization_id, team_id=team_id, role=role,
                              actor_id=actor_id)
        return MemberAdded(user_id, team_id, role)

    async def delete_team(self, actor_id: str, team_id: str, meta: RequestMeta) -> TeamDeleted:
        """Needs ``team:delete`` (OrgOwner, OrgAdmin): the team and every role held in it."""
        async with self._db.transaction() as tx:
            team, scope = await self._team(tx, team_id)
            require(await actor_grants(self._rbac, tx, actor_id), "team:delete", scope)
            users = await self._store.drop_roles_within(tx, scope)
            await tx.delete(team)
            self._audit.record(tx, "TEAM_DELETED", actor_id=actor_id, ip_address=meta.ip_address,
                               details={"team_id": team_id, "name": team.name,
                                        "organization_id": team.organization_id})
            self._db.emit(tx, team_deleted, team_id=team_id, organization_id=team.organization_id,
                          actor_id=actor_id, user_ids=sorted(users))
            self._revocation.grants_changed(tx, users)
        return TeamDeleted(team_id, team.organization_id, len(users))

    async def leave_team(self, user_id: str, team_id: str, meta: RequestMeta) -> MemberRemoved:
        return await self.remove_team_member(user_id, team_id, user_id, meta)

    async def remove_team_member(self, actor_id: str, team_id: str, member_id: str,
                                 meta: RequestMeta) -> MemberRemoved:
        """Needs ``team:remove_member`` (not to leave); the last lead stays while others do."""
        async with self._db.transaction() as tx:
            team, scope = await self._team(tx, team_id)
            if actor_id != member_id:
                require(await actor_grants(self._rbac, tx, actor_id), "team:remove_member",
                        scope)
            held = await self._store.roles_at(tx, member_id, scope)
            if not held:
                raise NotFound("That user is not a member of this team.")
            if LEAD in held:
                await self._keep_a_lead(tx, member_id, scope)
            removed = 0
            for role in held:
                removed += await self._roles.remove_from_user(member_id, role, actor_id, scope,
                                                              tx, ip_address=meta.ip_address)
            event = "TEAM_MEMBER_LEFT" if actor_id == member_id else "TEAM_MEMBER_REMOVED"
            self._audit.record(tx, event, user_id=member_id, actor_id=actor_id,
                               ip_address=meta.ip_address, details={"team_id": team_id})
            self._db.emit(tx, member_removed, user_id=member_id,
                          organization_id=team.organization_id, team_id=team_id,
                          actor_id=actor_id)
        return MemberRemoved(member_id, team.organization_id, team_id, removed)

    async def _team(self, tx: AsyncSession, team_id: str) -> tuple[Team, str]:
        team = await self._store.team(tx, team_id)
        return team, team_scope(team.organization_id, team.id)

    async def _keep_a_lead(self, tx: AsyncSession, user_id: str, scope: str) -> None:
        """ConflictError when ``user_id`` is the only lead and others are in the team."""
        leads = await self._store.holders(tx, LEAD, scope)
        if leads == [user_id] and len(await self._store.members(tx, scope)) > 1:
            raise ConflictError(LAST_LEAD)
