"""Schemas of the admin area (``authtuna_admin``, under ADMIN_PREFIX)."""

from __future__ import annotations

from dataclasses import dataclass

from .envelope import NoInput, Paged
from .operations import Op, answers


@dataclass
class UserSearch:
    """``identity`` is upstream's name for ``q``; ``cursor`` continues a page (``skip`` is
    upstream's offset). Flags take ``true``/``false``."""

    q: str | None = None
    identity: str | None = None
    role: str | None = None
    scope: str | None = None
    is_active: bool | None = None
    verified: bool | None = None
    mfa: bool | None = None
    sort: str | None = None
    limit: int | None = None
    cursor: str | None = None
    skip: int | None = None


@dataclass
class RoleName:
    role_name: str
    scope: str


@dataclass
class UserFields:
    id: str
    username: str
    email: str
    first_name: str | None
    last_name: str | None
    is_active: bool
    email_verified: bool
    mfa_enabled: bool
    created_at: float
    last_login: float | None


@dataclass
class AdminUser(UserFields):
    roles: list[RoleName]


@dataclass
class HeldRole:
    role_name: str
    scope: str
    level: int | None
    given_by: str
    given_at: float


@dataclass
class UserSession:
    session_id: str
    device: str
    region: str
    ip_address: str | None
    created_at: float
    last_active: float
    method: str


@dataclass
class UserApiKey:
    id: str
    name: str
    key_type: str
    created_at: float
    last_used_at: float | None
    expires_at: float | None


@dataclass
class UserRecord(UserFields):
    """``can_assign``: this admin may give or take roles of this user."""

    roles: list[HeldRole]
    sessions: list[UserSession]
    api_keys: list[UserApiKey]
    can_assign: bool


@dataclass
class ScopeQuery:
    scope: str = "global"


@dataclass
class ScopeMeta:
    scope: str


@dataclass
class AssignableRoles:
    """Role names this admin may give this user at ``meta.scope``."""

    status: int
    data: list[str]
    meta: ScopeMeta


@dataclass
class ReasonIn:
    """Kept in the audit log."""

    reason: str | None = None


@dataclass
class ActiveState:
    user_id: str
    is_active: bool


@dataclass
class RoleIn:
    user_id: str
    role_name: str
    scope: str = "global"


@dataclass
class RoleAssigned:
    """``added`` is false when the user already held the role there."""

    user_id: str
    role_name: str
    scope: str
    added: bool


@dataclass
class RoleRevoked:
    """``removed``: how many grants were taken away."""

    user_id: str
    role_name: str
    scope: str
    removed: int


@dataclass
class SessionsEnded:
    user_id: str
    ended: int


@dataclass
class KeyRevoked:
    user_id: str
    key_id: str


@dataclass
class MfaReset:
    user_id: str
    mfa_enabled: bool


@dataclass
class LinkSent:
    """``sent``: which link went out."""

    user_id: str
    sent: str


_SEARCH = Op(query=UserSearch, responses={200: Paged[AdminUser]})
_ENDED = answers(SessionsEnded, request=NoInput)
_SENT = answers(LinkSent, request=NoInput)

ROUTES: dict[str, Op] = {
    "GET authtuna_admin.users": Op(query=UserSearch, responses={200: Paged[AdminUser]},
                                   page=True),
    "GET authtuna_admin.users_search": _SEARCH,
    "GET authtuna_admin.user_detail": answers(UserRecord, page=True),
    "GET authtuna_admin.user_details_data": answers(UserRecord),
    "GET authtuna_admin.assignable_roles": Op(query=ScopeQuery,
                                              responses={200: AssignableRoles}),
    "POST authtuna_admin.suspend": answers(ActiveState, request=ReasonIn),
    "POST authtuna_admin.unsuspend": answers(ActiveState, request=ReasonIn),
    "POST authtuna_admin.user_role_assign": answers(RoleAssigned, request=RoleIn),
    "POST authtuna_admin.user_role_revoke": answers(RoleRevoked, request=RoleIn),
    "POST authtuna_admin.user_session_end": _ENDED,
    "POST authtuna_admin.user_sessions_end_all": _ENDED,
    "POST authtuna_admin.user_api_key_revoke": answers(KeyRevoked, request=NoInput),
    "POST authtuna_admin.user_mfa_reset": answers(MfaReset, request=NoInput),
    "POST authtuna_admin.user_verification_resend": _SENT,
    "POST authtuna_admin.user_password_reset": _SENT,
}
