"""What a change of credential or address voids: the links and sign-ins already under way."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ..challenges import ChallengeStore
from ..managers.tokens import TokenManager
from .first_factor import MFA_LOGIN
from .magic_link import PURPOSE as MAGIC_LINK

RESET = "password_reset"


async def void_emailed_links(tx: AsyncSession, user_id: str, tokens: TokenManager,
                             challenges: ChallengeStore) -> None:
    """Outstanding reset and sign-in links, and pending MFA sign-ins, stop working (in
    ``tx``: they stop with the change that voids them)."""
    for purpose in (RESET, MAGIC_LINK):
        await tokens.invalidate_all(user_id, purpose, session=tx)
    await challenges.void_for_user(user_id, MFA_LOGIN, session=tx)
