"""Schemas of social sign-in (``authtuna_sso`` under AUTH_PREFIX) and of connected accounts
in settings (``authtuna_account``, ``/ui/settings/connections``)."""

from __future__ import annotations

from dataclasses import dataclass

from .auth import SignIn, UserSummary
from .envelope import NoInput
from .operations import Op, answers


@dataclass
class NextQuery:
    """Where to land after signing in (a same-site path; anything else lands on ``/``)."""

    next: str | None = None


@dataclass
class CallbackQuery:
    """What the provider sends back: ``state`` and ``code``, or ``error``."""

    state: str | None = None
    code: str | None = None
    error: str | None = None


@dataclass
class AuthorizeUrl:
    """Send the browser here (the provider's authorize page)."""

    authorize_url: str


@dataclass
class SocialCallback:
    """Signed in (as SignIn), connected (``connected``: the provider), or a new person whose
    username must be chosen (``username_required``, ``signup_token`` for the signup route)."""

    next: str | None = None
    user: UserSummary | None = None
    mfa_required: bool | None = None
    mfa_token: str | None = None
    connected: str | None = None
    username_required: bool | None = None
    suggestion: str | None = None
    signup_token: str | None = None


@dataclass
class SocialUsernameIn:
    username: str
    next: str | None = None
    signup_token: str | None = None


@dataclass
class ConnectionOut:
    provider: str
    display_name: str
    connected: bool
    connected_at: float | None


@dataclass
class Disconnected:
    disconnected: str


ROUTES: dict[str, Op] = {
    "GET authtuna_sso.login": answers(AuthorizeUrl, query=NextQuery, page=True),
    "GET authtuna_sso.callback": answers(SocialCallback, query=CallbackQuery, page=True),
    "GET authtuna_sso.signup": Op(page=True, query=NextQuery),
    "POST authtuna_sso.signup": answers(SignIn, request=SocialUsernameIn),
    "GET authtuna_account.connections": answers(list[ConnectionOut]),
    "POST authtuna_account.connect": answers(AuthorizeUrl, request=NoInput),
    "POST authtuna_account.disconnect": answers(Disconnected, request=NoInput),
}
