"""Organizations, teams and invitations to them.

Membership has one source of truth: the role rows in ``user_roles``. A user belongs to
organization O while holding a role at scope ``org:<O>``, and to team T of O while holding one
at ``org:<O>/team:<T>``; no table here repeats who is a member or who owns what.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class Organization(Base):
    """A tenant; roles held in ``org:<id>`` apply inside it and in its teams."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[float] = mapped_column(Float)


class Team(Base):
    """A team inside an organization (scope ``org:<organization_id>/team:<id>``)."""

    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[float] = mapped_column(Float)


class Invitation(Base):
    """An emailed invitation to join an organization (or one of its teams) with a role.

    ``token_hash`` is the SHA-256 of the link's secret; ``email_canonical`` binds it to one
    address. Pending while not accepted, not revoked and not expired.
    """

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[str | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    email_canonical: Mapped[str] = mapped_column(String(320), index=True)
    role_name: Mapped[str] = mapped_column(String(80))
    invited_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    accepted_at: Mapped[float | None] = mapped_column(Float)
    accepted_by_id: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[float | None] = mapped_column(Float)
