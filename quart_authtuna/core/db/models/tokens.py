"""Emailed single-use secrets, stored only as their SHA-256: tokens and pending sign-ups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class Token(Base):
    """A purpose-bound, expiring, single-use token; ``id`` is the hash of the secret."""

    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(200), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ctime: Mapped[float] = mapped_column(Float)
    etime: Mapped[float] = mapped_column(Float)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    used_at: Mapped[float | None] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PendingSignup(Base):
    """A sign-up waiting for its emailed link: no account exists until the link is confirmed.

    ``id`` is the hash of the link's secret; the password is kept only as its bcrypt hash (None:
    a passkey-first sign-up, whose link opens the passkey ceremony). The row is deleted when
    confirmed; expired rows are purged by later sign-ups.
    """

    __tablename__ = "pending_signups"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    email: Mapped[str] = mapped_column(String(320))
    email_canonical: Mapped[str] = mapped_column(String(320), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
