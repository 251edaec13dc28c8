"""The sessions table: the server-side half of the dual-state session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class UserSession(Base):
    """A login session; ``session_id`` is the SHA-256 of the id the cookie carries."""

    __tablename__ = "sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    region: Mapped[str] = mapped_column(String(255), default="Unknown")
    device: Mapped[str] = mapped_column(String(255), default="Unknown")
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    ctime: Mapped[float] = mapped_column(Float)
    mtime: Mapped[float] = mapped_column(Float)
    etime: Mapped[float] = mapped_column(Float)
    e_abs_time: Mapped[float] = mapped_column(Float)
    authenticated_at: Mapped[float] = mapped_column(Float)
    auth_method: Mapped[str] = mapped_column(String(32), default="password")
    create_ip: Mapped[str | None] = mapped_column(String(45))
    last_ip: Mapped[str | None] = mapped_column(String(45))
    random_string: Mapped[str] = mapped_column(String(64))
    previous_random_strings: Mapped[list[Any]] = mapped_column(default=list)
    version: Mapped[int] = mapped_column(Integer, default=0)
    #: When a request from another device presented this session's cookie: the owner must
    #: sign in again (step-up) before the session serves anything else.
    flagged_at: Mapped[float | None] = mapped_column(Float)
