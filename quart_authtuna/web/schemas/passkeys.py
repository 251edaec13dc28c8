"""Schemas of the passkey area (``authtuna_passkeys``, under PASSKEYS_PREFIX).

Options and credentials are WebAuthn's JSON forms (W3C WebAuthn Level 3:
``PublicKeyCredentialCreationOptionsJSON``, ``RegistrationResponseJSON`` and their
authentication twins), so they are described as objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .auth import SignIn
from .envelope import NoInput
from .operations import Op, answers


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
}
