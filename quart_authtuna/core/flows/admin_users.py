"""An admin acting on one user: suspend, roles, sessions, API keys, MFA, links.

Rules (the actor ``system``, i.e. the CLI, bypasses them):

* nobody acts on their own account here (their own roles included);
* the actor needs the action's permission in ``global`` (``admin:manage:users``, or
  ``admin:manage:roles`` for roles) and a global level above the target's highest level
  anywhere (:func:`~..rbac.assignment.outranks_user`);
* a role is given or taken only through the three pathways at that scope (RoleManager).

Each action is one transaction holding the check, the change and its audit rows (with the
actor and, from a request, its IP address); caches are dropped through
:class:`~..revocation.Revocation` after it commits, and mail goes out after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import ApiKey, User, UserSession
from ..db.unit_of_work import UnitOfWork
from ..errors import ConflictError, EscalationDenied, InputError, NotFound
from ..i18n import N_, gettext
from ..mail import Mailer
from ..managers.api_keys import ApiKeyManager
from ..managers.audit import AuditManager
from ..managers.mfa import MFAManager
from ..managers.pending_signups import VerificationLink
from ..managers.roles import RoleManager
from ..managers.sessions import SessionManager
from ..managers.tokens import TokenManager
from ..managers.users import UserManager
from ..rbac import assignment
from ..rbac.checker import RbacChecker
from ..rbac.scopes import validate_scope
from ..revocation import Revocation
from ..types import SYSTEM_ACTOR, FieldError, RequestMeta
from .email_verification import PURPOSE as VERIFY
from .email_verification import EmailVerification
from .passwords import Passwords
from .results import (
    ApiKeyRevoked,
    LinkSent,
    MfaReset,
    RoleAssigned,
    RoleRevoked,
    SessionsEnded,
    UserSuspended,
)

#: The request of an action with none (the CLI): no address to record.
NO_REQUEST = RequestMeta()


@dataclass(frozen=True, slots=True)
class AdminUsers:
    """The admin's journeys on one user (also the CLI's, as the system actor)."""

    _db: UnitOfWork
    _rbac: RbacChecker
    _audit: AuditManager
    _users: UserManager
    _roles: RoleManager
    _sessions: SessionManager
    _api_keys: ApiKeyManager
    _mfa: MFAManager
    _tokens: TokenManager
    _verification: EmailVerification
    _passwords: Passwords
    _mail: Mailer
    _revocation: Revocation

    async def authorize(self, tx: AsyncSession, actor_id: str, user_id: str,
                        permission: str = assignment.MANAGE_USERS) -> User:
        """The target user, once the actor may act on them (EscalationDenied otherwise)."""
        user = await tx.get(User, user_id)
        if user is None:
            raise NotFound(N_("User not found."))
        if actor_id == SYSTEM_ACTOR:
            return user
        if actor_id == user_id:
            raise EscalationDenied(N_("You cannot change your own account or roles here."))
        actor = await self._rbac.grants_for(actor_id, tx, fresh=True)
        target = await self._rbac.grants_for(user_id, tx, fresh=True)
        if not actor.has_permission(permission, "global"):
            raise EscalationDenied(f"This needs the permission {permission}.")
        if not assignment.outranks_user(actor, target):
            raise EscalationDenied(N_("You may not act on a user whose role is at or above yours."))
        return user

    async def may_act_on(self, actor_id: str, user_id: str,
                         permission: str = assignment.MANAGE_USERS) -> bool:
        """Whether :meth:`authorize` would pass (for showing or hiding the page's buttons)."""
        try:
            async with self._db.transaction() as tx:
                await self.authorize(tx, actor_id, user_id, permission)
        except (EscalationDenied, NotFound):
            return False
        return True

    async def set_active(self, actor_id: str, user_id: str, active: bool, reason: str = "",
                         meta: RequestMeta = NO_REQUEST) -> UserSuspended:
        """Suspend (ending every session at once) or unsuspend the account."""
        async with self._db.transaction() as tx:
            await self.authorize(tx, actor_id, user_id)
        change = self._users.unsuspend_user if active else self._users.suspend_user
        return UserSuspended(await change(user_id, actor_id, reason.strip(),
                                          ip_address=meta.ip_address), active)

    async def assign_role(self, actor_id: str, user_id: str, role: str, scope: str,
                          meta: RequestMeta = NO_REQUEST) -> RoleAssigned:
        scope = _scope(scope)
        async with self._db.transaction() as tx:
            await self.authorize(tx, actor_id, user_id, assignment.MANAGE_ROLES)
            added = await self._roles.assign_to_user(user_id, role, actor_id, scope, session=tx,
                                                     ip_address=meta.ip_address)
        return RoleAssigned(user_id, role, scope, added)

    async def revoke_role(self, actor_id: str, user_id: str, role: str, scope: str,
                          meta: RequestMeta = NO_REQUEST) -> RoleRevoked:
        scope = _scope(scope)
        async with self._db.transaction() as tx:
            await self.authorize(tx, actor_id, user_id, assignment.MANAGE_ROLES)
            removed = await self._roles.remove_from_user(user_id, role, actor_id, scope,
                                                         session=tx, ip_address=meta.ip_address)
        if not removed:
            raise NotFound(f"The user does not hold {role} in {scope}.")
        return RoleRevoked(user_id, role, scope, removed)

    async def end_session(self, actor_id: str, user_id: str, session_id: str,
                          meta: RequestMeta = NO_REQUEST) -> SessionsEnded:
        """End one of the user's sessions (by its stored id); its cookie is refused at once."""
        async with self._db.transaction() as tx:
            await self.authorize(tx, actor_id, user_id)
            row = await tx.get(UserSession, session_id)
            if row is None or row.user_id != user_id or not row.active:
                raise NotFound(N_("That session has already ended."))
            await self._sessions.terminate(session_id, reason="admin", session=tx,
                                           actor_id=actor_id, ip_address=meta.ip_address)
        return SessionsEnded(user_id, 1)

    async def end_all_sessions(self, actor_id: str, user_id: str,
                               meta: RequestMeta = NO_REQUEST) -> SessionsEnded:
        async with self._db.transaction() as tx:
            await self.authorize(tx, actor_id, user_id)
            count = await self._sessions.terminate_all_for_user(
                user_id, reason="admin", session=tx, actor_id=actor_id,
                ip_address=meta.ip_address)
        return SessionsEnded(user_id, count)

    async def revoke_api_key(self, actor_id: str, user_id: str, key_id: str,
                             meta: RequestMeta = NO_REQUEST) -> ApiKeyRevoked:
        async with self._db.transaction() as tx:
            await self.authorize(tx, actor_id, user_id)
            if await tx.get(ApiKey, key_id) is None:
                raise NotFound(N_("API key not found."))
            await self._api_keys.delete_key(key_id, user_id, actor_id=actor_id, session=tx,
                                            ip_address=meta.ip_address)
        return ApiKeyRevoked(key_id, user_id)

    async def reset_mfa(self, actor_id: str, user_id: str, meta: RequestMeta) -> MfaReset:
        """Turn two-factor off and delete the recovery codes (a user who lost their device)."""
        async with self._db.transaction() as tx:
            user = await self.authorize(tx, actor_id, user_id)
            if not user.mfa_enabled:
                raise ConflictError(gettext("Two-factor authentication is not on for this user."))
            await self._mfa.remove_all(tx, user)
            self._audit.record(tx, "MFA_DISABLED", user_id=user_id, actor_id=actor_id,
                               ip_address=meta.ip_address, details={"reset_by_admin": True})
            self._revocation.user_changed(tx, user_id)
            await self._mail.enqueue("mfa_removed", user.email, session=tx,
                                     username=user.username)
        return MfaReset(user_id)

    async def resend_verification(self, actor_id: str, user_id: str, meta: RequestMeta
                                  ) -> LinkSent:
        """A new verification link (earlier ones stop working) for an unverified address."""
        async with self._db.transaction() as tx:
            user = await self.authorize(tx, actor_id, user_id)
            if user.email_verified:
                raise ConflictError(gettext("This email address is already verified."))
            issued = await self._tokens.create(user.id, VERIFY, session=tx)
            self._audit.record(tx, "EMAIL_VERIFICATION_SENT", user_id=user_id,
                               actor_id=actor_id, ip_address=meta.ip_address)
            await self._verification.mail_link(
                VerificationLink(user.username, user.email, issued.raw), tx)
        return LinkSent(user_id, "verification")

    async def send_reset_link(self, actor_id: str, user_id: str, meta: RequestMeta
                              ) -> LinkSent:
        """Mail a password reset link, under the same daily limits as the user's own."""
        async with self._db.transaction() as tx:
            user = await self.authorize(tx, actor_id, user_id)
        if not user.is_active:
            raise ConflictError(gettext("The account is suspended; unsuspend it first."))
        if await self._passwords.request_reset(user.email, meta) is None:
            raise ConflictError(gettext("No link was sent: the daily limit of emails was reached."))
        async with self._db.transaction() as tx:
            self._audit.record(tx, "PASSWORD_RESET_SENT_BY_ADMIN", user_id=user_id,
                               actor_id=actor_id, ip_address=meta.ip_address)
        return LinkSent(user_id, "password_reset")


def _scope(scope: str) -> str:
    try:
        return validate_scope(scope.strip() or "global")
    except ValueError as exc:
        raise InputError([FieldError("invalid_scope", f"That scope is not valid: {exc}.",
                                     "scope")]) from None
