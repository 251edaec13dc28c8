"""The seed READMEs' core examples (upstream AuthTuna's documentation), run as literally as
possible against ``AuthService``.

Seed 000 is upstream's long README, seed 002 its short one (``/work/shared/seeds``). Each test
names the heading its code comes from. ``auth_service`` is the core service (upstream:
``from authtuna.integrations import auth_service``). Placeholders of the seeds (ids,
``"123456"`` codes, ``{sm_org_ig}``, ``"old_password"``) get real values; the README section
"Coming from AuthTuna (FastAPI)" lists every mapping. The Quart-side examples are in
``tests/integration/test_seed_examples_web.py``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from quart_authtuna.core import AuthService, InvalidCredentials, Settings
from quart_authtuna.core.crypto.fernet import Encryptor
from quart_authtuna.core.db.models import DeletedUser
from quart_authtuna.core.defaults import ADMIN_ID

admin_id = ADMIN_ID  # the seeded "admin" account (Admin in global) plays the seeds' admin


async def create_seed_users(auth_service: AuthService) -> tuple[Any, Any]:
    """000 "Managing Users > Creating Users", verbatim."""
    user_manager = auth_service.users

    # Create a new user
    new_user = await user_manager.create(
        email="john@example.com",
        username="johndoe",
        password="secure_password_123"
    )

    # Create user with additional metadata
    user_with_meta = await user_manager.create(
        email="jane@example.com",
        username="janedoe",
        password="secure_password_123",
        first_name="Jane",
        last_name="Doe",
        is_active=True
    )
    return new_user, user_with_meta


# ---- configuration ------------------------------------------------------------------------

def test_required_config_keys_fernet_rotation() -> None:
    """000 "Required Config Keys": generated keys, newest first, older ones still decrypt."""
    old = Fernet.generate_key().decode()
    sealed = Encryptor(Settings.from_sources(overrides={"FERNET_KEYS": [old]})).encrypt("s3cret")
    new = Fernet.generate_key().decode()
    for value in (json.dumps([new, old]), f"{new},{old}"):  # the .env's JSON list, or commas
        settings = Settings.from_sources(environ={"AUTHTUNA_FERNET_KEYS": value})
        assert [k.reveal() for k in settings.fernet_keys] == [new, old]
        encryptor = Encryptor(settings)
        assert encryptor.decrypt(sealed) == "s3cret"
        assert Fernet(new.encode()).decrypt(encryptor.encrypt("x").encode()) == b"x"


def test_secrets_manager_init_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """000 "Using a Secrets Manager or Custom init_settings": ``init_settings(**secrets)`` is
    ``Settings.from_sources(overrides=secrets)`` here (``AuthTuna(app, **secrets)`` on Quart)."""
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("API_BASE_URL", "https://api.mysite.com")
    monkeypatch.setenv("FERNET_KEYS", key)

    def fetch_secrets() -> dict[str, Any]:
        # Example: fetch from AWS, Vault, or any source
        import os
        return {
            "API_BASE_URL": os.environ.get("API_BASE_URL"),
            "FERNET_KEYS": os.environ.get("FERNET_KEYS"),
            # ...add your secrets here...
        }

    settings = Settings.from_sources(overrides=fetch_secrets())
    assert settings.api_base_url == "https://api.mysite.com"
    assert [k.reveal() for k in settings.fernet_keys] == [key]


# ---- permissions, users, authentication ---------------------------------------------------

async def test_creating_permissions(service: AuthService, capsys: pytest.CaptureFixture[str]
                                    ) -> None:
    """000 "Managing Permissions > Creating Permissions"."""
    auth_service = service
    permission_manager = auth_service.permissions

    # Create a new permission
    new_permission = await permission_manager.create(
        name="posts:create",
        description="Allows users to create new blog posts"
    )

    # Or use get_or_create for idempotent operations
    permission, created = await permission_manager.get_or_create(
        name="posts:publish",
        defaults={"description": "Allows publishing posts to make them public"}
    )

    if created:
        print("Permission was created")
    else:
        print("Permission already exists")

    assert capsys.readouterr().out == "Permission was created\n"
    stored = await permission_manager.get_by_name("posts:create")
    assert stored is not None and stored.id == new_permission.id
    assert stored.description == "Allows users to create new blog posts"
    again, created = await permission_manager.get_or_create(
        name="posts:publish", defaults={"description": "ignored: it exists"})
    assert created is False and again.id == permission.id
    assert again.description == "Allows publishing posts to make them public"


async def test_get_or_create_concurrent_callers_create_once(service: AuthService) -> None:
    """Two callers racing on a new name: exactly one reports ``created``."""
    results = await asyncio.gather(*(service.permissions.get_or_create("posts:race")
                                     for _ in range(2)))
    assert sorted(created for _, created in results) == [False, True]
    assert len({perm.id for perm, _ in results}) == 1


async def test_creating_users(service: AuthService) -> None:
    """000 "Managing Users > Creating Users"."""
    new_user, user_with_meta = await create_seed_users(service)
    john = await service.users.get_by_email("john@example.com")
    assert john is not None and john.id == new_user.id and john.username == "johndoe"
    assert await service.passwords.verify("secure_password_123", john.password_hash)
    jane = await service.users.get_by_id(user_with_meta.id)
    assert jane is not None and (jane.first_name, jane.last_name, jane.is_active) == (
        "Jane", "Doe", True)


async def test_user_operations(service: AuthService) -> None:
    """000 "Managing Users > User Operations" (``admin_id``: the seeded admin)."""
    auth_service = service
    user_manager = auth_service.users
    new_user, _ = await create_seed_users(auth_service)
    user_id = new_user.id

    # Get user by ID
    user = await user_manager.get_by_id(user_id)
    assert user is not None and user.username == "johndoe"

    # Get user by email
    user = await user_manager.get_by_email("john@example.com")
    assert user is not None and user.id == user_id

    # Update user
    updated_user = await user_manager.update(
        user_id,
        {"first_name": "John", "last_name": "Smith"}
    )
    assert (updated_user.first_name, updated_user.last_name) == ("John", "Smith")

    # Suspend user
    await user_manager.suspend_user(user_id, admin_id, "Violation of terms")
    assert (await user_manager.get_by_id(user_id)).is_active is False

    # Unsuspend user
    await user_manager.unsuspend_user(user_id, admin_id, "Appeal approved")
    assert (await user_manager.get_by_id(user_id)).is_active is True

    # List users with pagination
    users = await user_manager.list(skip=0, limit=50)
    assert {"johndoe", "janedoe"} <= {u.username for u in users}

    # Delete user (soft delete)
    await user_manager.delete(user_id)
    assert await user_manager.get_by_id(user_id) is None
    async with service.transaction() as tx:
        archived = await tx.scalar(select(DeletedUser).where(DeletedUser.user_id == user_id))
    assert archived is not None and archived.data["username"] == "johndoe"


@pytest.mark.settings(REQUIRE_EMAIL_VERIFICATION=False)  # the seed never verifies John's email
async def test_user_authentication(service: AuthService) -> None:
    """000 "Managing Users > User Authentication" (``old_password``: John's real password)."""
    auth_service = service
    await create_seed_users(auth_service)
    _, earlier = await auth_service.login("johndoe", "secure_password_123")

    # Login user
    user, session_or_token = await auth_service.login(
        username_or_email="johndoe",
        password="secure_password_123",
        ip_address="192.168.1.1",
        region="US",
        device="Chrome on Windows"
    )
    assert user.username == "johndoe"
    row = session_or_token.row
    assert (row.user_id, row.create_ip, row.region, row.device) == (
        user.id, "192.168.1.1", "US", "Chrome on Windows")
    session_id = session_or_token.session_id

    # Change password
    await auth_service.change_password(
        user=user,
        current_password="secure_password_123",
        new_password="new_secure_password",
        ip_address="192.168.1.1",
        current_session_id=session_id
    )
    alive = {s.session_id for s in await auth_service.sessions.get_all_for_user(user.id)}
    assert alive == {session_id} and earlier.session_id != session_id  # the earlier one ended
    with pytest.raises(InvalidCredentials):
        await auth_service.login("johndoe", "secure_password_123")

    # Request password reset
    token = await auth_service.request_password_reset(
        email="john@example.com",
        ip_address="192.168.1.1"
    )
    assert token is not None and token.row.user_id == user.id

    # Reset password with token
    user = await auth_service.reset_password(
        token_id=token.id,
        new_password="new_password",
        ip_address="192.168.1.1"
    )
    assert user.username == "johndoe"
    assert await auth_service.sessions.get_all_for_user(user.id) == []
    again, _ = await auth_service.login("john@example.com", "new_password")
    assert again.id == user.id
