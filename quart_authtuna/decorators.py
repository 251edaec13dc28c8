"""Route guards: login_required, fresh_login_required, permission_required, role_required."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Literal, ParamSpec, TypeVar

from quart import request

from .core.rbac.scopes import fill_scope_template, template_fields, validate_scope
from .core.rbac.scopes import scope_from_path as _derive_scope
from .globals import ApiKeyUser, AuthenticatedUser, _find_user
from .web import current
from .web.errors import Forbidden, Unauthorized
from .web.request_state import request_state

P = ParamSpec("P")
R = TypeVar("R")
View = Callable[P, Awaitable[R]]
#: ``"AND"``: every name is needed; ``"OR"``: any one (case-insensitive).
Mode = Literal["AND", "OR", "and", "or"]


async def require_user(*, allow_publishable: bool = False) -> AuthenticatedUser:
    """The signed-in user with grants loaded (from the cache when fresh), or Unauthorized.

    A publishable (``pk``) API key is refused with Forbidden unless ``allow_publishable``;
    only code can opt in, never a request parameter.
    """
    user = _find_user()
    if not isinstance(user, AuthenticatedUser):
        if request_state().invalid_api_key:
            raise Unauthorized("Invalid or expired API key.", code_name="invalid_api_key")
        raise Unauthorized()
    if isinstance(user, ApiKeyUser) and user.is_publishable and not allow_publishable:
        raise Forbidden("Publishable keys cannot be used here.",
                        code_name="publishable_key_refused")
    if user._grants is None:
        user._grants = await current.service().rbac.grants_for(user.id)
    return user


def login_required(view: View[P, R] | None = None, *, allow_publishable: bool = False) -> Any:
    """Only signed-in users reach ``view``; ``@login_required(allow_publishable=True)`` also
    admits publishable API keys."""

    def decorate(inner: View[P, R]) -> View[P, R]:
        @functools.wraps(inner)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            await require_user(allow_publishable=allow_publishable)
            return await inner(*args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def fresh_login_required(view: View[P, R] | None = None, *,
                         within: timedelta | float | None = None) -> Any:
    """Only users who signed in (or re-authenticated) within ``within`` reach ``view``;
    without ``within``, the window is REAUTHENTICATION_SECONDS."""
    fixed = within.total_seconds() if isinstance(within, timedelta) else within

    def decorate(inner: View[P, R]) -> View[P, R]:
        @functools.wraps(inner)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            user = await require_user()
            service = current.service()
            seconds = service.settings.reauthentication_seconds if fixed is None else fixed
            if service.now() - user.authenticated_at > float(seconds):
                raise Unauthorized("Please confirm it's you to continue.",
                                   code_name="reauthentication_required")
            return await inner(*args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def _path_scope(param: str, prefix: str | None, values: dict[str, Any]) -> str:
    """Upstream's derivation: ``scope_from_path="project_id"`` gives ``project:<value>``."""
    value = values.get(param)
    if value is None:
        raise RuntimeError(f"route has no path parameter {param!r}")
    try:
        return _derive_scope(param, str(value), prefix)
    except ValueError as exc:
        raise Forbidden("That resource scope is not valid.") from exc


def _template_scope(template: str, values: dict[str, Any]) -> str:
    """``scope="org:{org_id}/team:{team_id}"`` filled from the route's path parameters."""
    try:
        return fill_scope_template(template, values)
    except KeyError as exc:
        raise RuntimeError(f"route has no path parameter {exc.args[0]!r}") from None
    except ValueError as exc:
        raise Forbidden("That resource scope is not valid.") from exc


def _guard(check: Callable[[AuthenticatedUser, str], bool], scope: str | None,
           scope_prefix: str | None, scope_from_path: str | None, message: str,
           allow_publishable: bool = False) -> Callable[[View[P, R]], View[P, R]]:
    """An API key is checked against the key's grants (its roles intersected with the user's).

    A fixed scope is validated once, here; a path scope, or a template such as
    ``org:{org_id}/team:{team_id}``, is filled from the view's arguments on each request."""
    given = scope_prefix or scope or "global"
    template = given if not scope_from_path and "{" in given else None
    if template is not None:
        template_fields(template)  # a malformed template fails at import, not per request
    fixed = None if scope_from_path or template else validate_scope(given)

    def decorate(view: View[P, R]) -> View[P, R]:
        @functools.wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            user = await require_user(allow_publishable=allow_publishable)
            at = fixed
            if template is not None:
                at = _template_scope(template, {**(request.view_args or {}), **kwargs})
            elif at is None:
                values = kwargs if scope_from_path in kwargs else request.view_args or {}
                at = _path_scope(scope_from_path or "", scope_prefix, values)
            if not check(user, at):
                raise Forbidden(message)
            return await view(*args, **kwargs)

        return wrapper

    return decorate


def permission_required(*permissions: str, mode: Mode = "AND", scope: str | None = None,
                        scope_prefix: str | None = None, scope_from_path: str | None = None,
                        allow_publishable: bool = False) -> Callable[[View[P, R]], View[P, R]]:
    """Require permissions at a scope (``global`` unless given or derived from the path).

    ``scope`` may be a template filled from the route's path parameters, each validated
    like ``scope_from_path``: ``scope="org:{org_id}/team:{team_id}"`` guards
    ``/orgs/<org_id>/teams/<team_id>/...``, and roles held on ``org:<org_id>`` apply there.
    """
    _check_mode(mode, permissions)
    needed = "all of" if mode.upper() == "AND" else "one of"
    combine = _upper(mode)

    def check(user: AuthenticatedUser, at: str) -> bool:
        return user.grants.has_permissions(permissions, at, combine)

    def check_one(user: AuthenticatedUser, at: str) -> bool:
        return user.grants.has_permission(only, at)

    only = permissions[0]
    return _guard(check_one if len(permissions) == 1 else check, scope, scope_prefix,
                  scope_from_path, f"Missing permission ({needed}: {', '.join(permissions)}).",
                  allow_publishable)


def role_required(*roles: str, mode: Mode = "OR", scope: str | None = None,
                  scope_prefix: str | None = None, scope_from_path: str | None = None,
                  allow_publishable: bool = False) -> Callable[[View[P, R]], View[P, R]]:
    """Require roles held at (or above) a scope; any one of them by default."""
    _check_mode(mode, roles)
    combine = _upper(mode)

    def check(user: AuthenticatedUser, at: str) -> bool:
        return user.grants.has_roles(roles, at, combine)

    return _guard(check, scope, scope_prefix, scope_from_path,
                  f"This page needs the role {' or '.join(roles)}.", allow_publishable)


def _check_mode(mode: str, names: tuple[str, ...]) -> None:
    if mode.upper() not in ("AND", "OR") or not names:
        raise ValueError("give at least one name and mode='AND' or 'OR'")


def _upper(mode: str) -> Literal["AND", "OR"]:
    return "AND" if mode.upper() == "AND" else "OR"
