"""User journeys shared by the HTML and JSON faces; no HTTP here.

Each journey is one module: a class built with the collaborators it uses, whose methods take
the inputs and the request's :class:`~quart_authtuna.core.types.RequestMeta` and return a
past-tense result (:mod:`.results`) or raise a core error. :class:`Flows` wires them once.

A journey's rows, its audit row and its mail commit in one transaction: send mail with
``await self._mail.enqueue(kind, to, session=tx, **context)`` inside it (the outbox's sender
delivers it after commit, and retries until the mail server takes it).
"""

from __future__ import annotations

from dataclasses import dataclass

from .account_deletion import AccountDeletion
from .admin_permissions import AdminPermissions
from .admin_roles import AdminRoles
from .admin_users import AdminUsers
from .api_keys import ApiKeys
from .data_export import DataExport
from .email_change import EmailChange
from .email_verification import EmailVerification
from .first_factor import FirstFactor
from .invitations import Invitations
from .login import PasswordLogin, Reauthentication
from .logout import Logout
from .magic_link import MagicLink
from .mfa_challenge import MfaChallenge
from .orgs import Organizations
from .overview import AccountOverview
from .passkey_login import PasskeyLogin
from .passkey_signup import PasskeySignup
from .passwords import Passwords
from .profile import Profile
from .recovery_login import RecoveryLogin
from .security_activity import SecurityActivity
from .signup import Signup
from .sso_login import SocialSignIn
from .teams import Teams
from .user_sessions import UserSessions


@dataclass(frozen=True, slots=True)
class Flows:
    """Every journey of one AuthService (built by the service, the composition root)."""

    first_factor: FirstFactor
    password_login: PasswordLogin
    reauthenticate: Reauthentication
    magic_link: MagicLink
    passkey_login: PasskeyLogin
    mfa_challenge: MfaChallenge
    logout: Logout
    signup: Signup
    email_verification: EmailVerification
    passwords: Passwords
    user_sessions: UserSessions
    api_keys: ApiKeys
    security_activity: SecurityActivity
    account_deletion: AccountDeletion
    account_overview: AccountOverview
    profile: Profile
    email_change: EmailChange
    admin_users: AdminUsers
    admin_permissions: AdminPermissions
    passkey_signup: PasskeySignup
    recovery_login: RecoveryLogin
    admin_roles: AdminRoles
    data_export: DataExport
    sso: SocialSignIn
    organizations: Organizations
    teams: Teams
    invitations: Invitations


__all__ = ["Flows"]
