"""API key tables: keys (stored as HMAC-SHA256) and their (role, scope) grants."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, ForeignKeyConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class ApiKey(Base):
    """An API key; ``id`` is the public part before the dot."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hashed_key: Mapped[str] = mapped_column(String(128), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_type: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float)
    expires_at: Mapped[float | None] = mapped_column(Float)


class ApiKeyScope(Base):
    """A (role, scope) the key may use; it must be one the user holds (composite FK)."""

    __tablename__ = "api_key_scopes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "role_id", "scope"],
            ["user_roles.user_id", "user_roles.role_id", "user_roles.scope"],
            ondelete="CASCADE",
        ),
    )

    api_key_id: Mapped[str] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(255), primary_key=True)
