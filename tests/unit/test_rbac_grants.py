"""Unit and property tests for RBAC scope paths and resolved Grants (pure, no DB)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quart_authtuna.core.rbac.grants import EMPTY_GRANTS, Grants
from quart_authtuna.core.rbac.scopes import (
    GLOBAL,
    ancestors,
    covers,
    scope_from_path,
    validate_permission_name,
    validate_scope,
)


@pytest.mark.parametrize(
    "scope",
    ["global", "none", "org:acme", "org:acme/project:p1/team:t1", "a", "x" * 255, "org:a-b.c_d"],
)
def test_validate_scope_accepts(scope: str) -> None:
    assert validate_scope(scope) == scope


@pytest.mark.parametrize(
    "scope",
    ["", "a//b", "a/", "/a", " a", "a ", "a b", "a\tb", "a\nb", "a\x00b", "a\u00a0b",
     "global/x", "x/global", "a/global/b", "x" * 256, "/", "//"],
)
def test_validate_scope_rejects(scope: str) -> None:
    with pytest.raises(ValueError):
        validate_scope(scope)
    with pytest.raises(TypeError):
        validate_scope(None)  # type: ignore[arg-type]


def test_ancestors() -> None:
    assert ancestors(GLOBAL) == ("global",)
    assert ancestors("none") == ("none", "global")
    assert ancestors("org:a/p:1/t:x") == ("org:a/p:1/t:x", "org:a/p:1", "org:a", "global")
    with pytest.raises(ValueError):
        ancestors("org:a/")


@pytest.mark.parametrize(
    ("holder", "target", "expected"),
    [("global", "global", True), ("global", "org:a/x", True), ("org:a", "global", False),
     ("org:a", "org:a", True), ("org:a", "org:a/x", True), ("org:a", "org:a/x/y", True),
     ("org:a", "org:ab", False), ("org:a", "org:a-b", False), ("org:a", "org:ab/x", False),
     ("org:a/x", "org:a", False), ("org:a/x", "org:a/xy", False), ("none", "none", True),
     ("none", "org:a", False)],
)
def test_covers(holder: str, target: str, expected: bool) -> None:
    assert covers(holder, target) is expected


def test_covers_rejects_malformed() -> None:
    with pytest.raises(ValueError):
        covers("org:a/", "org:a/x")


def test_scope_from_path() -> None:
    assert scope_from_path("project_id", "p1") == "project:p1"
    assert scope_from_path("org_id", "x") == "org:x"
    assert scope_from_path("org", "x") == "org:x"
    assert scope_from_path("org_id", "x", prefix="organisation") == "organisation:x"
    assert scope_from_path("none", "x") == "none:x"


@pytest.mark.parametrize(
    ("param", "value", "prefix"),
    [("org_id", "", None), ("org_id", "a/b", None), ("org_id", "a/", None),
     ("org_id", "a b", None), ("org_id", "a\tb", None), ("org_id", "x", "a/b"),
     ("org_id", "x" * 255, None)],
)
def test_scope_from_path_rejects(param: str, value: str, prefix: str | None) -> None:
    with pytest.raises(ValueError):
        scope_from_path(param, value, prefix)


@pytest.mark.parametrize("name", ["org:create", "roles:assign:Admin", "a", "x.y-z_1", "p" * 80])
def test_validate_permission_name_accepts(name: str) -> None:
    assert validate_permission_name(name) == name


@pytest.mark.parametrize("name", ["", "p" * 81, "org create", "org/x", "org:x\n", "é:x"])
def test_validate_permission_name_rejects(name: str) -> None:
    with pytest.raises(ValueError):
        validate_permission_name(name)


ROWS = [
    ("Admin", "org:a", 50, "org:edit"),
    ("Admin", "org:a", 50, "org:view"),
    ("Viewer", "org:b/p:1", 10, "org:view"),
    ("User", "global", None, "profile:edit"),
    ("Empty", "none", None, None),
]


def test_grants_from_rows_and_checks() -> None:
    g = Grants.from_rows(ROWS)
    assert g.has_permission("org:edit", "org:a/p:1/t:x")
    assert not g.has_permission("org:edit", "org:ab")
    assert not g.has_permission("org:edit")
    assert g.has_permission("profile:edit", "org:zzz")
    assert g.has_permission("org:view", "org:b/p:1")
    assert not g.has_permission("org:view", "org:b")
    assert not g.has_permission("org:view", "org:b/p:10")
    assert g.has_role("Empty", "none") and not g.has_role("Empty", "org:a")
    assert g.has_role("User", "anything/at/all")
    assert g.has_permissions(["org:edit", "org:view"], "org:a", "AND")
    assert not g.has_permissions(["org:edit", "org:view"], "org:b/p:1", "AND")
    assert g.has_permissions(["org:edit", "org:view"], "org:b/p:1", "OR")
    assert g.has_roles(["Admin", "User"], "org:a/x")
    assert not g.has_roles(["Admin", "Viewer"], "org:a", "AND")
    assert g.has_roles(["Admin", "Viewer"], "org:a", "OR")
    assert g.level_at("org:a/x") == 50
    assert g.level_at("org:b/p:1/t") == 10
    assert g.level_at("org:c") is None
    assert g.max_level() == 50
    assert g.scopes_of("Admin") == {"org:a"} and g.scopes_of("Nope") == frozenset()
    assert g.role_names() == frozenset({"Admin", "Viewer", "User", "Empty"})


def test_grants_argument_errors() -> None:
    g = Grants.from_rows(ROWS)
    with pytest.raises(ValueError):
        g.has_permissions([], "org:a")
    with pytest.raises(TypeError):
        g.has_permissions("org:edit", "org:a")
    with pytest.raises(ValueError):
        g.has_roles(["Admin"], "org:a", "XOR")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        g.has_permission("org:edit", "org:a/")


def test_empty_grants() -> None:
    assert Grants.EMPTY is EMPTY_GRANTS
    assert EMPTY_GRANTS == Grants.from_rows([])
    assert not EMPTY_GRANTS.has_permission("x:y", "org:a")
    assert not EMPTY_GRANTS.has_role("Admin")
    assert EMPTY_GRANTS.level_at("global") is None and EMPTY_GRANTS.max_level() is None
    assert EMPTY_GRANTS.role_names() == frozenset()
    with pytest.raises(AttributeError):  # frozen
        EMPTY_GRANTS.roles = frozenset({("Admin", "global")})  # type: ignore[misc]


SEGMENTS = ["org:a", "org:ab", "org:a-b", "p:1", "p:10", "t:x"]
ROLES = ["r0", "r1", "r2", "r3"]
PERMS = ["x:read", "x:write", "y:read"]
paths = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4).map("/".join)


def _tree(leaves: list[str]) -> list[str]:
    """Every leaf, each of its prefixes, and ``global``."""
    out = {GLOBAL}
    for leaf in leaves:
        parts = leaf.split("/")
        out.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return sorted(out)


def _applies(held: str, target: str) -> bool:
    """Brute-force coverage, independent of the code under test."""
    return held == GLOBAL or held == target or target.startswith(held + "/")


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[str], dict, dict, list[tuple[str, str]]]:
    """A scope tree, a role→perms map, role levels and the user's (role, scope) holdings."""
    tree = _tree(draw(st.lists(paths, min_size=1, max_size=8)))
    role_perms = {r: draw(st.frozensets(st.sampled_from(PERMS))) for r in ROLES}
    levels = {r: draw(st.none() | st.integers(0, 100)) for r in ROLES}
    held = draw(st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(tree)), max_size=8))
    return tree, role_perms, levels, held


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_grants_match_brute_force(world: tuple[list[str], dict, dict, list]) -> None:
    tree, role_perms, levels, held = world
    rows = [
        (role, scope, levels[role], perm)
        for role, scope in held
        for perm in (sorted(role_perms[role]) or [None])
    ]
    g = Grants.from_rows(rows)
    for scope in tree:
        for perm in PERMS:
            expected = any(perm in role_perms[r] and _applies(s, scope) for r, s in held)
            assert g.has_permission(perm, scope) is expected, (perm, scope)
        for role in ROLES:
            expected = any(r == role and _applies(s, scope) for r, s in held)
            assert g.has_role(role, scope) is expected, (role, scope)
        lv = [levels[r] for r, s in held if levels[r] is not None and _applies(s, scope)]
        assert g.level_at(scope) == (max(lv) if lv else None), scope
