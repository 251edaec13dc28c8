"""The seed READMEs' role, RBAC, MFA and API-key examples, run against ``AuthService``.

Continues ``test_seed_examples.py`` (same conventions: ``auth_service`` is the core service,
``admin_id`` the seeded admin, placeholders get real values).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pyotp
import pytest

from quart_authtuna.core import AuthService, EscalationDenied
from quart_authtuna.core.db.models import User
from quart_authtuna.core.defaults import ADMIN_ID
from tests._support.clock import FakeClock

admin_id = ADMIN_ID
Factory = Callable[..., Awaitable[User]]
ISSUER = "Just put ur app nm here it will give appname:email as credential id on scanning on phone"


# ---- roles --------------------------------------------------------------------------------

async def test_role_management(service: AuthService, user_factory: Factory) -> None:
    """000 "Creating Roles > Role Management"; the seed assumes the two permissions exist
    and that admin may assign ``editor`` ("hierarchy or grantable allow")."""
    auth_service = service
    user = await user_factory("writer")
    for name in ("posts:create", "posts:edit"):
        await auth_service.permissions.get_or_create(name)

    role_manager = auth_service.roles

    # Create a new role
    new_role = await role_manager.create(
        name="editor",
        description="Content editor with publishing rights"
    )
    assert (await role_manager.get_by_name("editor")).id == new_role.id

    # Add permissions to role
    await role_manager.add_permission_to_role(
        role_name="editor",
        permission_name="posts:create"
    )

    await role_manager.add_permission_to_role(
        role_name="editor",
        permission_name="posts:edit",
        adder_id="system" # this is for audit logging.
    )

    with pytest.raises(EscalationDenied):  # "This checks if the assigner can assign or not"
        await role_manager.assign_to_user(user.id, "editor", admin_id, scope="org:project1")
    await role_manager.grant_relationship("Admin", "editor")  # the "grantable allow"

    # Assign role to user
    await role_manager.assign_to_user(
        user_id=user.id,
        role_name="editor",
        assigner_id=admin_id, # This checks if the assigner can assign or not, you need to correctly setup the role with either hierarchy or using grantable allow.  # noqa: E501
        scope="org:project1", # either set this or set global, default = none to prevent misconfiguration  # noqa: E501
    )
    assert ("editor", "org:project1") in await role_manager.get_user_roles(user.id)
    assert await auth_service.rbac.has_permission(user.id, "posts:edit", "org:project1/drafts")
    assert not await auth_service.rbac.has_permission(user.id, "posts:edit", "global")

    # Remove role from user
    await role_manager.remove_from_user(
        user_id=user.id,
        role_name="editor",
        remover_id=admin_id
    )
    assert await role_manager.get_user_roles(user.id) == [("User", "global")]
    assert not await auth_service.rbac.has_permission(user.id, "posts:create", "org:project1")


async def test_rbac_example(service: AuthService, user_factory: Factory) -> None:
    """000 "RBAC Example" steps 1-3; step 3 gives no scope, so upstream's default ``none``
    applies: a scope no resource lives under, hence no permission anywhere else."""
    auth_service = service

    # Create permissions
    await auth_service.permissions.get_or_create("posts:create", {"description": "Create blog posts"})  # noqa: E501
    await auth_service.permissions.get_or_create("posts:read", {"description": "Read blog posts"})
    await auth_service.permissions.get_or_create("posts:update", {"description": "Update blog posts"})  # noqa: E501
    await auth_service.permissions.get_or_create("posts:delete", {"description": "Delete blog posts"})  # noqa: E501
    await auth_service.permissions.get_or_create("posts:publish", {"description": "Publish blog posts"})  # noqa: E501
    await auth_service.permissions.get_or_create("comments:moderate", {"description": "Moderate comments"})  # noqa: E501

    # Create Editor role
    editor_role = await auth_service.roles.create("editor", "Content editor")
    await auth_service.roles.add_permission_to_role("editor", "posts:create")
    await auth_service.roles.add_permission_to_role("editor", "posts:read")
    await auth_service.roles.add_permission_to_role("editor", "posts:update")
    await auth_service.roles.add_permission_to_role("editor", "posts:publish")

    # Create Moderator role
    moderator_role = await auth_service.roles.create("moderator", "Comment moderator")
    await auth_service.roles.add_permission_to_role("moderator", "posts:read")
    await auth_service.roles.add_permission_to_role("moderator", "comments:moderate")

    # Create Viewer role
    viewer_role = await auth_service.roles.create("viewer", "Content viewer")
    await auth_service.roles.add_permission_to_role("viewer", "posts:read")

    for role in (editor_role, moderator_role, viewer_role):  # let admin assign them
        await auth_service.roles.grant_relationship("Admin", role.name)
    editor_user, moderator_user, viewer_user = [await user_factory(name)
                                                for name in ("eddie", "molly", "vic")]

    # Assign roles to users
    await auth_service.roles.assign_to_user(user_id=editor_user.id, role_name="editor", assigner_id=admin_id)  # noqa: E501
    await auth_service.roles.assign_to_user(user_id=moderator_user.id, role_name="moderator", assigner_id=admin_id)  # noqa: E501
    await auth_service.roles.assign_to_user(user_id=viewer_user.id, role_name="viewer", assigner_id=admin_id)  # noqa: E501

    publish = await auth_service.permissions.get_by_name("posts:publish")
    assert publish is not None and publish.description == "Publish blog posts"
    assert await auth_service.roles.get_user_roles(editor_user.id) == [
        ("User", "global"), ("editor", "none")]
    can = auth_service.rbac.has_permission
    expected = {editor_user: {"posts:create", "posts:read", "posts:update", "posts:publish"},
                moderator_user: {"posts:read", "comments:moderate"},
                viewer_user: {"posts:read"}}
    for user, held in expected.items():
        for perm in ("posts:create", "posts:read", "posts:update", "posts:delete",
                     "posts:publish", "comments:moderate"):
            assert await can(user.id, perm, "none") is (perm in held), (user.username, perm)
            assert await can(user.id, perm, "global") is False


# ---- MFA ----------------------------------------------------------------------------------

async def start_and_complete_mfa_setup(auth_service: AuthService, user_id: str,
                                       clock: FakeClock) -> tuple[str, str]:
    """000 "MFA > MFA Setup Flow"; ``"123456"`` is the authenticator app's current code."""
    # Start MFA setup for user
    secret, url = await auth_service.mfa.setup_totp(user_id, "Just put ur app nm here it will give appname:email as credential id on scanning on phone")  # noqa: E501

    # Complete setup with verification code
    await auth_service.mfa.verify_and_enable_totp(user_id, verification_code=pyotp.TOTP(secret).at(clock.now))  # noqa: E501
    return secret, url


