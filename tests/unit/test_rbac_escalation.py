"""Upstream's RBAC escalation holes stay closed, and the legitimate pathways still work.

Every denied attempt must raise EscalationDenied and leave the database exactly as it was:
no role, permission, grant or user row changed and no ROLE_ASSIGNED audit row written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import (
    Permission,
    Role,
    RoleAssignPermission,
    RoleGrantPermission,
    RolePermission,
    User,
    UserRole,
)
from quart_authtuna.core.defaults import ADMIN_ID, SUPERADMIN_ID
from quart_authtuna.core.errors import EscalationDenied

SYSTEM = "system"
Factory = Callable[..., Awaitable[User]]
Action = Callable[[], Awaitable[Any]]


# ---- helpers --------------------------------------------------------------------------


async def role_permissions(service: AuthService, role: str) -> set[str]:
    """The role's permission names, read straight from the database."""
    async with service.transaction() as tx:
        return set((await tx.scalars(
            select(Permission.name)
            .join(RolePermission, RolePermission.permission_id == Permission.id)
            .join(Role, Role.id == RolePermission.role_id)
            .where(Role.name == role))).all())


async def audit_count(service: AuthService, event_type: str) -> int:
    return len(await service.audit.get_events_by_type(event_type, limit=500))


async def snapshot(service: AuthService, users: tuple[str, ...]) -> dict[str, Any]:
    """Everything a denied RBAC or user change could have touched, by fresh queries."""
    async with service.transaction() as tx:
        async def rows(*cols: Any, joins: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
            stmt = select(*cols)
            for target, on in joins:
                stmt = stmt.join(target, on)
            return sorted(tuple(r) for r in (await tx.execute(stmt)).all())

        tables = {
            "roles": await rows(Role.name, Role.level, Role.system),
            "permissions": await rows(Permission.name),
            "role_permissions": await rows(RolePermission.role_id, RolePermission.permission_id),
            "assign": await rows(RoleAssignPermission.assigner_role_id,
                                 RoleAssignPermission.assignable_role_id),
            "grant": await rows(RoleGrantPermission.granter_role_id,
                                RoleGrantPermission.grantable_permission_id),
            "user_roles": await rows(UserRole.user_id, UserRole.role_id, UserRole.scope),
            "users": await rows(User.id, User.is_active, User.first_name, User.username),
        }
    held = {uid: await service.roles.get_user_roles(uid) for uid in users}
    assigned = await audit_count(service, "ROLE_ASSIGNED")
    return {"tables": tables, "held": held, "role_assigned_events": assigned}


async def expect_denied(service: AuthService, action: Action, *users: str) -> None:
    """``action`` raises EscalationDenied and changes nothing."""
    before = await snapshot(service, users)
    with pytest.raises(EscalationDenied):
        await action()
    assert await snapshot(service, users) == before


async def bare_user(service: AuthService, user_factory: Factory,
                    roles: tuple[tuple[str, str], ...] = ()) -> str:
    """A user without the automatic User@global, so an assignment there is a real change."""
    user = await user_factory(roles=list(roles))
    await service.roles.remove_from_user(user.id, "User", SYSTEM, scope="global")
    return user.id


async def assign(service: AuthService, user_id: str, role: str, actor: str, scope: str) -> None:
    """Assign and check the role row and its ROLE_ASSIGNED audit row appeared."""
    before = await audit_count(service, "ROLE_ASSIGNED")
    await service.roles.assign_to_user(user_id, role, actor, scope=scope)
    assert (role, scope) in await service.roles.get_user_roles(user_id)
    events = await service.audit.get_events_by_type("ROLE_ASSIGNED", limit=1)
    assert await audit_count(service, "ROLE_ASSIGNED") == before + 1
    assert (events[0].user_id, events[0].actor_id) == (user_id, actor)
    assert events[0].details == {"role": role, "scope": scope}


async def custom_role(service: AuthService, name: str, level: int | None) -> str:
    await service.roles.create(name, f"custom {name}", level=level)
    return name


# ---- permissions on roles -------------------------------------------------------------


@pytest.mark.parametrize("permission", ["roles:assign:SuperAdmin", "admin:manage:permissions"])
async def test_admin_cannot_add_escalating_permission_to_admin_role(
        service: AuthService, permission: str) -> None:
    original = await role_permissions(service, "Admin")
    await expect_denied(service, lambda: service.roles.add_permission_to_role(
        "Admin", permission, ADMIN_ID), ADMIN_ID)
    assert await role_permissions(service, "Admin") == original
    assert not await service.rbac.has_permission(ADMIN_ID, permission)
    await expect_denied(service, lambda: service.roles.assign_to_user(
        ADMIN_ID, "SuperAdmin", ADMIN_ID, scope="global"), ADMIN_ID)


@pytest.mark.parametrize("actor", [ADMIN_ID, SUPERADMIN_ID])
@pytest.mark.parametrize("role", ["Admin", "SuperAdmin", "Moderator", "System"])
async def test_no_permission_can_be_added_to_or_removed_from_a_protected_role(
        service: AuthService, actor: str, role: str) -> None:
    await expect_denied(service, lambda: service.roles.add_permission_to_role(
        role, "team:manage", actor))
    held = sorted(await role_permissions(service, role))[0]
    await expect_denied(service, lambda: service.roles.remove_permission_from_role(
        role, held, actor))


async def test_admin_adds_grantable_tenant_permission_to_low_custom_role(
        service: AuthService, user_factory: Factory) -> None:
    role = await custom_role(service, "Support", 10)
    holder = await user_factory(roles=[(role, "org:a")])
    assert not await service.rbac.has_permission(holder.id, "team:manage", "org:a")
    await service.roles.add_permission_to_role(role, "team:manage", ADMIN_ID)
    assert await role_permissions(service, role) == {"team:manage"}
    assert await service.rbac.has_permission(holder.id, "team:manage", "org:a")
    event = (await service.audit.get_events_by_type("ROLE_PERMISSION_ADDED", limit=1))[0]
    assert event.actor_id == ADMIN_ID
    assert event.details == {"role": role, "permission": "team:manage"}


@pytest.mark.parametrize("level", [90, 95])
async def test_admin_cannot_add_permissions_to_custom_role_at_or_above_own_level(
        service: AuthService, level: int) -> None:
    role = await custom_role(service, "Lofty", level)
    await expect_denied(service, lambda: service.roles.add_permission_to_role(
        role, "team:manage", ADMIN_ID))


async def test_admin_needs_a_grant_before_adding_a_new_permission(service: AuthService) -> None:
    role = await custom_role(service, "Editor", 10)
    await service.permissions.create("posts:publish", "Publish posts")
    await expect_denied(service, lambda: service.roles.add_permission_to_role(
        role, "posts:publish", ADMIN_ID))
    assert await role_permissions(service, role) == set()
    await service.roles.grant_relationship("Admin", "posts:publish", kind="permission")
    await service.roles.add_permission_to_role(role, "posts:publish", ADMIN_ID)
    assert await role_permissions(service, role) == {"posts:publish"}


# ---- creating roles -------------------------------------------------------------------


@pytest.mark.parametrize("level", [90, 95, 1000])
async def test_admin_cannot_create_role_at_or_above_own_level(
        service: AuthService, level: int) -> None:
    await expect_denied(service, lambda: service.roles.create("Rogue", level=level,
                                                              creator_id=ADMIN_ID))
    assert await service.roles.get_by_name("Rogue") is None


@pytest.mark.parametrize("level", [89, 0, None])
async def test_admin_creates_role_below_own_level(
        service: AuthService, level: int | None) -> None:
    await service.roles.create("Helper", "helps", level=level, creator_id=ADMIN_ID)
    role = await service.roles.get_by_name("Helper")
    assert role is not None
    assert (role.level, role.system) == (level, False)


@pytest.mark.parametrize("roles", [[], [("Moderator", "global")], [("Admin", "org:x")]])
async def test_creating_roles_needs_global_manage_roles(
        service: AuthService, user_factory: Factory, roles: list[tuple[str, str]]) -> None:
    actor = await user_factory(roles=roles)
    await expect_denied(service, lambda: service.roles.create("Mine", level=None,
                                                              creator_id=actor.id))


@pytest.mark.parametrize("actor", [ADMIN_ID, SUPERADMIN_ID])
async def test_only_system_creates_protected_roles(service: AuthService, actor: str) -> None:
    await expect_denied(service, lambda: service.roles.create(
        "Shielded", level=1, system=True, creator_id=actor))
    await service.roles.create("Shielded", level=1, system=True)
    role = await service.roles.get_by_name("Shielded")
    assert role is not None and role.system


# ---- acting on users ------------------------------------------------------------------


def user_action(service: AuthService, name: str, target: str, actor: str) -> Action:
    actions: dict[str, Action] = {
        "suspend": lambda: service.users.suspend_user(target, actor, "x"),
        "unsuspend": lambda: service.users.unsuspend_user(target, actor, "x"),
        "update": lambda: service.users.update(target, {"first_name": "Mallory"}, actor_id=actor),
        "delete": lambda: service.users.delete(target, actor),
    }
    return actions[name]


@pytest.mark.parametrize("action", ["suspend", "unsuspend", "update", "delete"])
@pytest.mark.parametrize("target", [ADMIN_ID, SUPERADMIN_ID])
async def test_moderator_cannot_act_on_admins(
        service: AuthService, user_factory: Factory, action: str, target: str) -> None:
    moderator = await user_factory(roles=[("Moderator", "global")])
    if action == "unsuspend":
        await service.users.suspend_user(target, SYSTEM, "set up")
    session = await service.sessions.create(target)
    await expect_denied(service, user_action(service, action, target, moderator.id), target)
    user = await service.users.get_by_id(target)
    assert user is not None and user.is_active is (action != "unsuspend")
    if action != "unsuspend":
        assert [s.session_id for s in await service.sessions.get_all_for_user(target)] == [
            session.session_id]


@pytest.mark.parametrize("target_roles", [
    [("SuperAdmin", "global")], [("Admin", "global")], [("Admin", "org:x")],
    [("SuperAdmin", "org:x/p:1")]])
@pytest.mark.parametrize("action", ["suspend", "update", "delete"])
async def test_admin_cannot_act_on_users_at_or_above_its_level_anywhere(
        service: AuthService, user_factory: Factory, action: str,
        target_roles: list[tuple[str, str]]) -> None:
    target = await user_factory(roles=target_roles)
    await expect_denied(service, user_action(service, action, target.id, ADMIN_ID), target.id)


@pytest.mark.parametrize("action", ["suspend", "update", "delete"])
async def test_acting_on_users_needs_manage_users_not_just_a_level(
        service: AuthService, user_factory: Factory, action: str) -> None:
    elder = await custom_role(service, "Elder", 60)
    actor = await user_factory(roles=[(elder, "global")])
    target = await user_factory()
    await expect_denied(service, user_action(service, action, target.id, actor.id), target.id)


async def test_admin_cannot_suspend_default_superadmin(service: AuthService) -> None:
    await expect_denied(service, user_action(service, "suspend", SUPERADMIN_ID, ADMIN_ID))


async def test_admin_suspends_ordinary_user_and_ends_their_sessions(
        service: AuthService, user_factory: Factory) -> None:
    user = await user_factory(roles=[("OrgOwner", "org:a")])
    await service.sessions.create(user.id)
    await service.sessions.create(user.id)
    assert len(await service.sessions.get_all_for_user(user.id)) == 2
    suspended = await service.users.suspend_user(user.id, ADMIN_ID, "spam")
    assert suspended.is_active is False
    assert await service.sessions.get_all_for_user(user.id) == []
    reloaded = await service.users.get_by_id(user.id)
    assert reloaded is not None and reloaded.is_active is False
    await service.users.unsuspend_user(user.id, ADMIN_ID)
    reloaded = await service.users.get_by_id(user.id)
    assert reloaded is not None and reloaded.is_active is True


async def test_superadmin_suspends_admin(service: AuthService) -> None:
    await service.users.suspend_user(ADMIN_ID, SUPERADMIN_ID, "rotation")
    admin = await service.users.get_by_id(ADMIN_ID)
    assert admin is not None and admin.is_active is False


# ---- deleting roles -------------------------------------------------------------------


@pytest.mark.parametrize("actor", [SUPERADMIN_ID, ADMIN_ID, SYSTEM])
@pytest.mark.parametrize("role", ["SuperAdmin", "Admin", "Moderator", "System"])
async def test_nobody_deletes_a_protected_role(service: AuthService, actor: str,
                                               role: str) -> None:
    await expect_denied(service, lambda: service.roles.delete_role(role, actor), ADMIN_ID)
    assert await service.roles.get_by_name(role) is not None


@pytest.mark.parametrize("level", [90, 95])
async def test_admin_cannot_delete_custom_role_at_or_above_own_level(
        service: AuthService, level: int) -> None:
    role = await custom_role(service, "Council", level)
    await expect_denied(service, lambda: service.roles.delete_role(role, ADMIN_ID))
    assert await service.roles.get_by_name(role) is not None


async def test_admin_deletes_low_custom_role(service: AuthService,
                                             user_factory: Factory) -> None:
    role = await custom_role(service, "Temp", 10)
    holder = await user_factory(roles=[(role, "global")])
    assert await service.rbac.has_role(holder.id, role)
    await service.roles.delete_role(role, ADMIN_ID)
    assert await service.roles.get_by_name(role) is None
    assert not await service.rbac.has_role(holder.id, role)
    assert await service.roles.get_user_roles(holder.id) == [("User", "global")]


# ---- assignment pathways --------------------------------------------------------------


@pytest.mark.parametrize(("actor_roles", "role"), [
    ([("SuperAdmin", "global")], "Admin"),
    ([("Admin", "global")], "Moderator"),
    ([("Admin", "global")], "OrgOwner"),
    ([("Moderator", "global")], "User"),
])
async def test_assignment_pathways_allow(service: AuthService, user_factory: Factory,
                                         actor_roles: list[tuple[str, str]], role: str) -> None:
    actor = await user_factory(roles=actor_roles)
    target = await bare_user(service, user_factory)
    await assign(service, target, role, actor.id, "global")
    assert (role, "global") in await service.roles.get_user_roles(target)


async def test_default_superadmin_assigns_admin(service: AuthService,
                                                user_factory: Factory) -> None:
    target = await bare_user(service, user_factory)
    await assign(service, target, "Admin", SUPERADMIN_ID, "global")
    assert await service.rbac.has_permission(target, "admin:manage:roles")


@pytest.mark.parametrize(("actor", "role"), [
    (ADMIN_ID, "Admin"), (ADMIN_ID, "SuperAdmin"), (ADMIN_ID, "System"),
    (ADMIN_ID, "TeamMember"), (SUPERADMIN_ID, "SuperAdmin"), (SUPERADMIN_ID, "System"),
    ("moderator", "Moderator"), ("moderator", "Admin"), ("moderator", "OrgOwner"),
    ("moderator", "System"),
])
async def test_assignment_pathways_deny(service: AuthService, user_factory: Factory,
                                        actor: str, role: str) -> None:
    if actor == "moderator":
        actor = (await user_factory(roles=[("Moderator", "global")])).id
    target = await bare_user(service, user_factory)
    for scope in ("global", "org:z"):
        await expect_denied(service, lambda s=scope: service.roles.assign_to_user(
            target, role, actor, scope=s), target, actor)


@pytest.mark.parametrize("scope", ["global", "org:x", "org:x/p:1"])
async def test_no_user_assigns_system_even_to_self(service: AuthService, scope: str) -> None:
    for target in (SUPERADMIN_ID, ADMIN_ID):
        await expect_denied(service, lambda t=target: service.roles.assign_to_user(
            t, "System", SUPERADMIN_ID, scope=scope), target)


async def test_system_role_stays_unassignable_above_its_level(
        service: AuthService, user_factory: Factory) -> None:
    overlord = await custom_role(service, "Overlord", 1000)
    actor = await user_factory(roles=[(overlord, "global")])
    target = await bare_user(service, user_factory)
    await expect_denied(service, lambda: service.roles.assign_to_user(
        target, "System", actor.id, scope="org:x"), target)
    await assign(service, target, "SuperAdmin", actor.id, "org:x")


# ---- scope awareness ------------------------------------------------------------------


@pytest.mark.parametrize(("scope", "allowed"), [
    ("org:a", True), ("org:a/team:t", True), ("org:b", False), ("org:ab", False),
    ("global", False), ("org:b/team:t", False)])
async def test_org_owner_assigns_only_within_its_org(
        service: AuthService, user_factory: Factory, scope: str, allowed: bool) -> None:
    owner = await user_factory(roles=[("OrgOwner", "org:a")])
    target = await bare_user(service, user_factory)
    if allowed:
        await assign(service, target, "OrgAdmin", owner.id, scope)
    else:
        await expect_denied(service, lambda: service.roles.assign_to_user(
            target, "OrgAdmin", owner.id, scope=scope), target)


@pytest.mark.parametrize("role", ["Admin", "Moderator"])
async def test_scoped_superadmin_cannot_assign_outside_its_scope(
        service: AuthService, user_factory: Factory, role: str) -> None:
    scoped = await user_factory(roles=[("SuperAdmin", "org:x")])
    target = await bare_user(service, user_factory)
    for scope in ("global", "org:y", "org:xy", "org:y/p:1"):
        await expect_denied(service, lambda s=scope: service.roles.assign_to_user(
            target, role, scoped.id, scope=s), target)
    await assign(service, target, role, scoped.id, "org:x/p:1")
    await assign(service, target, role, scoped.id, "org:x")


async def test_scoped_moderator_level_pathway_stays_in_scope(
        service: AuthService, user_factory: Factory) -> None:
    moderator = await user_factory(roles=[("Moderator", "org:x")])
    target = await bare_user(service, user_factory)
    await assign(service, target, "User", moderator.id, "org:x")
    await expect_denied(service, lambda: service.roles.assign_to_user(
        target, "User", moderator.id, scope="global"), target)
    await expect_denied(service, lambda: service.roles.assign_to_user(
        target, "User", moderator.id, scope="org:y"), target)


# ---- removing roles -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["User", "SuperAdmin"])
async def test_admin_cannot_remove_roles_from_superadmin(service: AuthService,
                                                         role: str) -> None:
    await expect_denied(service, lambda: service.roles.remove_from_user(
        SUPERADMIN_ID, role, ADMIN_ID), SUPERADMIN_ID)
    assert await service.roles.get_user_roles(SUPERADMIN_ID) == [
        ("SuperAdmin", "global"), ("User", "global")]


async def test_moderator_cannot_remove_roles_from_peers_or_admins(
        service: AuthService, user_factory: Factory) -> None:
    moderator = await user_factory(roles=[("Moderator", "global")])
    peer = await user_factory(roles=[("Moderator", "global")])
    await expect_denied(service, lambda: service.roles.remove_from_user(
        peer.id, "Moderator", moderator.id), peer.id)
    await expect_denied(service, lambda: service.roles.remove_from_user(
        ADMIN_ID, "User", moderator.id), ADMIN_ID)


async def test_admin_removes_moderator_from_ordinary_moderator(
        service: AuthService, user_factory: Factory) -> None:
    moderator = await user_factory(roles=[("Moderator", "global")])
    assert await service.roles.remove_from_user(moderator.id, "Moderator", ADMIN_ID) == 1
    assert await service.roles.get_user_roles(moderator.id) == [("User", "global")]
    assert not await service.rbac.has_permission(moderator.id, "admin:manage:users")
    event = (await service.audit.get_events_by_type("ROLE_REMOVED", limit=1))[0]
    assert (event.user_id, event.actor_id) == (moderator.id, ADMIN_ID)


async def test_user_removes_own_roles(service: AuthService, user_factory: Factory) -> None:
    user = await user_factory(roles=[("OrgMember", "org:a"), ("OrgMember", "org:b")])
    assert await service.roles.remove_from_user(user.id, "OrgMember", user.id, "org:a") == 1
    assert await service.roles.get_user_roles(user.id) == [
        ("OrgMember", "org:b"), ("User", "global")]
    assert await service.roles.remove_from_user(user.id, "User", user.id) == 1
    assert await service.roles.get_user_roles(user.id) == [("OrgMember", "org:b")]


async def test_user_cannot_remove_own_system_role(service: AuthService,
                                                  user_factory: Factory) -> None:
    user = await user_factory(roles=[("System", "org:z")])
    await expect_denied(service, lambda: service.roles.remove_from_user(
        user.id, "System", user.id), user.id)


async def test_removing_from_other_users_needs_an_assignment_pathway(
        service: AuthService, user_factory: Factory) -> None:
    stranger = await user_factory()
    member = await user_factory(roles=[("OrgMember", "org:a")])
    await expect_denied(service, lambda: service.roles.remove_from_user(
        member.id, "OrgMember", stranger.id), member.id)


# ---- grant relationships --------------------------------------------------------------


async def test_admin_cannot_let_moderator_assign_admin(service: AuthService,
                                                       user_factory: Factory) -> None:
    await expect_denied(service, lambda: service.roles.grant_relationship(
        "Moderator", "Admin", ADMIN_ID))
    helper = await custom_role(service, "Helper", 10)
    senior = await custom_role(service, "Senior", 95)
    for granter, target in ((helper, "Admin"), (helper, senior), (senior, helper),
                            (helper, "SuperAdmin"), ("Admin", helper)):
        await expect_denied(service, lambda g=granter, t=target: service.roles.grant_relationship(
            g, t, ADMIN_ID))
    moderator = await user_factory(roles=[("Moderator", "global"), (helper, "global")])
    target = await bare_user(service, user_factory)
    await expect_denied(service, lambda: service.roles.assign_to_user(
        target, "Admin", moderator.id, scope="global"), target)


async def test_admin_cannot_let_a_role_grant_a_permission_it_cannot_grant(
        service: AuthService) -> None:
    helper = await custom_role(service, "Helper", 10)
    await expect_denied(service, lambda: service.roles.grant_relationship(
        helper, "admin:manage:permissions", ADMIN_ID, kind="permission"))
    await service.roles.grant_relationship(helper, "team:manage", ADMIN_ID, kind="permission")
    event = (await service.audit.get_events_by_type("ROLE_GRANT_ADDED", limit=1))[0]
    assert event.details == {"granter": helper, "permission": "team:manage"}


async def test_outranking_actor_delegates_assignment(service: AuthService,
                                                     user_factory: Factory) -> None:
    helper = await custom_role(service, "Helper", 10)
    holder = await user_factory(roles=[(helper, "org:a")])
    target = await bare_user(service, user_factory)
    await expect_denied(service, lambda: service.roles.assign_to_user(
        target, "OrgMember", holder.id, scope="org:a"), target)
    await service.roles.grant_relationship(helper, "OrgMember", ADMIN_ID)
    await assign(service, target, "OrgMember", holder.id, "org:a/p:1")
    await expect_denied(service, lambda: service.roles.assign_to_user(
        target, "OrgMember", holder.id, scope="org:b"), target)
    senior = await custom_role(service, "Senior", 95)
    await service.roles.grant_relationship(helper, senior, SUPERADMIN_ID)
    event = (await service.audit.get_events_by_type("ROLE_GRANT_ADDED", limit=1))[0]
    assert (event.actor_id, event.details) == (SUPERADMIN_ID, {"granter": helper, "role": senior})


async def test_admin_cannot_delegate_assigning_a_role_it_cannot_assign(
        service: AuthService, user_factory: Factory) -> None:
    power = await custom_role(service, "PermEditor", None)
    await service.roles.add_permission_to_role(power, "admin:manage:permissions")
    for granter in ("User", "OrgOwner"):
        await expect_denied(service, lambda g=granter: service.roles.grant_relationship(
            g, power, ADMIN_ID))
    await expect_denied(service, lambda: service.roles.assign_to_user(
        ADMIN_ID, power, ADMIN_ID, scope="global"), ADMIN_ID)
    assert not await service.rbac.has_permission(ADMIN_ID, "admin:manage:permissions")
