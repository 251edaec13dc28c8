"""Invitations to an organization or team: send, list, resend, revoke, preview, accept, and
sign up from one.

An invitation is a single-use link (stored only as its SHA-256) that expires after
INVITATION_EXPIRY_SECONDS and is bound to the invited address: only an account with that
address can accept it, and a new person who signs up from it gets that address, verified by
the click. The offered role must be one the inviter may assign at that scope (OrgAdmin or
OrgMember for an organization, TeamLead or TeamMember for a team) and is assigned on the
inviter's authority when accepted, so a role the inviter lost meanwhile is refused. Team
invitations go to members of the organization only. Nothing is added before acceptance,
whether email is on or off (off, the link goes to the log). An invitation, its audit row,
its count against the mail caps and its mail commit in one transaction, or none of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Invitation, Organization, Team, User
from ..db.unit_of_work import UnitOfWork
from ..errors import (
    AccountExists,
    ConflictError,
    EscalationDenied,
    InputError,
    NotFound,
    PermissionDenied,
    TokenExpired,
    TokenInvalid,
)
from ..i18n import N_, gettext
from ..identifiers import canonical_email, clean_email
from ..mail import Mailer
from ..mail_quota import MailQuota
from ..managers.audit import AuditManager
from ..managers.orgs import TEAM_ROLES, OrganizationStore, org_scope, team_scope
from ..managers.roles import RoleManager
from ..managers.users import UserManager
from ..rbac.checker import RbacChecker
from ..revocation import Revocation
from ..settings import Settings
from ..signals import member_invited, member_joined
from ..types import Clock, FieldError, RequestMeta
from .first_factor import FirstFactor
from .orgs import actor_grants, require
from .results import InvitationAccepted, InvitationRevoked, InvitationSent

ORG_INVITABLE = ("OrgAdmin", "OrgMember")
OTHER_ADDRESS = "This invitation was sent to another email address."


@dataclass(frozen=True, slots=True)
class InvitationPreview:
    """What a link offers, shown before it is accepted (to whoever holds the link)."""

    invitation: Invitation
    organization: Organization
    team: Team | None
    account_exists: bool


@dataclass(frozen=True, slots=True)
class Invitations:
    """Every step of an invitation; each change is one transaction with its audit row."""

    _db: UnitOfWork
    _clock: Clock
    _settings: Settings
    _store: OrganizationStore
    _roles: RoleManager
    _rbac: RbacChecker
    _users: UserManager
    _first: FirstFactor
    _audit: AuditManager
    _mail: Mailer
    _quota: MailQuota
    _revocation: Revocation

    async def invite(self, actor_id: str, org_id: str, email: str, role: str,
                     meta: RequestMeta, team_id: str | None = None) -> InvitationSent:
        """Invite ``email`` with ``role``; an earlier pending invitation of that address to
        the same place stops working. Raises InputError, PermissionDenied, EscalationDenied,
        ConflictError (already a member) or NotFound."""
        email = clean_email(email, self._settings.email_domains)
        canonical = canonical_email(email)
        async with self._db.transaction() as tx:
            org, team, scope = await self._place(tx, org_id, team_id)
            grants = await actor_grants(self._rbac, tx, actor_id)
            require(grants, "team:invite_member" if team else "org:invite_member", scope)
            if role not in (TEAM_ROLES if team else ORG_INVITABLE):
                raise InputError(FieldError(
                    "invalid_role", gettext("This role cannot be offered here."), "role_name"))
        if role not in await self._roles.get_assignable_roles_for_user(actor_id, scope):
            raise EscalationDenied(f"You may not give the role {role} here.")
        async with self._db.transaction() as tx:
            invitee = await self._users.get_by_email(email, tx)
            if invitee is not None and await self._store.roles_at(tx, invitee.id, scope):
                raise ConflictError(N_("That person is already a member."))
            if team is not None and (invitee is None or not await self._store.roles_at(
                    tx, invitee.id, org_scope(org_id))):
                raise InputError(FieldError("not_a_member", gettext(
                    "Only members of the organization can be invited to its teams."), "email"))
            for earlier in await self._store.pending(tx, org_id, team_id, canonical):
                if earlier.team_id == team_id:
                    earlier.revoked_at = self._clock()
            issued = self._store.invitation(tx, org_id, team_id, email, canonical, role,
                                            actor_id, self._settings.invitation_expiry_seconds)
            self._audit.record(tx, "INVITATION_SENT", actor_id=actor_id,
                               ip_address=meta.ip_address,
                               details={"invitation_id": issued.row.id, "organization_id": org_id,
                                        "team_id": team_id, "role": role})
            self._db.emit(tx, member_invited, invitation_id=issued.row.id, organization_id=org_id,
                          team_id=team_id, email=email, role=role, actor_id=actor_id)
            inviter = await tx.get(User, actor_id)
            await self._send(tx, issued.row, issued.raw, org, team, inviter, meta)
        return InvitationSent(issued.row)

    async def pending(self, actor_id: str, org_id: str) -> list[Invitation]:
        """Live invitations to the organization and its teams (for inviters)."""
        async with self._db.transaction() as tx:
            await self._store.organization(tx, org_id)
            require(await actor_grants(self._rbac, tx, actor_id), "org:invite_member",
                    org_scope(org_id))
            return await self._store.pending(tx, org_id)

    async def resend(self, actor_id: str, invitation_id: str, meta: RequestMeta
                     ) -> InvitationSent:
        """A new link with a new lifetime; the previous link stops working."""
        async with self._db.transaction() as tx:
            row = await self._live(tx, actor_id, invitation_id)
            raw = await self._store.renew(tx, row, self._settings.invitation_expiry_seconds)
            org, team, _ = await self._place(tx, row.organization_id, row.team_id)
            self._audit.record(tx, "INVITATION_RESENT", actor_id=actor_id,
                               ip_address=meta.ip_address, details={"invitation_id": row.id})
            inviter = await tx.get(User, actor_id)
            await self._send(tx, row, raw, org, team, inviter, meta)
        return InvitationSent(row)

    async def revoke(self, actor_id: str, invitation_id: str, meta: RequestMeta
                     ) -> InvitationRevoked:
        async with self._db.transaction() as tx:
            row = await self._live(tx, actor_id, invitation_id)
            row.revoked_at = self._clock()
            self._audit.record(tx, "INVITATION_REVOKED", actor_id=actor_id,
                               ip_address=meta.ip_address, details={"invitation_id": row.id})
        return InvitationRevoked(invitation_id)

    async def preview(self, raw: str) -> InvitationPreview:
        """What the link offers; TokenInvalid (unknown, used, revoked) or TokenExpired."""
        async with self._db.transaction() as tx:
            row = self._usable(await self._store.by_token(tx, raw))
            org, team, _ = await self._place(tx, row.organization_id, row.team_id)
            exists = await self._users.get_by_email(row.email, tx) is not None
        return InvitationPreview(row, org, team, exists)

    async def accept(self, raw: str, user_id: str, meta: RequestMeta) -> InvitationAccepted:
        """The signed-in user with the invited address joins with the offered role (once)."""
        async with self._db.transaction() as tx:
            user = await tx.get(User, user_id)
            if user is None:
                raise NotFound(N_("User not found."))
            return await self._join(tx, raw, user, meta)

    async def sign_up(self, raw: str, username: str, password: str, meta: RequestMeta
                      ) -> InvitationAccepted:
        """A new account for the invited address (verified: the link came to it) that joins
        at once and is signed in. AccountExists when the address has one: sign in instead."""
        preview = await self.preview(raw)
        if preview.account_exists:
            raise AccountExists(N_("This address already has an account: sign in to accept."))
        async with self._db.transaction() as tx:
            user = await self._users.create(preview.invitation.email, username, password,
                                            ip_address=meta.ip_address, email_verified=True,
                                            session=tx)
            self._audit.record(tx, "USER_SIGNUP_COMPLETED", user_id=user.id,
                               ip_address=meta.ip_address, details={"via": "invitation"})
            joined = await self._join(tx, raw, user, meta)
        signed_in = await self._first.open_session(user, meta, "invitation")
        return InvitationAccepted(joined.user, joined.organization, joined.team, joined.role,
                                  signed_in)

    # ---- inside -------------------------------------------------------------------------

    async def _join(self, tx: AsyncSession, raw: str, user: User, meta: RequestMeta
                    ) -> InvitationAccepted:
        row = await self._store.take(tx, raw, user.email_canonical, user.id)
        if row is None:
            found = self._usable(await self._store.by_token(tx, raw))
            if found.email_canonical != user.email_canonical:
                raise PermissionDenied(OTHER_ADDRESS)
            raise TokenInvalid()
        org, team, scope = await self._place(tx, row.organization_id, row.team_id)
        if team is not None and not await self._store.roles_at(tx, user.id, org_scope(org.id)):
            raise PermissionDenied(N_("Join the organization before its teams."))
        if row.invited_by_id is None:
            raise TokenInvalid(N_("The person who sent this invitation no longer has an account."))
        await self._roles.assign_to_user(user.id, row.role_name, row.invited_by_id, scope, tx,
                                         ip_address=meta.ip_address)
        if not user.email_verified:
            user.email_verified = True
            self._revocation.user_changed(tx, user.id)
        self._audit.record(tx, "MEMBER_JOINED", user_id=user.id, actor_id=row.invited_by_id,
                           ip_address=meta.ip_address,
                           details={"invitation_id": row.id, "organization_id": org.id,
                                    "team_id": row.team_id, "role": row.role_name})
        self._db.emit(tx, member_joined, user_id=user.id, organization_id=org.id,
                      team_id=row.team_id, role=row.role_name, actor_id=row.invited_by_id)
        return InvitationAccepted(user, org, team, row.role_name)

    async def _place(self, tx: AsyncSession, org_id: str, team_id: str | None
                     ) -> tuple[Organization, Team | None, str]:
        org = await self._store.organization(tx, org_id)
        if team_id is None:
            return org, None, org_scope(org_id)
        team = await self._store.team(tx, team_id)
        if team.organization_id != org_id:
            raise NotFound(N_("Team not found."))
        return org, team, team_scope(org_id, team_id)

    async def _live(self, tx: AsyncSession, actor_id: str, invitation_id: str) -> Invitation:
        row = await tx.get(Invitation, invitation_id)
        if row is None or row.accepted_at is not None or row.revoked_at is not None \
                or row.expires_at <= self._clock():
            raise NotFound(N_("No pending invitation with this id."))
        if row.team_id is None:
            needed, scope = "org:invite_member", org_scope(row.organization_id)
        else:
            needed, scope = "team:invite_member", team_scope(row.organization_id, row.team_id)
        require(await actor_grants(self._rbac, tx, actor_id), needed, scope)
        return row

    def _usable(self, row: Invitation | None) -> Invitation:
        if row is None or row.accepted_at is not None or row.revoked_at is not None:
            raise TokenInvalid()
        if row.expires_at <= self._clock():
            raise TokenExpired()
        return row

    async def _send(self, tx: AsyncSession, row: Invitation, raw: str, org: Organization,
                    team: Team | None, inviter: User | None, meta: RequestMeta) -> None:
        """The mail (and its count against the caps) in the flow's transaction ``tx``."""
        if not await self._quota.allow(row.email, meta.ip_address, session=tx):
            return
        kind = "team_invite" if team else "org_invite"
        await self._mail.enqueue(
            kind, row.email, session=tx, inviter_name=inviter.username if inviter else "Someone",
            org_name=org.name, team_name=team.name if team else "", role=row.role_name,
            expires_days=max(1, self._settings.invitation_expiry_seconds // 86400),
            join_link=self._mail.link("join_team" if team else "join_organization", token=raw))
