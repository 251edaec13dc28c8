"""RBAC checks against a real database: scope hierarchy, one-query loading, caching and
invalidation, a property test against a brute-force definition, and no N+1 in listings."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import User
from quart_authtuna.core.defaults import ADMIN_ID, SUPERADMIN_ID
from quart_authtuna.core.errors import EscalationDenied
from tests._support.clock import FakeClock
from tests._support.queries import recorded_statements

Factory = Callable[..., Awaitable[User]]
SYSTEM = "system"


def selects(statements: list[str]) -> list[str]:
    """The SELECTs among ``statements`` (SQLite's BEGIN IMMEDIATE also passes the hook)."""
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def non_transactional(statements: list[str]) -> list[str]:
    """Statements other than transaction control."""
    control = ("BEGIN", "COMMIT", "ROLLBACK")
    return [s for s in statements if not s.lstrip().upper().startswith(control)]


# ---- scope hierarchy ------------------------------------------------------------------


@pytest.mark.parametrize(("scope", "expected"), [
    ("org:acme", True), ("org:acme/project:p1", True), ("org:acme/project:p1/team:t1", True),
    ("org:acme2", False), ("org:ac", False), ("global", False),
    ("org:acme2/project:p1", False), ("org:ac/me", False), ("project:p1", False),
])
async def test_role_at_a_scope_grants_in_that_subtree_only(
        service: AuthService, user_factory: Factory, scope: str, expected: bool) -> None:
    user = await user_factory(roles=[("OrgOwner", "org:acme")])
    assert await service.rbac.has_permission(user.id, "org:manage", scope) is expected
    assert await service.roles.has_permission(user.id, "org:manage", scope) is expected
    assert await service.rbac.has_role(user.id, "OrgOwner", scope) is expected
    assert not await service.rbac.has_permission(user.id, "admin:manage:users", scope)


@pytest.mark.parametrize("scope", [
    "global", "org:acme", "org:acme/project:p1/team:t1", "org:acme2", "org:ac", "none"])
async def test_role_held_globally_grants_everywhere(
        service: AuthService, user_factory: Factory, scope: str) -> None:
    user = await user_factory(roles=[("OrgOwner", "global")])
    assert await service.rbac.has_permission(user.id, "org:manage", scope)
    assert await service.rbac.has_role(user.id, "OrgOwner", scope)


async def test_defaults_grant_admin_permissions_globally(service: AuthService) -> None:
    assert await service.rbac.has_permission(SUPERADMIN_ID, "admin:manage:permissions",
                                              "org:x/p:1")
    assert await service.rbac.has_permission(ADMIN_ID, "admin:manage:roles")
    assert not await service.rbac.has_permission(ADMIN_ID, "admin:manage:permissions")


# ---- one query, cached ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["factory", ADMIN_ID, SUPERADMIN_ID])
async def test_loading_a_users_grants_is_one_select(
        service: AuthService, user_factory: Factory, who: str) -> None:
    if who == "factory":
        who = (await user_factory(roles=[("OrgOwner", "org:a"), ("TeamLead", "org:a/team:t"),
                                         ("Moderator", "global"), ("TeamMember", "org:b")])).id
    with recorded_statements(service) as seen:
        grants = await service.rbac.grants_for(who, fresh=True)
    assert len(selects(seen)) == 1, seen
    assert non_transactional(seen) == selects(seen)
    assert grants.role_names() >= {"User"}
    if who == ADMIN_ID:
        assert grants.has_permission("roles:assign:Moderator", "org:q/x")
        assert grants.level_at("org:q") == 90


@pytest.mark.settings(REVOCATION_BROADCASTER="local")  # the interval bound applies
async def test_has_permission_is_cached_for_the_verification_interval(
        service: AuthService, user_factory: Factory, clock: FakeClock) -> None:
    user = await user_factory(roles=[("OrgOwner", "org:a")])
    interval = service.settings.session_db_verification_interval
    with recorded_statements(service) as seen:
        assert await service.rbac.has_permission(user.id, "org:manage", "org:a")
    assert len(selects(seen)) == 1
    clock.advance(interval - 1)
    with recorded_statements(service) as seen:
        assert await service.rbac.has_permission(user.id, "org:manage", "org:a")
        assert not await service.rbac.has_permission(user.id, "org:manage", "org:b")
        assert await service.rbac.has_role(user.id, "OrgOwner", "org:a/team:t")
        assert await service.roles.has_permission(user.id, "team:create", "org:a")
    assert seen == []
    clock.advance(2)  # now past the interval since the load
    with recorded_statements(service) as seen:
        assert await service.rbac.has_permission(user.id, "org:manage", "org:a")
    assert len(selects(seen)) == 1
    with recorded_statements(service) as seen:
        assert await service.rbac.has_permission(user.id, "org:manage", "org:a")
    assert seen == []
    clock.advance(interval + 1)
    with recorded_statements(service) as seen:
        assert await service.rbac.has_permission(user.id, "org:manage", "org:a")
    assert len(selects(seen)) == 1


@pytest.mark.settings(REVOCATION_BROADCASTER="local")  # the interval bound applies
async def test_grants_loaded_with_a_session_verification_last_as_long_as_it(
        service: AuthService, user_factory: Factory, clock: FakeClock) -> None:
    """A request the session validator let through reads the grants of that verification,
    even a moment past the interval, and so needs no SQL between verifications."""
    user = await user_factory(roles=[("OrgOwner", "org:a")])
    verified_at = clock()
    grants = await service.rbac.grants_for(user.id)
    clock.advance(service.settings.session_db_verification_interval + 0.001)
    assert service.rbac.cached(user.id) is None
    assert service.rbac.cached(user.id, loaded_since=verified_at) is grants
    assert service.rbac.cached(user.id, loaded_since=verified_at + 1) is None
    service.rbac.invalidate([user.id])
    assert service.rbac.cached(user.id, loaded_since=verified_at) is None


@pytest.mark.settings(REVOCATION_BROADCASTER="local")  # the interval bound, without a channel
async def test_change_by_another_process_is_seen_after_the_interval(
        service: AuthService, user_factory: Factory, clock: FakeClock) -> None:
    user = await user_factory()
    assert not await service.rbac.has_permission(user.id, "org:manage", "org:a")
    other = AuthService(service.settings, clock=clock)
    await other.start()
    try:
        await other.roles.assign_to_user(user.id, "OrgOwner", SYSTEM, scope="org:a")
    finally:
        await other.close()
    assert not await service.rbac.has_permission(user.id, "org:manage", "org:a")  # stale
    clock.advance(service.settings.session_db_verification_interval + 1)
    assert await service.rbac.has_permission(user.id, "org:manage", "org:a")


# ---- invalidation ---------------------------------------------------------------------


async def primed(service: AuthService, user_id: str, permission: str, scope: str) -> bool:
    """Check once so the answer is cached, and prove it is."""
    answer = await service.rbac.has_permission(user_id, permission, scope)
    assert service.rbac.cached(user_id) is not None
    return answer


@pytest.mark.parametrize("actor", [SYSTEM, ADMIN_ID])
async def test_assigning_and_removing_a_role_is_visible_at_once(
        service: AuthService, user_factory: Factory, actor: str) -> None:
    user = await user_factory()
    assert not await primed(service, user.id, "team:manage", "org:a/team:t")
    await service.roles.assign_to_user(user.id, "OrgAdmin", actor, scope="org:a")
    assert await service.rbac.has_permission(user.id, "team:manage", "org:a/team:t")
    assert await primed(service, user.id, "team:manage", "org:a/team:t")
    await service.roles.remove_from_user(user.id, "OrgAdmin", actor, scope="org:a")
    assert not await service.rbac.has_permission(user.id, "team:manage", "org:a/team:t")


@pytest.mark.parametrize("actor", [SYSTEM, ADMIN_ID])
async def test_changing_a_held_roles_permissions_is_visible_at_once(
        service: AuthService, user_factory: Factory, actor: str) -> None:
    await service.roles.create("Crew", level=10)
    user = await user_factory(roles=[("Crew", "org:a")])
    assert not await primed(service, user.id, "team:manage", "org:a")
    await service.roles.add_permission_to_role("Crew", "team:manage", actor)
    assert await service.rbac.has_permission(user.id, "team:manage", "org:a")
    assert await primed(service, user.id, "team:manage", "org:a")
    await service.roles.remove_permission_from_role("Crew", "team:manage", actor)
    assert not await service.rbac.has_permission(user.id, "team:manage", "org:a")


async def test_deleting_a_held_role_is_visible_at_once(
        service: AuthService, user_factory: Factory) -> None:
    await service.roles.create("Crew", level=10)
    await service.roles.add_permission_to_role("Crew", "team:manage")
    user = await user_factory(roles=[("Crew", "global")])
    assert await primed(service, user.id, "team:manage", "org:a")
    await service.roles.delete_role("Crew", ADMIN_ID)
    assert not await service.rbac.has_permission(user.id, "team:manage", "org:a")
    assert not await service.rbac.has_role(user.id, "Crew")


async def test_denied_change_leaves_cached_answers_right(
        service: AuthService, user_factory: Factory) -> None:
    user = await user_factory()
    assert not await primed(service, user.id, "admin:manage:roles", "global")
    with pytest.raises(EscalationDenied):
        await service.roles.assign_to_user(user.id, "Admin", user.id, scope="global")
    assert not await service.rbac.has_permission(user.id, "admin:manage:roles")
    assert not (await service.rbac.grants_for(user.id, fresh=True)).has_role("Admin")


# ---- property: has_permission against a brute-force definition -----------------------

TREE = ("global", "org:a", "org:ab", "org:a/p:1", "org:a/p:1/t:x", "org:ab/p:1")
PERMS = ("p:read", "p:write")
_example_ids = itertools.count()


@st.composite
def layouts(draw: st.DrawFn) -> tuple[list[frozenset[str]], list[tuple[int, str]]]:
    """Roles as permission subsets, and (role index, scope) assignments."""
    roles = draw(st.lists(st.frozensets(st.sampled_from(PERMS)), min_size=1, max_size=3))
    held = draw(st.lists(st.tuples(st.integers(0, len(roles) - 1), st.sampled_from(TREE)),
                         max_size=5, unique=True))
    return roles, held


def brute_force(roles: list[frozenset[str]], held: list[tuple[int, str]], permission: str,
                scope: str) -> bool:
    return any(permission in roles[index]
               and (at == "global" or at == scope or scope.startswith(at + "/"))
               for index, at in held)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts())
