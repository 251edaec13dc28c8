"""Schemas of the MFA area (``authtuna_mfa``, under MFA_PREFIX)."""

from __future__ import annotations

from dataclasses import dataclass

from .auth import SignIn
from .operations import PAGE, Op, answers


@dataclass
class CodeIn:
    """A TOTP code (or, where accepted, a recovery code)."""

    code: str
    next: str | None = None


@dataclass
class ValidateLoginIn:
    """Finish a pending sign-in with the ``mfa_token`` the login answered."""

    mfa_token: str
    code: str


@dataclass
class RegenerateCodesIn:
    code: str | None = None


@dataclass
class RecoveryCodes:
    """Shown once; enabling MFA also ends the account's other sessions."""

    recovery_codes: list[str]
    other_sessions_ended: bool | None = None


@dataclass
class MfaState:
    mfa_enabled: bool


@dataclass
class MfaStatus:
    mfa_enabled: bool
    recovery_codes_left: int


_ENABLE = answers(RecoveryCodes, request=CodeIn)

ROUTES: dict[str, Op] = {
    "GET authtuna_mfa.setup": PAGE,
    "POST authtuna_mfa.setup": _ENABLE,
    "POST authtuna_mfa.verify": _ENABLE,
    "GET authtuna_mfa.challenge": PAGE,
    "POST authtuna_mfa.challenge": answers(SignIn, request=CodeIn),
    "POST authtuna_mfa.validate_login": answers(SignIn, request=ValidateLoginIn),
    "POST authtuna_mfa.disable": answers(MfaState, request=CodeIn),
    "GET authtuna_mfa.disable_page": PAGE,
    "POST authtuna_mfa.regenerate_codes": answers(RecoveryCodes, request=RegenerateCodesIn),
    "GET authtuna_mfa.status": answers(MfaStatus),
}
