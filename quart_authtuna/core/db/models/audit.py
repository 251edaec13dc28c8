"""The audit_events table; rows outlive the user they concern (SET NULL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class AuditEvent(Base):
    """One security-relevant event, written in the transaction of the change it records.

    The indexes end in ``(timestamp, id)``: the admin log reads keyset pages newest first,
    alone or filtered by type, user or address, at the cost of page 1 whatever the depth.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_timestamp_id", "timestamp", "id"),
        Index("ix_audit_events_type_timestamp_id", "event_type", "timestamp", "id"),
        Index("ix_audit_events_user_timestamp_id", "user_id", "timestamp", "id"),
        Index("ix_audit_events_ip_timestamp_id", "ip_address", "timestamp", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(100))
    timestamp: Mapped[float] = mapped_column(Float)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    ip_address_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    ip_address_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
