"""The mail outbox: messages written in their flow's transaction, deleted once delivered."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class OutboxMail(Base):
    """One rendered message waiting for the SMTP server.

    ``payload`` is the Fernet-encrypted message (its links carry single-use secrets).
    ``next_attempt_at`` is when a sender may (re)try it: a sender leases a row by moving it
    forward, and a failure moves it by the backoff.
    """

    __tablename__ = "mail_outbox"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    next_attempt_at: Mapped[float] = mapped_column(Float, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
