"""What a changed password or address voids: emailed reset and sign-in links, and sign-ins
waiting at their second factor (so a link or a pending step from before cannot outlive it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from .challenges import MFA_LOGIN, ChallengeStore
from .managers.tokens import PASSWORD_RESET, PASSWORDLESS_LOGIN, TokenManager


@dataclass(frozen=True, slots=True)
class EmailedLinks:
    """Voids a user's outstanding links and pending MFA sign-ins, inside the caller's unit."""

    _tokens: TokenManager
    _challenges: ChallengeStore

    async def void(self, tx: AsyncSession, user_id: str) -> None:
        for purpose in (PASSWORD_RESET, PASSWORDLESS_LOGIN):
            await self._tokens.invalidate_all(user_id, purpose, session=tx)
        await self._challenges.void_for_user(user_id, MFA_LOGIN, session=tx)
