"""Passkey sign-in: with user verification it is both factors, without it the first one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..managers.passkeys import LOGIN, PasskeyManager
from ..throttle import Throttle, ip_key
from ..types import RequestMeta
from .first_factor import FirstFactor
from .results import SignedIn, SignInResult


@dataclass(frozen=True, slots=True)
class PasskeyLogin:
    """A discoverable-credential assertion, counted like any sign-in attempt per IP."""

    _passkeys: PasskeyManager
    _throttle: Throttle
    _first_factor: FirstFactor

    async def __call__(self, credential: dict[str, Any] | str, binding: str, meta: RequestMeta
                       ) -> SignInResult:
        reservation = await self._throttle.reserve([ip_key(meta.ip_address)])
        found = await self._passkeys.authenticate(credential, binding, LOGIN,
                                                  ip_address=meta.ip_address)
        if found.user_verified or not found.user.mfa_enabled:
            result: SignedIn = await self._first_factor.open_session(
                found.user, meta, "passkey", reservation=reservation)
            return result
        await self._throttle.release(reservation)
        return await self._first_factor.finished(found.user, meta, "passkey")
