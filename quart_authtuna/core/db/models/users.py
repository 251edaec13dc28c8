"""The users table: identity, canonical identifiers for uniqueness, account state."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, LargeBinary, String, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from ..base import Base, new_id
from ..pii_index import EmailIndex
from .privacy import EncryptionKey


class User(Base):
    """An account. ``*_canonical`` columns (NFKC + casefold) carry the uniqueness rules."""

    __tablename__ = "users"
    #: The admin search's newest/oldest keyset pages (the other sorts use the unique keys).
    __table_args__ = (Index("ix_users_created_at_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(80))
    username_canonical: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    email_canonical: Mapped[str] = mapped_column(EmailIndex(320), unique=True)
    email_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_key_id: Mapped[str | None] = mapped_column(
        ForeignKey("encryption_keys.id", ondelete="SET NULL"))
    #: PII mode: the wrapped data key, read with the row so the email opens without a query.
    email_key_wrapped: Mapped[str | None] = column_property(
        select(EncryptionKey.key_ciphertext).where(EncryptionKey.id == email_key_id)
        .scalar_subquery())
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    requires_password_reset: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    last_login: Mapped[float | None] = mapped_column(Float)
    password_changed_at: Mapped[float | None] = mapped_column(Float)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"
