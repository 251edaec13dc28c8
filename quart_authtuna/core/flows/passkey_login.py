"""Passkey sign-in: with user verification it is both factors, without it the first one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..managers.passkeys import LOGIN, PasskeyManager
from ..types import RequestMeta
from .first_factor import FirstFactor
from .results import SignInResult


@dataclass(frozen=True, slots=True)
class PasskeyLogin:

    _passkeys: PasskeyManager
    _first_factor: FirstFactor

    async def __call__(self, credential: dict[str, Any] | str, binding: str, meta: RequestMeta
                       ) -> SignInResult:
        found = await self._passkeys.authenticate(credential, binding, LOGIN,
                                                  ip_address=meta.ip_address)
        return await self._first_factor.finished(found.user, meta, "passkey",
                                                 second_factor_done=found.user_verified)
