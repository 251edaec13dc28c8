"""GDPR support tables: per-user wrapped keys (crypto-shredding) and the deletion archive."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, new_id


class EncryptionKey(Base):
    """A per-user data key, Fernet-wrapped; shredding it makes the user's PII unreadable."""

    __tablename__ = "encryption_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    key_ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    deleted_at: Mapped[float | None] = mapped_column(Float)


class DeletedUser(Base):
    """Archive row written when a user is deleted; never holds the password hash."""

    __tablename__ = "deleted_users"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    initiated_at: Mapped[float] = mapped_column(Float)
    cleanup_counter: Mapped[int] = mapped_column(Integer, default=0)
