""""Why denied?": the explanation always gives the real check's answer, and the right reason.

The pure part (``core/rbac/explain.py``) is checked against ``Grants.has_permission`` over
generated grants; the read (``AuthService.why_denied``) against ``rbac.has_permission`` on a
real database, for the cases an admin meets: a global role, a role at an ancestor scope, at a
sibling, at a child, none, a suspended account, an unknown (or wildcard-looking) name.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import User
from quart_authtuna.core.errors import InputError
from quart_authtuna.core.rbac.explain import Subject, explain
from quart_authtuna.core.rbac.grants import Grants
from tests._support.queries import recorded_statements

Factory = Callable[..., Awaitable[User]]
TREE = ("global", "org:a", "org:ab", "org:a/p:1", "org:a/p:1/t:x", "org:ab/p:1", "none")
PERMS = ("p:read", "p:write", "p:delete")
ROLES = ("Reader", "Writer", "Empty")
ACTIVE = Subject("u1", "ursula", True)


# ---- pure: explain equals Grants.has_permission --------------------------------------------

rows_strategy = st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(TREE),
                                   st.none() | st.integers(0, 100),
                                   st.none() | st.sampled_from(PERMS)), max_size=12)


@given(rows=rows_strategy, permission=st.sampled_from(PERMS),
       scope=st.sampled_from(TREE[:-1]), active=st.booleans())
def test_the_answer_is_the_checks_answer(rows: list[tuple[str, str, int | None, str | None]],
                                         permission: str, scope: str, active: bool) -> None:
    user = Subject("u1", "ursula", active)
    got = explain("ursula", permission, scope, user, rows, PERMS)
    real = Grants.from_rows(rows).has_permission(permission, scope)
    assert got.allowed is (active and real)
    assert (got.matched_scope is not None) is real
    assert got.consulted[0] == scope and got.consulted[-1] == "global"
    if real:
        assert got.granted_by and got.granted_by[0].scope == got.matched_scope
        assert all(r.covers and r.carries for r in got.granted_by)
    else:
        assert not got.granted_by
    assert got.reason == ("granted" if got.allowed else "suspended" if not active
                          else "held_elsewhere" if got.held_elsewhere else "no_role")
    assert {(r.role, r.scope) for r in got.roles} == {(r, s) for r, s, _, _ in rows}


def test_a_global_role_allows_everywhere() -> None:
    rows = [("Reader", "global", 10, "p:read")]
    got = explain("ursula", "p:read", "org:a/p:1", ACTIVE, rows, PERMS, ["Reader"])
    assert got.allowed and got.reason == "granted" and got.matched_scope == "global"
    assert got.consulted == ("org:a/p:1", "org:a", "global")
    assert got.summary.startswith("ursula holds Reader at global (everywhere)")
    assert got.next_step is None


def test_a_role_at_an_ancestor_allows_the_most_specific_one_is_named_first() -> None:
    rows = [("Reader", "global", 10, "p:read"), ("Writer", "org:a", 20, "p:read")]
    got = explain("ursula", "p:read", "org:a/p:1/t:x", ACTIVE, rows, PERMS)
    assert got.allowed and got.matched_scope == "org:a"
    assert [(r.role, r.scope) for r in got.granted_by] == [("Writer", "org:a"),
                                                            ("Reader", "global")]


def test_a_role_at_a_sibling_or_a_child_is_held_elsewhere() -> None:
    rows = [("Reader", "org:ab", 10, "p:read"), ("Reader", "org:a/p:1", 10, "p:read"),
            ("User", "global", 0, None)]
    got = explain("ursula", "p:read", "org:a", ACTIVE, rows, PERMS, ["Reader"])
    assert not got.allowed and got.reason == "held_elsewhere"
    assert {(r.role, r.scope) for r in got.held_elsewhere} == {("Reader", "org:ab"),
                                                               ("Reader", "org:a/p:1")}
    assert "neither org:a nor a scope above it" in got.summary
    assert got.next_step == ("To allow it, give ursula one of these roles at org:a or a scope "
                             "above it: Reader.")
    user_role = next(r for r in got.roles if r.role == "User")
    assert user_role.covers and not user_role.carries


def test_no_role_carries_it() -> None:
    got = explain("ursula", "p:write", "global", ACTIVE, [("Reader", "global", 1, "p:read")],
                  PERMS)
    assert (got.allowed, got.reason) == (False, "no_role")
    assert got.next_step == "No role carries p:write yet: add it to a role first."


def test_a_suspended_account_is_denied_even_with_the_role() -> None:
    user = Subject("u1", "sam", False)
    got = explain("sam", "p:read", "global", user, [("Reader", "global", 1, "p:read")], PERMS)
    assert (got.allowed, got.reason, got.matched_scope) == (False, "suspended", "global")
    assert "suspended" in got.summary and "would otherwise allow it" in got.summary


def test_unknown_names_get_the_closest_existing_ones_and_no_wildcards() -> None:
    got = explain("ursula", "p:raed", "global", ACTIVE, [("Reader", "global", 1, "p:read")],
                  PERMS)
    assert (got.allowed, got.reason) == (False, "unknown_permission")
    assert got.suggestions[0] == "p:read" and "Did you mean p:read" in got.summary
    wild = explain("ursula", "p:*", "global", ACTIVE, [("Reader", "global", 1, "p:read")], PERMS)
    assert not wild.allowed and wild.reason == "unknown_permission"


def test_nobody_and_a_malformed_scope() -> None:
    got = explain("ghost", "p:read", "global", None, [("Reader", "global", 1, "p:read")], PERMS)
    assert (got.allowed, got.reason, got.roles) == (False, "user_not_found", ())
    with pytest.raises(ValueError):
        explain("ursula", "p:read", "org:a//x", ACTIVE, [], PERMS)


# ---- the read, against the real checker on a real database ---------------------------------

_names = itertools.count()


async def _world(service: AuthService, user_factory: Factory) -> list[User]:
    await service.roles.create("Reader", level=10)
    await service.roles.create("Writer", level=20)
    for perm in PERMS:
        await service.permissions.get_or_create(perm)
    await service.roles.add_permission_to_role("Reader", "p:read")
    for perm in ("p:read", "p:write"):
        await service.roles.add_permission_to_role("Writer", perm)
    layouts = [
        [("Reader", "global")],                      # a global role
        [("Writer", "org:a")],                       # a role at an ancestor
        [("Reader", "org:ab")],                      # at a sibling of org:a
        [("Writer", "org:a/p:1"), ("Reader", "none")],  # at a child; at upstream's "none"
        [],                                          # only User@global
    ]
    users = [await user_factory(roles=layout) for layout in layouts]
    suspended = await user_factory(roles=[("Writer", "global")])
    await service.users.suspend_user(suspended.id, "system", "test")
    return [*users, suspended]


async def test_the_read_agrees_with_the_checker_on_every_case(
        service: AuthService, user_factory: Factory) -> None:
    users = await _world(service, user_factory)
    for user, perm, scope in itertools.product(users, (*PERMS, "p:*", "admin:manage:users"),
                                               TREE[:-1]):
        ref = (user.id, user.username, user.email)[next(_names) % 3]
        got = await service.why_denied.explain(ref, perm, scope)
        fresh = await service.users.get_by_id(user.id)  # the suspension is on the account
        assert fresh is not None
        real = fresh.is_active and await service.rbac.has_permission(user.id, perm, scope)
        assert got.allowed is real, (user.username, perm, scope, got.reason)
        assert got.user is not None and got.user.id == user.id


async def test_the_read_names_roles_reasons_and_carriers(
        service: AuthService, user_factory: Factory) -> None:
    _, ancestor, sibling, *_, suspended = await _world(service, user_factory)
    got = await service.why_denied.explain(ancestor.username, "p:write", "org:a/p:1")
    assert got.allowed and got.granted_by[0].role == "Writer"
    assert got.consulted == ("org:a/p:1", "org:a", "global")
    got = await service.why_denied.explain(sibling.email.upper(), "p:read", "org:a")
    assert got.reason == "held_elsewhere" and got.carrier_roles == ("Reader", "Writer")
    got = await service.why_denied.explain(suspended.id, "p:read", "global")
    assert (got.allowed, got.reason) == (False, "suspended")
    got = await service.why_denied.explain("nobody-here", "p:read", "global")
    assert got.reason == "user_not_found"
    got = await service.why_denied.explain(ancestor.id, "p:wirte", "global")
    assert got.reason == "unknown_permission" and got.suggestions[0] == "p:write"


async def test_the_read_costs_a_fixed_number_of_statements(
        service: AuthService, user_factory: Factory) -> None:
    users = await _world(service, user_factory)
    counts = []
    for user in (users[0], users[3]):
        with recorded_statements(service) as statements:
            await service.why_denied.explain(user.username, "p:read", "org:a")
        counts.append(len([s for s in statements if s.lstrip().upper().startswith("SELECT")]))
    assert counts[0] == counts[1] <= 5, counts


async def test_bad_input_is_refused_field_by_field(service: AuthService) -> None:
    with pytest.raises(InputError) as caught:
        await service.why_denied.explain(" ", "", "org:a/")
    assert {e.param for e in caught.value.errors} == {"user", "permission", "scope"}