async def test_mfa_setup_flow(service: AuthService, user_factory: Factory,
                              clock: FakeClock) -> None:
    """000 "MFA > MFA Setup Flow": ``secret, url`` unpack; the URL is the otpauth:// URI."""
    user = await user_factory("ada")
    secret, url = await start_and_complete_mfa_setup(service, user.id, clock)
    assert url == pyotp.TOTP(secret).provisioning_uri(name="ada@example.com", issuer_name=ISSUER)
    assert (await service.users.get_by_id(user.id)).mfa_enabled is True


async def test_mfa_verification(service: AuthService, user_factory: Factory,
                                clock: FakeClock) -> None:
    """000 "MFA > MFA Verification"."""
    auth_service = service
    user_id = (await user_factory("ada")).id
    secret, _ = await start_and_complete_mfa_setup(auth_service, user_id, clock)
    clock.advance(30)  # the enrolment code is spent; the next step's code is new

    # Verify MFA code during login
    is_valid = await auth_service.mfa.verify_code(user_id, code=pyotp.TOTP(secret).at(clock.now))
    assert is_valid is True
    window = {pyotp.TOTP(secret).at(clock.now + step * 30) for step in (-1, 0, 1, 2)}
    wrong = next(c for c in ("123456", "654321", "111111", "222222") if c not in window)
    assert await auth_service.mfa.verify_code(user_id, code=wrong) is False


# ---- API keys -----------------------------------------------------------------------------

async def create_seed_key(auth_service: AuthService, user: User, sm_org_ig: str) -> object:
    """000 "API Keys > Creating API Keys"; ``{sm_org_ig}`` is a scope such as ``org:sm``."""
    # Create API key for user
    api_key = await auth_service.api_keys.create_key(
        user_id=user.id,
        name="My API Key",
        key_type="secret",
        scopes=["Admin:global", f"Projects:{sm_org_ig}"],
        valid_seconds=31536000  # 1 year
    )

    print(api_key.plaintext)  # The actual API key to use (only shown once)
    return api_key


async def key_holder(auth_service: AuthService, user_factory: Factory) -> User:
    """A user holding the two roles the seed's key is scoped to."""
    await auth_service.roles.create("Projects", "Works on projects")
    return await user_factory("keyholder", roles=[("Admin", "global"), ("Projects", "org:sm")])


async def test_creating_api_keys(service: AuthService, user_factory: Factory, clock: FakeClock,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """000 "API Keys > Creating API Keys": the key carries exactly the two scoped roles."""
    auth_service = service
    user = await key_holder(auth_service, user_factory)
    api_key = await create_seed_key(auth_service, user, "org:sm")
    assert capsys.readouterr().out.strip() == api_key.plaintext
    assert api_key.plaintext.startswith("sk_")
    assert api_key.row.expires_at == clock.now + 31536000
    principal = await auth_service.api_keys.validate_key(api_key.plaintext)
    assert principal is not None and principal.user_id == user.id
    assert principal.grants.has_role("Admin", "global")
    assert principal.grants.has_role("Projects", "org:sm/p1")
    assert not principal.grants.has_role("User", "global")  # only the key's scopes


async def test_api_key_management(service: AuthService, user_factory: Factory) -> None:
    """000 "API Keys > API Key Management"."""
    auth_service = service
    user = await key_holder(auth_service, user_factory)
    api_key = await create_seed_key(auth_service, user, "org:sm")

    # List user's API keys
    keys = await auth_service.api_keys.get_all_keys_for_user(user.id)
    assert [key.id for key in keys] == [api_key.id]
    key_id = keys[0].id

    # Revoke API key
    await auth_service.api_keys.delete_key(key_id)
    assert await auth_service.api_keys.validate_key(api_key.plaintext) is None
    assert await auth_service.api_keys.get_all_keys_for_user(user.id) == []
