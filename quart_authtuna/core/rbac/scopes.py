"""Scope paths and permission names: validation, ancestry and coverage."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from functools import lru_cache

GLOBAL = "global"
MAX_SCOPE_LENGTH = 255
MAX_PERMISSION_LENGTH = 80

_PERMISSION_RE = re.compile(rf"[A-Za-z0-9_:.\-]{{1,{MAX_PERMISSION_LENGTH}}}")


def validate_scope(scope: str) -> str:
    """Return ``scope`` unchanged if well formed, else raise ``ValueError`` saying why.

    A scope is ``global`` or ``/``-separated non-empty segments without whitespace or
    non-printable characters; ``global`` may not be a segment of a longer path.
    """
    if not isinstance(scope, str):
        raise TypeError(f"scope must be a str, not {type(scope).__name__}")
    if not scope:
        raise ValueError("scope must not be empty")
    if len(scope) > MAX_SCOPE_LENGTH:
        raise ValueError(f"scope is {len(scope)} characters; the maximum is {MAX_SCOPE_LENGTH}")
    if scope == GLOBAL:
        return scope
    if " " in scope or not scope.isprintable():  # covers every whitespace and control char
        if any(ch.isspace() for ch in scope):
            raise ValueError(f"scope {scope!r} contains whitespace")
        raise ValueError(f"scope {scope!r} contains a non-printable character")
    segments = scope.split("/")
    if "" in segments:
        raise ValueError(f"scope {scope!r} has an empty segment (leading, trailing or '//')")
    if GLOBAL in segments:
        raise ValueError(f"scope {scope!r}: {GLOBAL!r} may only be used alone, not as a segment")
    return scope


@lru_cache(maxsize=4096)
def ancestors(scope: str) -> tuple[str, ...]:
    """Return ``scope``, each of its ``/``-prefixes and ``global``, most specific first.

    ``ancestors("a/b/c") == ("a/b/c", "a/b", "a", "global")``. Raises ``ValueError`` for a
    malformed scope. Cached, since permission checks call it on every request.
    """
    validate_scope(scope)
    if scope == GLOBAL:
        return (GLOBAL,)
    out = [scope]
    cut = scope.rfind("/")
    while cut != -1:
        out.append(scope[:cut])
        cut = scope.rfind("/", 0, cut)
    out.append(GLOBAL)
    return tuple(out)


def covers(holder_scope: str, target_scope: str) -> bool:
    """True if a role held at ``holder_scope`` applies at ``target_scope``.

    That is: the holder is ``global``, equal to the target, or a ``/``-ancestor of it
    (``org:a`` covers ``org:a/x`` but not its sibling ``org:ab``).
    """
    validate_scope(holder_scope)
    validate_scope(target_scope)
    return (
        holder_scope == GLOBAL
        or holder_scope == target_scope
        or target_scope.startswith(holder_scope + "/")
    )


@lru_cache(maxsize=1024)
def scope_from_path(param: str, value: str, prefix: str | None = None) -> str:
    """Derive a one-segment scope from a URL path parameter, as upstream does, and validate it.

    ``scope_from_path("project_id", "p1") == "project:p1"``; ``prefix`` replaces the
    name derived from ``param``. An empty value, or one containing ``/`` (which would
    let a crafted id pose as a descendant of another scope), raises ``ValueError``.
    Results are remembered (a guarded route sees the same ids again); errors are not.
    """
    if not value or "/" in value:
        raise ValueError(f"path value {value!r} for {param!r} must be non-empty and have no '/'")
    scope = f"{prefix or param.removesuffix('_id')}:{value}"
    if "/" in scope:
        raise ValueError(f"scope prefix for {param!r} must not contain '/'")
    return validate_scope(scope)


def template_fields(template: str) -> tuple[str, ...]:
    """The ``{name}`` fields of a scope template such as ``org:{org_id}/team:{team_id}``.

    Raises ``ValueError`` when the template is malformed (no field, a format spec, an
    unbalanced brace) or could never fill to a valid scope.
    """
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"scope template {template!r}: {exc}") from None
    fields = tuple(name for _, name, _, _ in parts if name is not None)
    if not fields or any(not name.isidentifier() for name in fields) or any(
            spec or conv for _, name, spec, conv in parts if name is not None):
        raise ValueError(f"scope template {template!r} needs plain {{name}} fields")
    validate_scope(template.format(**dict.fromkeys(fields, "x")))
    return fields


def fill_scope_template(template: str, values: Mapping[str, object]) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]``, validated as
    :func:`scope_from_path` validates one value: each must be non-empty and free of ``/``
    (so a crafted id cannot reach another scope). Raises ``KeyError`` for a missing value
    and ``ValueError`` for a bad one."""
    filled: dict[str, str] = {}
    for name in template_fields(template):
        value = str(values[name])
        if not value or "/" in value:
            raise ValueError(f"path value {value!r} for {name!r} must be non-empty, no '/'")
        filled[name] = value
    return validate_scope(template.format(**filled))


def validate_permission_name(name: str) -> str:
    """Return ``name`` if it is 1-80 of ``[A-Za-z0-9_:.-]``, else raise ``ValueError``."""
    if not isinstance(name, str):
        raise TypeError(f"permission name must be a str, not {type(name).__name__}")
    if _PERMISSION_RE.fullmatch(name) is None:
        raise ValueError(
            f"invalid permission name {name!r}: use 1-{MAX_PERMISSION_LENGTH} characters "
            "from A-Z a-z 0-9 _ : . -"
        )
    return name