async def test_has_permission_matches_brute_force(
        service: AuthService, layout: tuple[list[frozenset[str]], list[tuple[int, str]]]) -> None:
    roles, held = layout
    n = next(_example_ids)  # the database outlives each example: use fresh names
    for perm in PERMS:
        await service.permissions.get_or_create(perm)
    names = [f"prop{n}-role{i}" for i in range(len(roles))]
    for name, perms in zip(names, roles, strict=True):
        await service.roles.create(name)
        for perm in sorted(perms):
            await service.roles.add_permission_to_role(name, perm)
    user = await service.users.create(email=f"prop{n}@example.com", username=f"prop{n}")
    for index, scope in held:
        await service.roles.assign_to_user(user.id, names[index], SYSTEM, scope=scope)
    for perm in PERMS:
        for scope in TREE:
            expected = brute_force(roles, held, perm, scope)
            assert await service.rbac.has_permission(user.id, perm, scope) is expected, (
                perm, scope)


# ---- assignable roles -----------------------------------------------------------------

ADMIN_ASSIGNABLE = ["Moderator", "OrgAdmin", "OrgMember", "OrgOwner", "TeamLead", "User"]


async def test_assignable_roles_for_default_admin(service: AuthService) -> None:
    assignable = await service.roles.get_assignable_roles_for_user(ADMIN_ID, "global")
    assert assignable == ADMIN_ASSIGNABLE
    assert await service.roles.get_assignable_roles_for_user(ADMIN_ID, "org:x/p:1") == (
        ADMIN_ASSIGNABLE)
    assert await service.roles.get_assignable_roles_for_user(SUPERADMIN_ID) == sorted(
        ["Admin", *ADMIN_ASSIGNABLE, "TeamMember"])


