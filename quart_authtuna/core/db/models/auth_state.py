"""Short-lived server-side state: ceremony challenges and attempt counters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class AuthChallenge(Base):
    """A pending ceremony (WebAuthn, MFA login, OAuth state): single-use and expiring."""

    __tablename__ = "auth_challenges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    binding: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[float | None] = mapped_column(Float)


class ThrottleCounter(Base):
    """Attempts for one key (``acct:``, ``ip:``, ``dev:``, ... see core.throttle) in a window.

    ``failures`` counts attempts reserved in the window (failed or still being checked);
    ``locked_until`` is 0 or the epoch second the key opens again.
    """

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[float] = mapped_column(Float)
    locked_until: Mapped[float] = mapped_column(Float, default=0.0)
