"""Organizations: create, details, delete, leave, remove a member, transfer ownership.

Membership is the role rows at ``org:<id>`` (see :mod:`..db.models.orgs`). Rules:

* creating needs ``org:create`` in ``global``; the creator becomes OrgOwner;
* an organization always keeps an owner: the last OrgOwner cannot leave, an owner cannot be
  removed by others, and ownership moves only by :meth:`Organizations.transfer_ownership`;
* deleting (an OrgOwner), leaving and removing a member drop the roles held at the
  organization's scope and below it (its teams), through :mod:`..revocation`, so they take
  effect on the member's next request in this process and within
  SESSION_DB_VERIFICATION_INTERVAL in the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Invitation, Organization, Team
from ..db.unit_of_work import UnitOfWork
from ..errors import ConflictError, InputError, NotFound, PermissionDenied
from ..managers.audit import AuditManager
from ..managers.orgs import Member, OrganizationStore, new_id, org_scope
from ..managers.roles import RoleManager
from ..rbac.checker import RbacChecker
from ..rbac.grants import Grants
from ..revocation import Revocation
from ..signals import member_removed, org_created, org_deleted, ownership_transferred
from ..types import SYSTEM_ACTOR, Clock, FieldError, RequestMeta
from .results import MemberRemoved, OrganizationCreated, OrganizationDeleted, OwnershipTransferred

OWNER = "OrgOwner"
LAST_OWNER = ("An organization must keep an owner: transfer ownership to another member "
              "before leaving.")


@dataclass(frozen=True, slots=True)
class OrganizationDetails:
    """What the organization page shows; ``grants`` are the viewer's (for the buttons)."""

    organization: Organization
    members: list[Member]
    teams: list[Team]
    invitations: list[Invitation]
    grants: Grants


def clean_name(name: str) -> str:
    """A trimmed name of 1-100 characters, or InputError."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 100:
        raise InputError(FieldError("invalid_name", "Give a name of 1 to 100 characters.",
                                    "name"))
    return name


async def actor_grants(rbac: RbacChecker, tx: AsyncSession, actor_id: str) -> Grants:
    """The actor's grants, fresh from the database (every change is authorised on these)."""
    return await rbac.grants_for(actor_id, tx, fresh=True)


def require(grants: Grants, permission: str, scope: str) -> None:
    """PermissionDenied unless ``permission`` is held at a scope covering ``scope``."""
    if not grants.has_permission(permission, scope):
        raise PermissionDenied(f"You need the permission {permission} here.")


