"""OrganizationStore: the organizations, teams and invitations tables, and membership read
from the role rows at their scopes (the one source of truth; see :mod:`..db.models.orgs`)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.tokens import digest, random_token
from ..db.models import Invitation, Organization, Role, Team, User, UserRole
from ..errors import NotFound
from ..types import Clock

ORG_ROLES = ("OrgOwner", "OrgAdmin", "OrgMember")
TEAM_ROLES = ("TeamLead", "TeamMember")


def org_scope(org_id: str) -> str:
    """``org:<id>``."""
    return f"org:{org_id}"


def team_scope(org_id: str, team_id: str) -> str:
    """``org:<org_id>/team:<team_id>``: roles held on the organization apply here too."""
    return f"org:{org_id}/team:{team_id}"


def new_id() -> str:
    """A random id that is safe in a scope segment and a URL (hex)."""
    return secrets.token_hex(10)


@dataclass(frozen=True, slots=True)
class Member:
    """A user and the roles held directly at one scope."""

    user_id: str
    username: str
    email: str
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """A new invitation row and its raw link secret (never stored)."""

    row: Invitation
    raw: str


@dataclass(frozen=True, slots=True)
class OrganizationStore:
    """Rows of organizations, teams and invitations; no journey logic (see ``flows.orgs``)."""

    _clock: Clock

    async def organization(self, tx: AsyncSession, org_id: str) -> Organization:
        org = await tx.get(Organization, org_id)
        if org is None:
            raise NotFound("Organization not found.")
        return org

    async def team(self, tx: AsyncSession, team_id: str) -> Team:
        team = await tx.get(Team, team_id)
        if team is None:
            raise NotFound("Team not found.")
        return team

    async def members(self, tx: AsyncSession, scope: str) -> list[Member]:
        """Everyone holding a role at exactly ``scope``, with those roles (one query)."""
        rows = (await tx.execute(
            select(User.id, User.username, User.email, Role.name)
            .join(UserRole, UserRole.user_id == User.id).join(Role, Role.id == UserRole.role_id)
            .where(UserRole.scope == scope).order_by(User.username, Role.name))).all()
        found: dict[str, Member] = {}
        for user_id, username, email, role in rows:
            held = found.get(user_id)
            roles = (*held.roles, role) if held else (role,)
            found[user_id] = Member(user_id, username, email, roles)
        return list(found.values())

    async def roles_at(self, tx: AsyncSession, user_id: str, scope: str) -> list[str]:
        """The roles ``user_id`` holds at exactly ``scope``."""
        return list((await tx.scalars(
            select(Role.name).join(UserRole, UserRole.role_id == Role.id)
            .where(UserRole.user_id == user_id, UserRole.scope == scope))).all())

    async def holders(self, tx: AsyncSession, role: str, scope: str) -> list[str]:
        """Ids of the users holding ``role`` at exactly ``scope``."""
        return list((await tx.scalars(
            select(UserRole.user_id).join(Role, Role.id == UserRole.role_id)
            .where(Role.name == role, UserRole.scope == scope))).all())

    async def held_within(self, tx: AsyncSession, scope: str, user_id: str | None = None
                          ) -> list[tuple[str, str, str]]:
        """``(user_id, role, scope)`` held at ``scope`` or below it (its teams)."""
        stmt = (select(UserRole.user_id, Role.name, UserRole.scope)
                .join(Role, Role.id == UserRole.role_id)
                .where(or_(UserRole.scope == scope,
                           UserRole.scope.like(_escaped(scope) + "/%", escape="\\"))))
        if user_id is not None:
            stmt = stmt.where(UserRole.user_id == user_id)
        return [(u, r, s) for u, r, s in (await tx.execute(stmt)).all()]

    async def drop_roles_within(self, tx: AsyncSession, scope: str) -> set[str]:
        """Delete every role held at ``scope`` or below; the ids of the users who held one."""
        held = await self.held_within(tx, scope)
        await tx.execute(delete(UserRole).where(or_(
            UserRole.scope == scope, UserRole.scope.like(_escaped(scope) + "/%", escape="\\"))))
        return {user_id for user_id, _, _ in held}

    async def user_organizations(self, tx: AsyncSession, user_id: str
                                 ) -> list[tuple[Organization, str]]:
        """The organizations the user belongs to, with a role held there (one query)."""
        rows = (await tx.execute(
            select(Organization, Role.name)
            .join(UserRole, UserRole.scope == literal("org:") + Organization.id)
            .join(Role, Role.id == UserRole.role_id)
            .where(UserRole.user_id == user_id).order_by(Organization.name))).all()
        return _first_role(rows)

    async def user_teams(self, tx: AsyncSession, user_id: str) -> list[tuple[Team, str]]:
        """The teams the user belongs to, with a role held there (one query)."""
        rows = (await tx.execute(
            select(Team, Role.name)
            .join(UserRole, UserRole.scope
                  == literal("org:") + Team.organization_id + "/team:" + Team.id)
            .join(Role, Role.id == UserRole.role_id)
            .where(UserRole.user_id == user_id).order_by(Team.name))).all()
        return _first_role(rows)

    async def listing(self, tx: AsyncSession, limit: int = 500
                      ) -> list[tuple[Organization, int, int]]:
        """Every organization (by name) with its member and team counts (one query)."""
        members = (select(func.count(func.distinct(UserRole.user_id)))
                   .where(UserRole.scope == literal("org:") + Organization.id)
                   .correlate(Organization).scalar_subquery())
        teams = (select(func.count(Team.id)).where(Team.organization_id == Organization.id)
                 .correlate(Organization).scalar_subquery())
        rows = (await tx.execute(select(Organization, members, teams)
                                 .order_by(Organization.name).limit(limit))).all()
        return [(org, int(m or 0), int(t or 0)) for org, m, t in rows]

    async def teams_of(self, tx: AsyncSession, org_id: str) -> Sequence[Team]:
        return (await tx.scalars(select(Team).where(Team.organization_id == org_id)
                                 .order_by(Team.name))).all()

    # ---- invitations ---------------------------------------------------------------------

    def invitation(self, tx: AsyncSession, org_id: str, team_id: str | None, email: str,
                   email_canonical: str, role: str, inviter_id: str, ttl: float
                   ) -> IssuedInvitation:
        """Add a pending invitation; its raw secret goes into the mailed link only."""
        now, raw = self._clock(), random_token(32)
        row = Invitation(id=new_id(), token_hash=digest(raw), organization_id=org_id,
                         team_id=team_id, email=email, email_canonical=email_canonical,
                         role_name=role, invited_by_id=inviter_id, created_at=now,
                         expires_at=now + ttl)
        tx.add(row)
        return IssuedInvitation(row, raw)

    async def pending(self, tx: AsyncSession, org_id: str, team_id: str | None = None,
                      email_canonical: str | None = None) -> list[Invitation]:
        """Live invitations to the organization (``team_id``: to that team only)."""
        stmt = select(Invitation).where(
            Invitation.organization_id == org_id, Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None), Invitation.expires_at > self._clock())
        if team_id is not None:
            stmt = stmt.where(Invitation.team_id == team_id)
        if email_canonical is not None:
            stmt = stmt.where(Invitation.email_canonical == email_canonical)
        return list((await tx.scalars(stmt.order_by(Invitation.created_at))).all())

    async def renew(self, tx: AsyncSession, invitation: Invitation, ttl: float) -> str:
        """A new secret and lifetime for a pending invitation; the old link stops working."""
        raw = random_token(32)
        invitation.token_hash, invitation.expires_at = digest(raw), self._clock() + ttl
        await tx.flush()
        return raw

    async def by_token(self, tx: AsyncSession, raw: str) -> Invitation | None:
        return await tx.scalar(select(Invitation).where(Invitation.token_hash == digest(raw)))

    async def take(self, tx: AsyncSession, raw: str, email_canonical: str, user_id: str
                   ) -> Invitation | None:
        """Mark the live invitation of ``raw`` sent to ``email_canonical`` accepted; of
        concurrent takers exactly one gets it. None when nothing matched."""
        now = self._clock()
        taken = (await tx.execute(
            update(Invitation)
            .where(Invitation.token_hash == digest(raw), Invitation.accepted_at.is_(None),
                   Invitation.revoked_at.is_(None), Invitation.expires_at > now,
                   Invitation.email_canonical == email_canonical)
            .values(accepted_at=now, accepted_by_id=user_id).returning(Invitation.id)
            .execution_options(synchronize_session=False))).scalar_one_or_none()
        return None if taken is None else await tx.get(Invitation, taken, populate_existing=True)


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _first_role(rows: Sequence[Any]) -> list[tuple[Any, str]]:
    """One entry per object, keeping its highest tenant role."""
    order = {name: i for i, name in enumerate((*ORG_ROLES, *TEAM_ROLES))}
    best: dict[int, tuple[Any, str]] = {}
    for obj, role in rows:
        key = id(obj)
        if key not in best or order.get(role, 99) < order.get(best[key][1], 99):
            best[key] = (obj, role)
    return list(best.values())
