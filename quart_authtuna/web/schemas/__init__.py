"""Request and response schemas of every authtuna route, for the OpenAPI document.

The schemas describe; they do not validate (the WTForms forms and the core do that, and
their error envelope stays as it is). :data:`ROUTES` maps ``"METHOD endpoint"`` to an
:class:`Op`; :mod:`quart_authtuna.web.openapi` attaches them to the views with
quart-schema's ``document_*`` decorators when the app starts.

Adding a route? Add one line to the ``ROUTES`` of its area module (``auth``, ``mfa``,
``passkeys``, ``account``, ``admin``, ``admin_access``, ``audit``, ``privacy``, ``sso``,
``orgs``), one per method, for example::

    "POST authtuna_admin.role_create": answers(RoleCreated, 201, request=RoleCreateIn),
    "GET authtuna_admin.roles": answers(list[RoleOut], query=RoleQuery, page=True),
    "GET authtuna_admin.role_new": PAGE,           # a page for browsers only

with dataclasses for the body (``...In``) and for the answer's ``data`` (``answers`` wraps
it in the ``{"status", "data"}`` envelope). ``tests/integration/test_openapi.py`` lists
every route that has no entry yet, and every entry whose route is gone.
"""

from __future__ import annotations

from . import (
    account,
    admin,
    admin_access,
    admin_overview,
    admin_roles,
    audit,
    auth,
    health,
    mfa,
    orgs,
    passkeys,
    privacy,
    sso,
)
from .envelope import Failed, NoInput, Ok, Paged
from .operations import PAGE, Op, answers

#: Every authtuna route and method: ``"POST authtuna_auth.login"`` → its :class:`Op`.
ROUTES: dict[str, Op] = {**auth.ROUTES, **mfa.ROUTES, **passkeys.ROUTES, **account.ROUTES,
                         **admin.ROUTES, **admin_access.ROUTES, **admin_overview.ROUTES,
                         **admin_roles.ROUTES, **audit.ROUTES, **health.ROUTES,
                         **privacy.ROUTES, **sso.ROUTES, **orgs.ROUTES}

__all__ = ["PAGE", "ROUTES", "Failed", "NoInput", "Ok", "Op", "Paged", "answers"]
