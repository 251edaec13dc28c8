"""Short-lived server-side ceremony state (pending MFA logins, WebAuthn challenges).

A challenge is stored under the SHA-256 of a random handle, bound to a kind and optionally to
a browser, expires, allows a bounded number of attempts, and is consumed atomically once.
``reserve_attempt`` counts an attempt before the secret is checked (one conditional
``UPDATE .. RETURNING``), so concurrent guesses never exceed ``max_attempts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from .crypto.tokens import digest, random_token
from .db.models import AuthChallenge
from .db.unit_of_work import UnitOfWork, affected
from .errors import TokenExpired, TokenInvalid
from .types import Clock

INVALID = "This sign-in step is no longer valid. Please start again."
EXPIRED = "This sign-in step has expired. Please start again."


#: The kind of a sign-in waiting at its second factor.
MFA_LOGIN = "mfa_login"


@dataclass(frozen=True, slots=True)
class Challenge:
    handle: str
    row: AuthChallenge


@dataclass(frozen=True, slots=True)
class ChallengeStore:
    """Create, read, reserve attempts on and consume challenges.

    Arguments:
        db: the unit of work.
        clock: the time.
    """

    _db: UnitOfWork
    _clock: Clock

    async def create(self, kind: str, *, user_id: str | None, ttl: float, binding: str = "",
                     data: dict[str, Any] | None = None, session: AsyncSession | None = None,
                     handle: str | None = None) -> Challenge:
        now = self._clock()
        handle = handle or random_token(32)
        row = AuthChallenge(id=digest(handle), kind=kind, user_id=user_id,
                            binding=digest(binding) if binding else "", data=dict(data or {}),
                            created_at=now, expires_at=now + ttl, attempts=0)
        async with self._db.transaction(session) as tx:
            await tx.execute(delete(AuthChallenge).where(AuthChallenge.expires_at < now - 3600))
            tx.add(row)
        return Challenge(handle, row)

    async def get(self, handle: str, kind: str, *, binding: str = "", max_attempts: int = 5,
                  session: AsyncSession | None = None) -> AuthChallenge:
        """The live challenge, or TokenInvalid/TokenExpired."""
        async with self._db.transaction(session) as tx:
            row = await tx.get(AuthChallenge, digest(handle), populate_existing=True)
        if (row is None or row.kind != kind or row.consumed_at is not None
                or row.attempts >= max_attempts
                or row.binding != (digest(binding) if binding else "")):
            raise TokenInvalid(INVALID)
        if row.expires_at <= self._clock():
            raise TokenExpired(EXPIRED)
        return row

    async def reserve_attempt(self, handle: str, kind: str, *, binding: str = "",
                              max_attempts: int = 5) -> AuthChallenge:
        """Count one attempt before checking a secret, in a committed transaction of its own.

        Succeeds only while the challenge is live, unconsumed, of ``kind``, bound to
        ``binding`` and has fewer than ``max_attempts`` attempts: of N concurrent callers at
        most the remaining attempts pass. Otherwise TokenExpired (past its expiry) or
        TokenInvalid. Nothing to release: a success consumes the challenge.
        """
        now, key = self._clock(), digest(handle)
        bound = digest(binding) if binding else ""
        stmt = update(AuthChallenge).where(
            AuthChallenge.id == key, AuthChallenge.kind == kind, AuthChallenge.binding == bound,
            AuthChallenge.consumed_at.is_(None), AuthChallenge.expires_at > now,
            AuthChallenge.attempts < max_attempts,
        ).values(attempts=AuthChallenge.attempts + 1).returning(AuthChallenge.id)
        async with self._db.transaction() as tx:
            taken = await tx.scalar(stmt.execution_options(synchronize_session=False))
            row = await tx.get(AuthChallenge, key, populate_existing=True)
        if taken is not None and row is not None:
            return row
        if (row is not None and row.kind == kind and row.binding == bound
                and row.consumed_at is None and row.attempts < max_attempts
                and row.expires_at <= now):
            raise TokenExpired(EXPIRED)
        raise TokenInvalid(INVALID)

    async def void_for_user(self, user_id: str, kind: str, session: AsyncSession | None = None
                            ) -> None:
        """Make every unconsumed challenge of ``kind`` for the user unusable."""
        async with self._db.transaction(session) as tx:
            await tx.execute(update(AuthChallenge).where(
                AuthChallenge.user_id == user_id, AuthChallenge.kind == kind,
                AuthChallenge.consumed_at.is_(None)).values(consumed_at=self._clock()))

    async def consume(self, handle: str, kind: str, *, binding: str = "",
                      session: AsyncSession | None = None) -> AuthChallenge:
        """Use the challenge once: concurrent consumers get exactly one success."""
        now = self._clock()
        async with self._db.transaction(session) as tx:
            result = await tx.execute(update(AuthChallenge).where(
                AuthChallenge.id == digest(handle), AuthChallenge.kind == kind,
                AuthChallenge.consumed_at.is_(None), AuthChallenge.expires_at > now,
                AuthChallenge.binding == (digest(binding) if binding else ""),
            ).values(consumed_at=now))
            if not affected(result):
                raise TokenInvalid(INVALID)
            row = await tx.get(AuthChallenge, digest(handle), populate_existing=True)
            assert row is not None
            return row