async def test_assignable_roles_follow_scope(service: AuthService,
                                             user_factory: Factory) -> None:
    owner = await user_factory(roles=[("OrgOwner", "org:a"), ("Moderator", "org:m")])
    assert await service.roles.get_assignable_roles_for_user(owner.id, "org:a/team:t") == [
        "OrgAdmin", "OrgMember", "TeamLead", "TeamMember"]
    assert await service.roles.get_assignable_roles_for_user(owner.id, "org:m") == ["User"]
    assert await service.roles.get_assignable_roles_for_user(owner.id, "org:ab") == []
    assert await service.roles.get_assignable_roles_for_user(owner.id, "global") == []


async def test_system_is_never_listed_as_assignable(service: AuthService,
                                                    user_factory: Factory) -> None:
    await service.roles.create("Overlord", level=1000)
    actor = await user_factory(roles=[("Overlord", "global")])
    assignable = await service.roles.get_assignable_roles_for_user(actor.id)
    assert "SuperAdmin" in assignable and "Moderator" in assignable
    assert "System" not in assignable and "Overlord" not in assignable


async def test_assignable_roles_issue_constant_queries(service: AuthService) -> None:
    async def count() -> tuple[int, list[str]]:
        with recorded_statements(service) as seen:
            names = await service.roles.get_assignable_roles_for_user(ADMIN_ID, "global")
        return len(selects(seen)), names

    before, names = await count()
    assert names == ADMIN_ASSIGNABLE
    extra = []
    for i in range(30):
        name = f"Extra{i:02d}"
        await service.roles.create(name, level=(10 + i) if i % 3 == 0 else None)
        if i % 3 == 1:
            await service.roles.grant_relationship("Admin", name)
        if i % 2 == 0:
            await service.roles.add_permission_to_role(name, "team:manage")
        if i % 3 != 2:
            extra.append(name)
    after, names = await count()
    assert after == before
    assert names == sorted([*ADMIN_ASSIGNABLE, *extra])
