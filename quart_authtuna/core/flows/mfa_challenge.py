"""The second step of a sign-in: a TOTP or recovery code, or a passkey, for a pending login."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..challenges import MFA_LOGIN, ChallengeStore
from ..errors import InvalidCredentials
from ..i18n import N_
from ..managers.passkeys import MFA as PASSKEY_MFA
from ..managers.passkeys import PasskeyManager
from ..types import RequestMeta
from .first_factor import MFA_ATTEMPTS, FirstFactor
from .results import SignedIn
from .totp import Totp


@dataclass(frozen=True, slots=True)
class MfaChallenge:
    """Check the second factor for a pending login; the challenge is used at most once."""

    _challenges: ChallengeStore
    _mfa: Totp
    _passkeys: PasskeyManager
    _first_factor: FirstFactor

    async def pending_user(self, handle: str) -> str:
        """The user id of a live pending login (TokenInvalid/TokenExpired otherwise)."""
        row = await self._challenges.get(handle, MFA_LOGIN, max_attempts=MFA_ATTEMPTS)
        assert row.user_id is not None
        return row.user_id

    async def _attempt(self, handle: str) -> str:
        """Count one attempt on the challenge before any check (at most MFA_ATTEMPTS)."""
        row = await self._challenges.reserve_attempt(handle, MFA_LOGIN,
                                                     max_attempts=MFA_ATTEMPTS)
        assert row.user_id is not None
        return row.user_id

    async def with_code(self, handle: str, code: str, meta: RequestMeta) -> SignedIn:
        user_id = await self._attempt(handle)
        if not await self._mfa.verify_code(user_id, code, meta.ip_address):
            raise InvalidCredentials(N_("That code is not valid."))
        return await self._finish(handle, meta, "totp")

    async def with_passkey(self, handle: str, credential: dict[str, Any] | str, binding: str,
                           meta: RequestMeta) -> SignedIn:
        user_id = await self._attempt(handle)
        await self._passkeys.authenticate(credential, binding, PASSKEY_MFA,
                                          expected_user_id=user_id, ip_address=meta.ip_address)
        return await self._finish(handle, meta, "passkey")

    async def _finish(self, handle: str, meta: RequestMeta, factor: str) -> SignedIn:
        pending = await self._challenges.consume(handle, MFA_LOGIN)
        method = f"{pending.data.get('method')}+{factor}"
        return await self._first_factor.open_session(pending.user_id or "", meta, method)
