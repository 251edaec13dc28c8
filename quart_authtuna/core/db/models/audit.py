"""The audit_events table; rows outlive the user they concern (SET NULL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class AuditEvent(Base):
    """One security-relevant event, written in the transaction of the change it records."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(100), index=True)
    timestamp: Mapped[float] = mapped_column(Float, index=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    ip_address_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    ip_address_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
