"""Schemas of the user area: ``authtuna_ui`` (UI_PREFIX) and ``authtuna_account``
(UI_PREFIX + ``/settings``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ...core.flows.security_activity import ActivityEntry
from .auth import EmailIn, TokenIn, TokenQuery, UserSummary, Verified
from .envelope import NoInput
from .operations import PAGE, Op, answers


@dataclass
class OwnerSummary:
    id: str
    username: str
    email: str


@dataclass
class SignInPlace:
    at: float
    device: str
    region: str
    ip_address: str | None
    method: str


@dataclass
class RecentEvent:
    event_type: str
    description: str
    timestamp: float
    ip_address: str | None


@dataclass
class AccountStatus:
    user: OwnerSummary
    email_verified: bool
    mfa_enabled: bool
    passkeys: int
    active_sessions: int
    last_login: float | None
    previous_sign_in: SignInPlace | None
    recent_events: list[RecentEvent]


@dataclass
class UsernameIn:
    username: str


@dataclass
class UsernameChanged:
    user: UserSummary
    previous_username: str


@dataclass
class EmailChangeRequested:
    """A link went to the new address; the old one is told. Nothing changes until then."""

    new_email: str
    expires_minutes: int


@dataclass
class ActiveSession:
    session_id: str
    region: str
    device: str
    last_ip: str | None
    ctime: float
    mtime: float
    is_current: bool


@dataclass
class SessionEnded:
    session_id: str
    ended: bool


@dataclass
class SessionsEnded:
    """How many other sessions were ended."""

    ended: int


@dataclass
class ScopeChoice:
    role_name: str
    scope: str
    display: str
    permissions: list[str]


@dataclass
class Scopes:
    scopes: list[ScopeChoice]


@dataclass
class ApiKey:
    id: str
    name: str
    key_type: str
    created_at: float
    expires_at: float | None
    last_used_at: float | None


@dataclass
class CreateApiKeyIn:
    """``scopes`` are ``Role:scope`` choices from ``available-scopes``; JSON clients set the
    lifetime in ``valid_seconds``, browsers choose ``valid_days``."""

    name: str
    key_type: Literal["secret", "test", "public", "master"] = "secret"
    scopes: list[str] = field(default_factory=list)
    valid_seconds: int | None = None
    valid_days: int | None = None


@dataclass
class IssuedApiKey(ApiKey):
    """The plaintext is shown this once."""

    plaintext: str
    scopes: list[str]


@dataclass
class ApiKeyCreated:
    message: str
    api_key: IssuedApiKey


@dataclass
class ApiKeyRevoked:
    id: str
    revoked: bool


@dataclass
class ActivityQuery:
    """``before``: the ``next_cursor`` of the previous page."""

    before: str | None = None


@dataclass
class ActivityPage:
    events: list[ActivityEntry]
    next_cursor: str | None


@dataclass
class DeleteAccountIn:
    """The account's username, typed to confirm."""

    confirmation: str


@dataclass
class AccountDeleted:
    deleted: bool
    sessions_ended: int
    api_keys_revoked: int


_REVOKE = answers(ApiKeyRevoked, request=NoInput)

ROUTES: dict[str, Op] = {
    "GET authtuna_ui.dashboard": answers(AccountStatus, page=True),
    "GET authtuna_ui.profile": PAGE,
    "POST authtuna_ui.profile": answers(UsernameChanged, request=UsernameIn),
    "PATCH authtuna_ui.profile": answers(UsernameChanged, request=UsernameIn),
    "GET authtuna_ui.change_email": PAGE,
    "POST authtuna_ui.change_email": answers(EmailChangeRequested, 202, request=EmailIn),
    "GET authtuna_ui.confirm_email": Op(page=True, query=TokenQuery),
    "POST authtuna_ui.confirm_email": answers(Verified, request=TokenIn),
    "GET authtuna_ui.settings": PAGE,
    "GET authtuna_account.sessions": answers(list[ActiveSession]),
    "POST authtuna_account.terminate_session": answers(SessionEnded, request=NoInput),
    "POST authtuna_account.terminate_all_sessions": answers(SessionsEnded, request=NoInput),
    "GET authtuna_account.available_scopes": answers(Scopes),
    "GET authtuna_account.api_keys": answers(list[ApiKey]),
    "POST authtuna_account.api_keys": answers(ApiKeyCreated, 201, request=CreateApiKeyIn),
    "POST authtuna_account.revoke_api_key": _REVOKE,
    "DELETE authtuna_account.revoke_api_key": _REVOKE,
    "GET authtuna_account.activity": answers(ActivityPage, query=ActivityQuery, page=True),
    "GET authtuna_account.delete_account": PAGE,
    "POST authtuna_account.delete_account": answers(AccountDeleted, request=DeleteAccountIn),
}
