"""Schemas of the passkey area (``authtuna_passkeys``, under PASSKEYS_PREFIX).

Options and credentials are WebAuthn's JSON forms (W3C WebAuthn Level 3:
``PublicKeyCredentialCreationOptionsJSON``, ``RegistrationResponseJSON`` and their
authentication twins), so they are described as objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .auth import CheckEmail, SignIn, TokenQuery, UserSummary
from .envelope import NoInput
from .operations import PAGE, Op, answers, ok


@dataclass
class PasskeyLoginIn:
    credential: dict[str, Any]


@dataclass
class RegisterIn(PasskeyLoginIn):
    nickname: str | None = None


@dataclass
class PasskeyMfaIn(PasskeyLoginIn):
    """``mfa_token`` is needed only without the pending-sign-in cookie."""

    mfa_token: str | None = None


@dataclass
class RenameIn:
    nickname: str


@dataclass
class Passkey:
    id: str
    nickname: str
    created_at: float
    last_used_at: float | None
    backed_up: bool
    flagged: bool


@dataclass
class PasskeyCreated:
    passkey: Passkey


@dataclass
class PasskeyList:
    passkeys: list[Passkey]


@dataclass
class Renamed:
    renamed: bool


@dataclass
class Deleted:
    deleted: bool


@dataclass
class PasskeySignupIn:
    username: str
    email: str


@dataclass
class SignupToken:
    """REQUIRE_EMAIL_VERIFICATION off: the sign-up's secret, for the ceremony that follows."""

    signup_token: str


@dataclass
class SignupTokenIn:
    """The emailed link's token (or ``signup_token``)."""

    token: str


@dataclass
class SignupCompleteIn(SignupTokenIn):
    credential: dict[str, Any]
    nickname: str | None = None


@dataclass
class SignedUp:
    """The account exists and this client is signed in; the codes are shown this once."""

    user: UserSummary
    recovery_codes: list[str]
    next: str


@dataclass
class ReauthIn(PasskeyLoginIn):
    next: str | None = None


@dataclass
class RecoveryLoginIn:
    username_or_email: str
    code: str


@dataclass
class NextOnly:
    next: str


_OPTIONS = answers(dict[str, Any], request=NoInput, form=False)

ROUTES: dict[str, Op] = {
    "POST authtuna_passkeys.register_options": _OPTIONS,
    "POST authtuna_passkeys.register": answers(PasskeyCreated, 201, request=RegisterIn,
                                               form=False),
    "POST authtuna_passkeys.login_options": _OPTIONS,
    "POST authtuna_passkeys.login": answers(SignIn, request=PasskeyLoginIn, form=False),
    "POST authtuna_passkeys.mfa_login_options": _OPTIONS,
    "POST authtuna_passkeys.mfa_login": answers(SignIn, request=PasskeyMfaIn, form=False),
    "GET authtuna_passkeys.list_passkeys": answers(PasskeyList),
    "POST authtuna_passkeys.rename": answers(Renamed, request=RenameIn),
    "POST authtuna_passkeys.delete": answers(Deleted, request=NoInput),
    "POST authtuna_passkeys.reauth_options": _OPTIONS,
    "POST authtuna_passkeys.reauth": answers(NextOnly, request=ReauthIn, form=False),
    "GET authtuna_passkey_signup.start": PAGE,
    "POST authtuna_passkey_signup.start": Op(request=PasskeySignupIn, responses={
        200: ok(SignupToken), 202: ok(CheckEmail)}),
    "GET authtuna_passkey_signup.finish": Op(page=True, query=TokenQuery),
    "POST authtuna_passkey_signup.options": answers(dict[str, Any], request=SignupTokenIn,
                                                    form=False),
    "POST authtuna_passkey_signup.complete": answers(SignedUp, 201, request=SignupCompleteIn,
                                                     form=False),
    "GET authtuna_passkey_signup.recovery_login": PAGE,
    "POST authtuna_passkey_signup.recovery_login": answers(SignIn, request=RecoveryLoginIn),
}
