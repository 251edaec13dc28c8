"""RBAC tables: roles, permissions, scoped role assignments and the grant relations."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base


class Role(Base):
    """A named set of permissions; ``level`` orders roles, ``system`` protects them."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    system: Mapped[bool] = mapped_column(Boolean, default=False)
    level: Mapped[int | None] = mapped_column(Integer)


class Permission(Base):
    """A ``resource:action`` name."""

    __tablename__ = "permissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    system: Mapped[bool] = mapped_column(Boolean, default=False)


class UserRole(Base):
    """A role held by a user in one scope (``global`` or a ``/`` path)."""

    __tablename__ = "user_roles"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True, index=True)
    scope: Mapped[str] = mapped_column(String(255), primary_key=True, default="none")
    given_by_id: Mapped[str] = mapped_column(String(64))
    given_at: Mapped[float] = mapped_column(Float)


class RolePermission(Base):
    """Role → permission."""

    __tablename__ = "role_permissions"

    role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    permission_id: Mapped[int] = mapped_column(
        ForeignKey("permissions.id", ondelete="CASCADE"), primary_key=True)
    added_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[float] = mapped_column(Float)


class RoleAssignPermission(Base):
    """Holders of the assigner role may assign the assignable role."""

    __tablename__ = "role_assign_permissions"

    assigner_role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    assignable_role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)


class RoleGrantPermission(Base):
    """Holders of the granter role may add the permission to other roles."""

    __tablename__ = "role_grant_permissions"

    granter_role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    grantable_permission_id: Mapped[int] = mapped_column(
        ForeignKey("permissions.id", ondelete="CASCADE"), primary_key=True)
