"""The passkey_credentials table: WebAuthn public keys and their counters and flags."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class PasskeyCredential(Base):
    """A registered WebAuthn credential; ``flagged_at`` marks a sign-count regression."""

    __tablename__ = "passkey_credentials"

    id: Mapped[bytes] = mapped_column(LargeBinary(1023), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    nickname: Mapped[str] = mapped_column(String(100))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    aaguid: Mapped[str | None] = mapped_column(String(36))
    is_discoverable: Mapped[bool] = mapped_column(Boolean, default=True)
    is_backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    is_backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    transports: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float)
    flagged_at: Mapped[float | None] = mapped_column(Float)
