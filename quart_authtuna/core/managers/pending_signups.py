"""PendingSignups: sign-ups held behind their emailed link until it is confirmed.

A pending sign-up reserves nothing: its username and address stay free for anyone until the
link is confirmed, so what a sign-up leaves behind never depends on whether its address
already has an account. The link's secret is stored only as its SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.tokens import digest, random_token
from ..db.models import PendingSignup
from ..db.unit_of_work import UnitOfWork
from ..errors import TokenExpired, TokenInvalid
from ..identifiers import canonical_email
from ..settings import Settings
from ..types import Clock


@dataclass(frozen=True, slots=True)
class HeldSignup:
    """What a confirmed link turns into an account (the password only as its hash; None for
    a passkey-first sign-up)."""

    username: str
    email: str
    password_hash: str | None


@dataclass(frozen=True, slots=True)
class VerificationLink:
    """A verification link to mail: whom it greets, where it goes, its raw secret (never
    stored)."""

    username: str
    email: str
    raw: str
    passkey: bool = False


@dataclass(frozen=True, slots=True)
class PendingSignups:
    """Hold, renew and take pending sign-ups; each link expires after TOKENS_EXPIRY_SECONDS."""

    _db: UnitOfWork
    _clock: Clock
    _settings: Settings

    async def hold(self, username: str, email: str, password_hash: str | None, *,
                   session: AsyncSession | None = None) -> VerificationLink:
        """Store a sign-up (purging expired ones) and return its link."""
        now = self._clock()
        raw = random_token(32)
        async with self._db.transaction(session) as tx:
            await tx.execute(delete(PendingSignup).where(PendingSignup.expires_at <= now))
            tx.add(PendingSignup(id=digest(raw), username=username, email=email,
                                 email_canonical=canonical_email(email),
                                 password_hash=password_hash, created_at=now,
                                 expires_at=now + self._settings.tokens_expiry_seconds))
        return VerificationLink(username, email, raw, password_hash is None)

    async def peek(self, raw: str) -> HeldSignup:
        """The live sign-up of link ``raw``, left in place: TokenInvalid or TokenExpired."""
        async with self._db.transaction() as tx:
            row = await tx.get(PendingSignup, digest(raw))
        if row is None:
            raise TokenInvalid()
        if row.expires_at <= self._clock():
            raise TokenExpired()
        return HeldSignup(row.username, row.email, row.password_hash)

    async def waiting(self, email: str) -> bool:
        """Whether a live sign-up is waiting for ``email``."""
        async with self._db.transaction() as tx:
            return bool(await tx.scalar(select(exists().where(
                PendingSignup.email_canonical == canonical_email(email),
                PendingSignup.expires_at > self._clock()))))

    async def renew(self, email: str) -> VerificationLink | None:
        """Give the newest live sign-up of ``email`` a new link, with a new lifetime; its
        earlier link stops working. None when no sign-up is waiting."""
        now = self._clock()
        raw = random_token(32)
        async with self._db.transaction() as tx:
            newest = await tx.scalar(
                select(PendingSignup.id)
                .where(PendingSignup.email_canonical == canonical_email(email),
                       PendingSignup.expires_at > now)
                .order_by(PendingSignup.created_at.desc()).limit(1))
            if newest is None:
                return None
            renewed = (await tx.execute(
                update(PendingSignup).where(PendingSignup.id == newest)
                .values(id=digest(raw), expires_at=now + self._settings.tokens_expiry_seconds)
                .returning(PendingSignup.username, PendingSignup.email,
                           PendingSignup.password_hash)
                .execution_options(synchronize_session=False))).one_or_none()
        if renewed is None:  # a concurrent renewal or confirmation got it first
            return None
        return VerificationLink(renewed.username, renewed.email, raw,
                                renewed.password_hash is None)

    async def take(self, raw: str, tx: AsyncSession) -> HeldSignup | None:
        """Delete and return the live sign-up of link ``raw``, inside ``tx``: of concurrent
        takers exactly one gets it. None if no sign-up has this link; TokenExpired if expired.
        """
        result = await tx.execute(
            delete(PendingSignup)
            .where(PendingSignup.id == digest(raw), PendingSignup.expires_at > self._clock())
            .returning(PendingSignup.username, PendingSignup.email,
                       PendingSignup.password_hash)
            .execution_options(synchronize_session=False))
        row = result.one_or_none()
        if row is not None:
            return HeldSignup(row.username, row.email, row.password_hash)
        if await tx.scalar(select(exists().where(PendingSignup.id == digest(raw)))):
            raise TokenExpired()
        return None
