"""The data model: every table, secrets never in plaintext columns, defaults idempotent."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.base import Base
from quart_authtuna.core.db.models import Role, SocialAccount, User, UserRole

TABLES = {
    "users", "roles", "permissions", "user_roles", "role_permissions",
    "role_assign_permissions", "role_grant_permissions", "sessions", "tokens", "audit_events",
    "mfa_methods", "mfa_recovery_codes", "passkey_credentials", "social_accounts", "api_keys",
    "api_key_scopes", "encryption_keys", "deleted_users", "organizations", "teams",
    "invitations", "auth_challenges", "throttle_counters",
    "pending_signups",
}
#: Columns that hold secrets, and the only way each may be stored.
SECRET_COLUMNS = {
    ("sessions", "session_id"): "sha256", ("tokens", "id"): "sha256",
    ("api_keys", "hashed_key"): "hmac", ("mfa_recovery_codes", "hashed_code"): "hmac",
    ("mfa_methods", "secret_encrypted"): "fernet",
    ("social_accounts", "access_token_encrypted"): "fernet",
    ("social_accounts", "refresh_token_encrypted"): "fernet",
    ("users", "password_hash"): "bcrypt", ("auth_challenges", "id"): "sha256",
    ("pending_signups", "id"): "sha256", ("pending_signups", "password_hash"): "bcrypt",
    ("invitations", "token_hash"): "sha256",
}
PLAINTEXT_NAMES = ("secret", "access_token", "refresh_token", "code", "password", "api_key")


async def test_all_tables_exist_in_the_database(service: AuthService) -> None:
    async with service.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert TABLES <= names


def test_no_column_can_hold_a_plaintext_secret() -> None:
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if (table.name, column.name) in SECRET_COLUMNS:
                continue
            assert column.name not in PLAINTEXT_NAMES, f"{table.name}.{column.name}"


def test_social_accounts_are_unique_per_provider_subject() -> None:
    uniques = [tuple(c.name for c in u.columns) for u in SocialAccount.__table__.constraints
               if u.__class__.__name__ == "UniqueConstraint"]
    assert ("provider", "provider_user_id") in uniques


@pytest.mark.settings(TRY_FULL_INITIALIZE_WHEN_SYSTEM_USER_EXISTS_AGAIN=True)
async def test_provisioning_is_idempotent(service: AuthService) -> None:
    async def snapshot() -> tuple[int, int, int]:
        async with service.transaction() as tx:
            return (len((await tx.scalars(select(Role))).all()),
                    len((await tx.scalars(select(User))).all()),
                    len((await tx.scalars(select(UserRole))).all()))

    before = await snapshot()
    assert await service.provision_defaults() is True
    assert await snapshot() == before


async def test_provisioning_is_skipped_when_system_user_exists(service: AuthService) -> None:
    assert await service.provision_defaults() is False


async def test_seeded_admins_have_no_password_unless_configured(service: AuthService) -> None:
    for user_id in ("system", "default-super-admin", "default-admin"):
        assert (await service.users.get_by_id(user_id)).password_hash is None
    roles = await service.roles.list()
    assert {r.name for r in roles if r.system} == {"System", "SuperAdmin", "Admin", "Moderator"}


@pytest.mark.settings(DEFAULT_SUPERADMIN_PASSWORD="superadmin passphrase from config")
async def test_superadmin_password_comes_from_configuration(service: AuthService) -> None:
    user, _ = await service.login("superadmin", "superadmin passphrase from config")
    assert user.id == "default-super-admin"
    assert await service.rbac.has_role(user.id, "SuperAdmin")