@dataclass(frozen=True, slots=True)
class Organizations:
    """Upstream's organization methods; each change is one transaction with its audit row."""

    _db: UnitOfWork
    _clock: Clock
    _store: OrganizationStore
    _roles: RoleManager
    _rbac: RbacChecker
    _audit: AuditManager
    _revocation: Revocation

    async def create_organization(self, actor_id: str, name: str, meta: RequestMeta
                                  ) -> OrganizationCreated:
        """A new organization owned by ``actor_id`` (needs ``org:create`` in ``global``)."""
        name = clean_name(name)
        try:
            async with self._db.transaction() as tx:
                require(await actor_grants(self._rbac, tx, actor_id), "org:create", "global")
                org = Organization(id=new_id(), name=name, created_at=self._clock())
                tx.add(org)
                await tx.flush()
                await self._roles.assign_to_user(actor_id, OWNER, SYSTEM_ACTOR, org_scope(org.id),
                                                 tx, ip_address=meta.ip_address)
                self._audit.record(tx, "ORG_CREATED", user_id=actor_id, actor_id=actor_id,
                                   ip_address=meta.ip_address,
                                   details={"organization_id": org.id, "name": name})
                self._db.emit(tx, org_created, organization=org, actor_id=actor_id)
        except IntegrityError as exc:
            raise ConflictError("An organization with this name already exists.") from exc
        return OrganizationCreated(org)

    async def get_user_organizations(self, user_id: str) -> list[tuple[Organization, str]]:
        """``(organization, role)`` for each organization the user belongs to."""
        async with self._db.transaction() as tx:
            return await self._store.user_organizations(tx, user_id)

    async def get_organization_details(self, actor_id: str, org_id: str
                                       ) -> OrganizationDetails:
        """Members (with their roles there), teams and, for inviters, pending invitations.
        Members see it, and holders of ``org:manage`` above it; others get NotFound."""
        async with self._db.transaction() as tx:
            org = await self._store.organization(tx, org_id)
            scope = org_scope(org_id)
            grants = await actor_grants(self._rbac, tx, actor_id)
            members = await self._store.members(tx, scope)
            if actor_id not in {m.user_id for m in members} and not grants.has_permission(
                    "org:manage", scope):
                raise NotFound("Organization not found.")
            invitations = (await self._store.pending(tx, org_id) if grants.has_permission(
                "org:invite_member", scope) else [])
            return OrganizationDetails(org, members, list(await self._store.teams_of(tx, org_id)),
                                       invitations, grants)

    async def listing(self) -> list[tuple[Organization, int, int]]:
        """For the admin area: every organization with its member and team counts."""
        async with self._db.transaction() as tx:
            return await self._store.listing(tx)

    async def admin_details(self, org_id: str) -> tuple[Organization, list[Member], list[Team]]:
        """For the admin area: an organization's members (with roles) and teams."""
        async with self._db.transaction() as tx:
            org = await self._store.organization(tx, org_id)
            return (org, await self._store.members(tx, org_scope(org_id)),
                    list(await self._store.teams_of(tx, org_id)))

    async def delete_organization(self, actor_id: str, org_id: str, meta: RequestMeta
                                  ) -> OrganizationDeleted:
        """Only an OrgOwner: the organization, its teams, invitations and every role in them."""
        async with self._db.transaction() as tx:
            org = await self._store.organization(tx, org_id)
            scope = org_scope(org_id)
            if not (await actor_grants(self._rbac, tx, actor_id)).has_role(OWNER, scope):
                raise PermissionDenied("Only an owner can delete the organization.")
            users = await self._store.drop_roles_within(tx, scope)
            await tx.delete(org)
            self._audit.record(tx, "ORG_DELETED", actor_id=actor_id, ip_address=meta.ip_address,
                               details={"organization_id": org_id, "name": org.name,
                                        "members": len(users)})
            self._db.emit(tx, org_deleted, organization_id=org_id, actor_id=actor_id,
                          user_ids=sorted(users))
            self._revocation.grants_changed(tx, users)
        return OrganizationDeleted(org_id, len(users))

    async def leave_organization(self, user_id: str, org_id: str, meta: RequestMeta
                                 ) -> MemberRemoved:
        """Drop one's own roles in the organization and its teams (not the last owner's)."""
        async with self._db.transaction() as tx:
            await self._store.organization(tx, org_id)
            scope = org_scope(org_id)
            held = await self._store.roles_at(tx, user_id, scope)
            if not held:
                raise NotFound("You are not a member of this organization.")
            if OWNER in held and await self._store.holders(tx, OWNER, scope) == [user_id]:
                raise ConflictError(LAST_OWNER)
            removed = await self._drop(tx, user_id, user_id, scope, meta)
            self._audit.record(tx, "ORG_MEMBER_LEFT", user_id=user_id, actor_id=user_id,
                               ip_address=meta.ip_address, details={"organization_id": org_id})
            self._db.emit(tx, member_removed, user_id=user_id, organization_id=org_id,
                          team_id=None, actor_id=user_id)
        return MemberRemoved(user_id, org_id, None, removed)

    async def remove_member_from_organization(self, actor_id: str, org_id: str, member_id: str,
                                              meta: RequestMeta) -> MemberRemoved:
        """Needs ``org:remove_member`` there and the right to remove each role the member
        holds; an owner cannot be removed (transfer first), oneself leaves instead."""
        if member_id == actor_id:
            return await self.leave_organization(actor_id, org_id, meta)
        async with self._db.transaction() as tx:
            await self._store.organization(tx, org_id)
            scope = org_scope(org_id)
            require(await actor_grants(self._rbac, tx, actor_id), "org:remove_member", scope)
            held = await self._store.roles_at(tx, member_id, scope)
            if not held:
                raise NotFound("That user is not a member of this organization.")
            if OWNER in held:
                raise ConflictError("An owner cannot be removed; ownership must be "
                                    "transferred first.")
            removed = await self._drop(tx, member_id, actor_id, scope, meta)
            self._audit.record(tx, "ORG_MEMBER_REMOVED", user_id=member_id, actor_id=actor_id,
                               ip_address=meta.ip_address, details={"organization_id": org_id})
            self._db.emit(tx, member_removed, user_id=member_id, organization_id=org_id,
                          team_id=None, actor_id=actor_id)
        return MemberRemoved(member_id, org_id, None, removed)

    async def transfer_ownership(self, actor_id: str, org_id: str, new_owner_id: str,
                                 meta: RequestMeta) -> OwnershipTransferred:
        """An OrgOwner hands ownership to another member and stays on as OrgAdmin."""
        async with self._db.transaction() as tx:
            await self._store.organization(tx, org_id)
            scope = org_scope(org_id)
            if OWNER not in await self._store.roles_at(tx, actor_id, scope):
                raise PermissionDenied("Only an owner can transfer ownership.")
            if new_owner_id == actor_id or not await self._store.roles_at(
                    tx, new_owner_id, scope):
                raise InputError(FieldError("not_a_member", "Choose another member of the "
                                            "organization.", "member_id"))
            for user_id, role in ((new_owner_id, OWNER), (actor_id, "OrgAdmin")):
                await self._roles.assign_to_user(user_id, role, SYSTEM_ACTOR, scope, tx,
                                                 ip_address=meta.ip_address)
            await self._roles.remove_from_user(actor_id, OWNER, actor_id, scope, tx,
                                               ip_address=meta.ip_address)
            self._audit.record(tx, "ORG_OWNERSHIP_TRANSFERRED", user_id=new_owner_id,
                               actor_id=actor_id, ip_address=meta.ip_address,
                               details={"organization_id": org_id})
            self._db.emit(tx, ownership_transferred, organization_id=org_id,
                          from_user_id=actor_id, to_user_id=new_owner_id)
        return OwnershipTransferred(org_id, actor_id, new_owner_id)

    async def _drop(self, tx: AsyncSession, user_id: str, actor_id: str, scope: str,
                    meta: RequestMeta) -> int:
        """Remove each role ``user_id`` holds at ``scope`` or below, authorised as the actor
        (RoleManager audits each and names the change to the revocation module)."""
        removed = 0
        for _, role, at in await self._store.held_within(tx, scope, user_id):
            removed += await self._roles.remove_from_user(user_id, role, actor_id, at, tx,
                                                          ip_address=meta.ip_address)
        return removed
