"""TokenManager: purpose-bound, expiring, single-use tokens, stored only as their hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.tokens import digest, random_token
from ..db.models import Token
from ..db.unit_of_work import UnitOfWork
from ..errors import TokenExpired, TokenInvalid
from ..settings import Settings
from ..types import Clock
from .audit import AuditManager

#: Purposes of the emailed tokens (one place, so flows and the voiding rule agree).
PASSWORD_RESET = "password_reset"
PASSWORDLESS_LOGIN = "passwordless_login"
EMAIL_VERIFICATION = "email_verification"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: the stored row and the raw secret to deliver (never stored)."""

    row: Token
    raw: str

    @property
    def id(self) -> str:
        """The raw secret (what upstream's ``token.id`` was): pass it back to redeem."""
        return self.raw


@dataclass(frozen=True, slots=True)
class TokenManager:
    """Upstream names: create, validate (here also called consume)."""

    _db: UnitOfWork
    _clock: Clock
    _settings: Settings
    _audit: AuditManager

    async def create(self, user_id: str, purpose: str, expiry_seconds: float | None = None,
                     *, data: dict[str, Any] | None = None, replace_existing: bool = True,
                     session: AsyncSession | None = None) -> IssuedToken:
        """Issue a token; earlier unused ones of the same purpose stop working."""
        now = self._clock()
        settings = self._settings
        async with self._db.transaction(session) as tx:
            if replace_existing:
                await self.invalidate_all(user_id, purpose, session=tx)
            raw = random_token(32)
            row = Token(id=digest(raw), purpose=purpose, user_id=user_id, ctime=now,
                        etime=now + (expiry_seconds or settings.tokens_expiry_seconds),
                        used=False, data=dict(data or {}))
            tx.add(row)
        return IssuedToken(row, raw)

    async def peek(self, raw: str, purpose: str, session: AsyncSession | None = None) -> Token:
        """The token if it could be consumed now, without consuming it."""
        async with self._db.transaction(session) as tx:
            row = await tx.get(Token, digest(raw))
        return self._usable(row, purpose)

    async def consume(self, raw: str, purpose: str, ip_address: str | None = None,
                      session: AsyncSession | None = None) -> Token:
        """Redeem atomically: of any number of concurrent redemptions exactly one succeeds."""
        now = self._clock()
        async with self._db.transaction(session) as tx:
            result = await tx.execute(
                update(Token)
                .where(Token.id == digest(raw), Token.purpose == purpose,
                       Token.used.is_(False), Token.etime > now)
                .values(used=True, used_at=now)
                .returning(Token.user_id))
            if result.scalar_one_or_none() is None:
                self._usable(await tx.get(Token, digest(raw)), purpose)
                raise TokenInvalid()
            row = await tx.get(Token, digest(raw), populate_existing=True)
            assert row is not None
            self._audit.record(tx, "TOKEN_USED", user_id=row.user_id, ip_address=ip_address,
                                   details={"purpose": purpose})
            return row

    validate = consume

    async def pending(self, user_id: str, purpose: str) -> Token | None:
        """The newest token of ``purpose`` the user could still redeem, if any."""
        async with self._db.transaction() as tx:
            return await tx.scalar(
                select(Token).where(Token.user_id == user_id, Token.purpose == purpose,
                                    Token.used.is_(False), Token.etime > self._clock())
                .order_by(Token.ctime.desc()).limit(1))

    async def invalidate_all(self, user_id: str, purpose: str,
                             session: AsyncSession | None = None) -> int:
        """Mark every unused token of ``purpose`` for the user as used."""
        async with self._db.transaction(session) as tx:
            result = await tx.execute(
                update(Token).where(Token.user_id == user_id, Token.purpose == purpose,
                                    Token.used.is_(False))
                .values(used=True, used_at=self._clock()).returning(Token.id))
            return len(result.scalars().all())

    def _usable(self, row: Token | None, purpose: str) -> Token:
        if row is None or row.purpose != purpose or row.used:
            raise TokenInvalid()
        if row.etime <= self._clock():
            raise TokenExpired()
        return row
