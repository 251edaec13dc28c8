"""SocialAccountManager: the social_accounts table (provider identities keyed by subject)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.fernet import Encryptor
from ..db.models import PasskeyCredential, SocialAccount, User
from ..types import Clock


@dataclass(frozen=True, slots=True)
class SocialAccountManager:
    """Find, link and unlink provider identities; provider tokens are Fernet-encrypted."""

    _clock: Clock
    _encryptor: Encryptor

    async def find(self, tx: AsyncSession, provider: str, subject: str) -> SocialAccount | None:
        return await tx.scalar(select(SocialAccount).where(
            SocialAccount.provider == provider, SocialAccount.provider_user_id == subject))

    async def for_user(self, tx: AsyncSession, user_id: str) -> Sequence[SocialAccount]:
        return (await tx.scalars(select(SocialAccount).where(SocialAccount.user_id == user_id)
                                 .order_by(SocialAccount.created_at))).all()

    def link(self, tx: AsyncSession, user_id: str, provider: str, subject: str,
             token: dict[str, Any], profile: dict[str, Any]) -> SocialAccount:
        """Add the link (the unique (provider, subject) constraint refuses a second owner)."""
        row = SocialAccount(user_id=user_id, provider=provider, provider_user_id=subject,
                            extra_data=profile, created_at=self._clock(),
                            last_used_at=self._clock())
        self._store_token(row, token)
        tx.add(row)
        return row

    def used(self, row: SocialAccount, token: dict[str, Any]) -> None:
        """A sign-in through the link: its time and the fresh provider tokens."""
        row.last_used_at = self._clock()
        self._store_token(row, token)

    async def unlink(self, tx: AsyncSession, user_id: str, provider: str) -> int:
        result = await tx.execute(delete(SocialAccount).where(
            SocialAccount.user_id == user_id, SocialAccount.provider == provider))
        return int(getattr(result, "rowcount", 0) or 0)

    async def other_ways_in(self, tx: AsyncSession, user_id: str, provider: str) -> int:
        """Ways to sign in left without ``provider``: a password, passkeys, other links."""
        user = await tx.get(User, user_id)
        password = 1 if user is not None and user.password_hash else 0
        passkeys = await tx.scalar(select(func.count()).select_from(PasskeyCredential).where(
            PasskeyCredential.user_id == user_id)) or 0
        links = await tx.scalar(select(func.count()).select_from(SocialAccount).where(
            SocialAccount.user_id == user_id, SocialAccount.provider != provider)) or 0
        return password + int(passkeys) + int(links)

    def _store_token(self, row: SocialAccount, token: dict[str, Any]) -> None:
        access, refresh = token.get("access_token"), token.get("refresh_token")
        row.token_type = str(token.get("token_type") or "")[:40] or None
        row.access_token_encrypted = self._encryptor.encrypt(access) if isinstance(
            access, str) else None
        row.refresh_token_encrypted = self._encryptor.encrypt(refresh) if isinstance(
            refresh, str) else None
        expires = token.get("expires_at")
        row.expires_at = int(expires) if isinstance(expires, int | float) else None
