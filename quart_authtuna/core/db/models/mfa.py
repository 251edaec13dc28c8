"""MFA tables: TOTP methods (secret encrypted) and hashed single-use recovery codes."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class MFAMethod(Base):
    """A second factor; ``last_used_step`` blocks TOTP replay."""

    __tablename__ = "mfa_methods"
    __table_args__ = (UniqueConstraint("user_id", "method_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    method_type: Mapped[str] = mapped_column(String(20), default="totp")
    secret_encrypted: Mapped[str] = mapped_column(Text)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    last_used_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[float] = mapped_column(Float)


class MFARecoveryCode(Base):
    """A recovery code, stored as an HMAC under the server pepper."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    hashed_code: Mapped[str] = mapped_column(String(128), unique=True)
    is_used: Mapped[bool] = mapped_column(Boolean, default=False)
    used_at: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
