"""Why a permission check allows or denies, in words a support person can act on.

:func:`explain` builds the user's :class:`.Grants` from the same rows the real check loads
and asks :meth:`.Grants.granting_scope`, the walk behind ``has_permission``, so its answer
is the check's answer by construction; the rest only describes that walk. A suspended
account is refused before any permission is looked at (its sessions and API keys no longer
work), and the checker has no wildcards: a permission is held by its exact name only.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Literal

from .grants import GrantRow, Grants
from .scopes import GLOBAL, ancestors

#: ``granted``; or why not: ``user_not_found``, ``suspended``, ``unknown_permission``,
#: ``held_elsewhere`` (a role carries it, but at a scope that does not cover the one asked
#: about) or ``no_role`` (none of the user's roles carries it).
Reason = Literal["granted", "user_not_found", "suspended", "unknown_permission",
                 "held_elsewhere", "no_role"]


@dataclass(frozen=True, slots=True)
class Subject:
    """The account asked about."""

    id: str
    username: str
    is_active: bool


@dataclass(frozen=True, slots=True)
class RoleAt:
    """A role the user holds at a scope: does it apply here, does it carry the permission?"""

    role: str
    scope: str
    covers: bool
    carries: bool


@dataclass(frozen=True, slots=True)
class Explanation:
    """The answer and everything the check looked at, most specific scope first."""

    asked_user: str
    permission: str
    scope: str
    allowed: bool
    reason: Reason
    user: Subject | None
    #: The scopes the check walks: the one asked about, each scope above it, then global.
    consulted: tuple[str, ...]
    #: Where the walk found the permission (also for a suspended account), or None.
    matched_scope: str | None
    roles: tuple[RoleAt, ...]
    #: Roles carrying the permission at a consulted scope, in the order the walk meets them.
    granted_by: tuple[RoleAt, ...]
    #: Roles carrying the permission at scopes that do not cover this one.
    held_elsewhere: tuple[RoleAt, ...]
    #: Every role (of anyone) that carries the permission: what an admin could give.
    carrier_roles: tuple[str, ...]
    #: Existing permission names close to an unknown one.
    suggestions: tuple[str, ...]

    @property
    def summary(self) -> str:
        """Why, in one or two sentences (the answer itself is :attr:`allowed`)."""
        return _SUMMARIES[self.reason](self)

    @property
    def next_step(self) -> str | None:
        """What an admin could do about a denial, if anything."""
        return _next_step(self)


def explain(asked_user: str, permission: str, scope: str, user: Subject | None,
            rows: Iterable[GrantRow], known_permissions: Collection[str],
            carrier_roles: Iterable[str] = ()) -> Explanation:
    """Explain ``permission`` at ``scope`` for ``user`` holding ``rows``.

    Arguments:
        asked_user: what the admin typed (shown when no account matches).
        permission: the permission name asked about.
        scope: the scope asked about; a malformed one raises ``ValueError``.
        user: the account, or None when none matched (``rows`` are then ignored).
        rows: the user's grant rows, as the real check loads them.
        known_permissions: every permission name that exists.
        carrier_roles: names of every role that carries ``permission``.
    """
    consulted = ancestors(scope)
    rows = tuple(rows) if user is not None else ()
    matched = Grants.from_rows(rows).granting_scope(permission, scope)
    carrying = {(role, s) for role, s, _, p in rows if p == permission}
    order = {s: i for i, s in enumerate(consulted)}
    roles = tuple(RoleAt(r, s, s in order, (r, s) in carrying)
                  for r, s in sorted({(r, s) for r, s, _, _ in rows},
                                     key=lambda rs: (order.get(rs[1], len(order)), rs)))
    granted_by = tuple(x for x in roles if x.carries and x.covers)
    elsewhere = tuple(x for x in roles if x.carries and not x.covers)
    known = permission in known_permissions
    reason: Reason
    if user is None:
        reason = "user_not_found"
    elif not user.is_active:
        reason = "suspended"
    elif matched is not None:
        reason = "granted"
    elif not known:
        reason = "unknown_permission"
    else:
        reason = "held_elsewhere" if elsewhere else "no_role"
    suggestions = () if known else tuple(
        difflib.get_close_matches(permission, sorted(known_permissions), n=3, cutoff=0.6))
    return Explanation(asked_user, permission, scope, reason == "granted", reason, user,
                       consulted, matched, roles, granted_by, elsewhere,
                       tuple(sorted(set(carrier_roles))), suggestions)


def scope_words(scope: str) -> str:
    """``global`` reads "global (everywhere)"; any other scope is itself."""
    return "global (everywhere)" if scope == GLOBAL else scope


def _name(e: Explanation) -> str:
    return e.user.username if e.user is not None else e.asked_user


def _granted(e: Explanation) -> str:
    first = e.granted_by[0]
    return (f"{_name(e)} holds {first.role} at {scope_words(first.scope)}, which "
            f"carries {e.permission} and applies at {e.scope}.")


def _suspended(e: Explanation) -> str:
    tail = ("Their roles would otherwise allow it." if e.matched_scope is not None
            else "Their roles would not allow it either.")
    return (f"{_name(e)}'s account is suspended, so every request of theirs is "
            f"refused. {tail}")


def _unknown(e: Explanation) -> str:
    hint = f" Did you mean {' or '.join(e.suggestions)}?" if e.suggestions else ""
    return f"No permission is called {e.permission}.{hint}"


def _elsewhere(e: Explanation) -> str:
    where = ", ".join(f"{x.role} at {x.scope}" for x in e.held_elsewhere)
    return (f"{_name(e)} has {e.permission} only through {where}, and that scope is "
            f"neither {e.scope} nor a scope above it.")


def _not_found(e: Explanation) -> str:
    return f"No account matches {e.asked_user}."


def _no_role(e: Explanation) -> str:
    return f"None of {_name(e)}'s roles carries {e.permission}."


_SUMMARIES: dict[str, Callable[[Explanation], str]] = {
    "granted": _granted, "user_not_found": _not_found, "suspended": _suspended,
    "unknown_permission": _unknown, "held_elsewhere": _elsewhere, "no_role": _no_role,
}


def _next_step(e: Explanation) -> str | None:
    if e.reason in ("granted", "user_not_found", "unknown_permission"):
        return None
    if e.reason == "suspended":
        return "Unsuspend the account on the user's page if the suspension was a mistake."
    if not e.carrier_roles:
        return f"No role carries {e.permission} yet: add it to a role first."
    return (f"To allow it, give {_name(e)} one of these roles at {e.scope} or a scope above "
            f"it: {', '.join(e.carrier_roles)}.")
