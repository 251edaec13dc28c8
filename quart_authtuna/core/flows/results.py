"""What a finished journey reports: past-tense results, one small dataclass each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..db.models import Invitation, Organization, Permission, Team, User
from ..managers.sessions import IssuedSession
from ..rbac.grants import Grants


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Every required factor is done: a new session (its raw id goes into the cookie)."""

    user: User
    session: IssuedSession
    grants: Grants
    method: str
    #: The device cookie to set: this browser may sign in despite an account lockout.
    device_token: str | None = None


@dataclass(frozen=True, slots=True)
class MfaChallenged:
    """The first factor passed; ``handle`` resumes the sign-in at the second factor."""

    handle: str
    user_id: str


#: Every way in ends in one of these two.
SignInResult = SignedIn | MfaChallenged


@dataclass(frozen=True, slots=True)
class SocialConnected:
    """The provider identity is linked to the user (``added`` False: it already was)."""

    user_id: str
    provider: str
    added: bool


@dataclass(frozen=True, slots=True)
class SocialUsernameNeeded:
    """A new person whose provider name is taken or unusable: ``handle`` resumes the sign-up
    once they choose a username."""

    handle: str
    provider: str
    suggestion: str


@dataclass(frozen=True, slots=True)
class SocialReturned:
    """Where a provider's callback led, and the safe ``next`` the journey started with."""

    outcome: SignedIn | MfaChallenged | SocialConnected | SocialUsernameNeeded
    next: str


@dataclass(frozen=True, slots=True)
class SocialDisconnected:
    user_id: str
    provider: str


@dataclass(frozen=True, slots=True)
class SignedOut:
    ended: bool


@dataclass(frozen=True, slots=True)
class Reauthenticated:
    """The password was confirmed. A flagged session (its cookie was used from another device)
    is replaced: ``renewed`` carries the new session for the cookie."""

    authenticated_at: float
    renewed: SignedIn | None = None


@dataclass(frozen=True, slots=True)
class SignupAccepted:
    """Always the same to the caller; ``user`` is set only when an account was created at
    once (REQUIRE_EMAIL_VERIFICATION off): otherwise it is created when the link is confirmed.
    ``passkey_token`` is a passkey-first sign-up's link secret, handed back instead of mailed
    when verification is off (this browser runs the ceremony at once)."""

    user: User | None
    passkey_token: str | None = None


@dataclass(frozen=True, slots=True)
class EmailVerified:
    """The address is verified: an existing account's, or a pending sign-up's new account."""

    user: User


@dataclass(frozen=True, slots=True)
class PasswordChanged:
    user: User
    sessions_ended: int


@dataclass(frozen=True, slots=True)
class PasswordReset:
    user: User
    sessions_ended: int


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """One of the user's other sessions ended (its browser is signed out on its next request)."""

    session_id: str


@dataclass(frozen=True, slots=True)
class OtherSessionsEnded:
    count: int


@dataclass(frozen=True, slots=True)
class ApiKeyRevoked:
    """The key is refused from now on, in every process."""

    key_id: str
    #: The key's owner, when someone else (an admin) revoked it.
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccountDeleted:
    """The account is gone (archived without credentials); a goodbye notice was mailed."""

    user_id: str
    username: str
    sessions_ended: int
    keys_revoked: int


@dataclass(frozen=True, slots=True)
class UsernameChanged:
    user: User
    previous: str


@dataclass(frozen=True, slots=True)
class EmailChangeRequested:
    """Always the same whether or not the new address is free (the link goes only to a free
    one); ``expires_minutes`` is the link's lifetime."""

    new_email: str
    expires_minutes: int


@dataclass(frozen=True, slots=True)
class EmailChanged:
    user: User
    previous: str


# ---- the admin's journeys on one user (flows/admin_users.py) -----------------------------


@dataclass(frozen=True, slots=True)
class UserSuspended:
    """The account is off and every one of its sessions ended in the same transaction."""

    user: User
    active: bool


@dataclass(frozen=True, slots=True)
class RoleAssigned:
    user_id: str
    role: str
    scope: str
    #: False when the user already held the role there.
    added: bool


@dataclass(frozen=True, slots=True)
class RoleRevoked:
    user_id: str
    role: str
    scope: str
    removed: int


@dataclass(frozen=True, slots=True)
class SessionsEnded:
    user_id: str
    count: int


@dataclass(frozen=True, slots=True)
class MfaReset:
    user_id: str


@dataclass(frozen=True, slots=True)
class LinkSent:
    """A verification (``kind="verification"``) or reset link was mailed to the user."""

    user_id: str
    kind: str


@dataclass(frozen=True, slots=True)
class PermissionCreated:
    """The named permission; ``created`` is False when it already existed (nothing changed)."""

    permission: Permission
    created: bool


@dataclass(frozen=True, slots=True)
class PasskeySignedUp:
    """A passkey-first account exists and this browser is signed in; ``recovery_codes`` are
    shown this once."""

    signed_in: SignedIn
    passkey_nickname: str
    recovery_codes: list[str]
# ---- organizations and teams ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrganizationCreated:
    """The organization exists and its creator owns it."""

    organization: Organization


@dataclass(frozen=True, slots=True)
class TeamCreated:
    """The team exists and its creator leads it."""

    team: Team


@dataclass(frozen=True, slots=True)
class OrganizationDeleted:
    """Gone, with its teams, invitations and every role held in them."""

    organization_id: str
    members: int


@dataclass(frozen=True, slots=True)
class TeamDeleted:
    team_id: str
    organization_id: str
    members: int


@dataclass(frozen=True, slots=True)
class MemberRemoved:
    """The user no longer holds a role in the organization (or team) or below it."""

    user_id: str
    organization_id: str
    team_id: str | None
    roles_removed: int


@dataclass(frozen=True, slots=True)
class MemberAdded:
    """An organization member now holds ``role`` in the team."""

    user_id: str
    team_id: str
    role: str


@dataclass(frozen=True, slots=True)
class OwnershipTransferred:
    organization_id: str
    from_user_id: str
    to_user_id: str


@dataclass(frozen=True, slots=True)
class InvitationSent:
    """A pending invitation; the link went to ``invitation.email`` only."""

    invitation: Invitation


@dataclass(frozen=True, slots=True)
class InvitationRevoked:
    invitation_id: str


@dataclass(frozen=True, slots=True)
class InvitationAccepted:
    """The user joined with the invitation's role; ``signed_in`` when they signed up from it."""

    user: User
    organization: Organization
    team: Team | None
    role: str
    signed_in: SignedIn | None = None


# ---- the admin's journeys on roles (flows/admin_roles.py) --------------------------------


@dataclass(frozen=True, slots=True)
class RoleCreated:
    name: str
    description: str | None
    level: int | None


@dataclass(frozen=True, slots=True)
class RoleDeleted:
    """The role is gone; ``holders`` users lost it (their cached grants were dropped)."""

    name: str
    holders: int


@dataclass(frozen=True, slots=True)
class RolePermissionChanged:
    role: str
    permission: str
    #: True when attached, False when detached.
    attached: bool
    #: False when nothing changed (already attached).
    changed: bool


@dataclass(frozen=True, slots=True)
class RoleGrantChanged:
    """A row of ``role_assign_permissions`` (kind ``role``) or ``role_grant_permissions``
    (kind ``permission``) was added (``granted``) or removed."""

    granter: str
    target: str
    kind: str
    granted: bool
    changed: bool


@dataclass(frozen=True, slots=True)
class DataExported:
    """Everything stored about one account, as JSON-ready data (no secret, no hash)."""

    user_id: str
    username: str
    data: dict[str, Any]
