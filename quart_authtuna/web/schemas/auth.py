"""Schemas of the sign-in area (``authtuna_auth``, under AUTH_PREFIX)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .envelope import NoInput
from .operations import PAGE, Op, answers


@dataclass
class LoginIn:
    username_or_email: str
    password: str
    next: str | None = None


@dataclass
class SignupIn:
    username: str
    email: str
    password: str


@dataclass
class EmailIn:
    email: str


@dataclass
class TokenIn:
    """The token from the emailed link."""

    token: str


@dataclass
class TokenQuery:
    """The emailed link's ``?token=`` fills the page's form."""

    token: str | None = None


@dataclass
class ResetPasswordIn:
    token: str
    new_password: str


@dataclass
class ChangePasswordIn:
    current_password: str
    new_password: str


@dataclass
class ReauthenticateIn:
    password: str
    next: str | None = None


@dataclass
class UserSummary:
    id: str
    username: str
    email: str
    email_verified: bool
    mfa_enabled: bool


@dataclass
class SignIn:
    """Signed in (``user``, a session cookie is set), or the second factor is needed
    (``mfa_required``, ``mfa_token`` for ``/mfa/validate-login``; ``next`` is then the
    challenge page)."""

    next: str
    user: UserSummary | None = None
    mfa_required: bool | None = None
    mfa_token: str | None = None


@dataclass
class CheckEmail:
    """Sent whether or not the address is known (no account enumeration)."""

    message: Literal["check_email"]


@dataclass
class LoggedOut:
    logged_out: bool


@dataclass
class Verified:
    user: UserSummary


@dataclass
class PasswordReset:
    """Every session of the account was ended."""

    password_reset: bool


@dataclass
class PasswordChanged:
    """The other sessions were ended."""

    password_changed: bool


@dataclass
class PasswordSet:
    """A first password (the account had none); the other sessions were ended."""

    password_set: bool


@dataclass
class SetPasswordIn:
    new_password: str


@dataclass
class RoleAt:
    role: str
    scope: str


@dataclass
class UserInfo:
    id: str
    username: str
    email: str
    email_verified: bool
    mfa_enabled: bool
    roles: list[RoleAt]


@dataclass
class NextTarget:
    next: str


_EMAILED = answers(CheckEmail, 202, request=EmailIn)

ROUTES: dict[str, Op] = {
    "GET authtuna_auth.login": PAGE,
    "POST authtuna_auth.login": answers(SignIn, request=LoginIn),
    "POST authtuna_auth.logout": answers(LoggedOut, request=NoInput),
    "GET authtuna_auth.signup": PAGE,
    "POST authtuna_auth.signup": answers(CheckEmail, 202, request=SignupIn),
    "GET authtuna_auth.verify": Op(page=True, query=TokenQuery),
    "POST authtuna_auth.verify": answers(Verified, request=TokenIn),
    "GET authtuna_auth.resend_verification": PAGE,
    "POST authtuna_auth.resend_verification": _EMAILED,
    "GET authtuna_auth.forgot_password": PAGE,
    "POST authtuna_auth.forgot_password": _EMAILED,
    "GET authtuna_auth.reset_password": Op(page=True, query=TokenQuery),
    "POST authtuna_auth.reset_password": answers(PasswordReset, request=ResetPasswordIn),
    "GET authtuna_auth.change_password": PAGE,
    "POST authtuna_auth.change_password": answers(PasswordChanged, request=ChangePasswordIn),
    "GET authtuna_auth.passwordless_request": PAGE,
    "POST authtuna_auth.passwordless_request": _EMAILED,
    "GET authtuna_auth.passwordless_login": Op(page=True, query=TokenQuery),
    "POST authtuna_auth.passwordless_login": answers(SignIn, request=TokenIn),
    "GET authtuna_auth.user_info": answers(UserInfo),
    "GET authtuna_auth.set_password": PAGE,
    "POST authtuna_auth.set_password": answers(PasswordSet, request=SetPasswordIn),
    "GET authtuna_auth.reauthenticate": PAGE,
    "POST authtuna_auth.reauthenticate": answers(NextTarget, request=ReauthenticateIn),
}
