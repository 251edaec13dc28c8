"""Admin pages that show users: the list (search, filters, keyset pages) and one user's record.

Each page has a JSON twin under upstream's path: ``/users/search``, ``/users/<id>/details-data``,
``/users/<id>/assignable-roles``, ``/users/<id>/audit-log``.
"""

from __future__ import annotations

from typing import Any

from quart import request
from quart.typing import ResponseReturnValue

from ....core.admin_queries import SORTS, UserPage, UserQuery, UserRecord
from ....core.audit_queries import AuditQuery
from ....core.db.models import ApiKey, User, UserSession
from ....core.errors import AuthTunaError
from ....core.rbac.assignment import MANAGE_ROLES, MANAGE_USERS
from ....decorators import permission_required
from ...journey import service
from ...request_state import request_state
from ...respond import json_response, render_page, wants_json
from .area import admin
from .audit import audit_event_json
from .user_actions import assign_form, notice_for, scope_arg

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _flag(name: str) -> bool | None:
    value = request.args.get(name, "").strip().lower()
    return True if value in _TRUE else False if value in _FALSE else None


def _int(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


def user_query() -> UserQuery:
    """The search from the query string (upstream's ``identity`` is an alias of ``q``)."""
    args = request.args
    return UserQuery(
        q=(args.get("q") or args.get("identity") or "")[:320], role=args.get("role") or None,
        scope=args.get("scope") or None, is_active=_flag("is_active"),
        verified=_flag("verified"), mfa=_flag("mfa"), sort=args.get("sort") or "newest",
        limit=_int("limit", 25), cursor=args.get("cursor") or None, skip=_int("skip", 0))


def user_json(user: User, roles: Any = ()) -> dict[str, Any]:
    """A user as the admin API shows them (never a secret)."""
    return {"id": user.id, "username": user.username, "email": user.email,
            "first_name": user.first_name, "last_name": user.last_name,
            "is_active": user.is_active, "email_verified": user.email_verified,
            "mfa_enabled": user.mfa_enabled, "created_at": user.created_at,
            "last_login": user.last_login,
            "roles": [{"role_name": name, "scope": scope} for name, scope in roles]}


def session_json(row: UserSession) -> dict[str, Any]:
    return {"session_id": row.session_id, "device": row.device, "region": row.region,
            "ip_address": row.last_ip, "created_at": row.ctime, "last_active": row.mtime,
            "method": row.auth_method}


def key_json(row: ApiKey) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "key_type": row.key_type,
            "created_at": row.created_at, "last_used_at": row.last_used_at,
            "expires_at": row.expires_at}


def _page_json(page: UserPage) -> ResponseReturnValue:
    return json_response(200, data=[user_json(r.user, r.roles) for r in page.rows],
                         next_cursor=page.next_cursor)


@admin.get("/users")
@permission_required(MANAGE_USERS)
async def users() -> ResponseReturnValue:
    """Search and filter users; a page of results with a link to the next one."""
    query, error = user_query(), None
    try:
        page = await service().admin_queries.search_users(query)
    except AuthTunaError as exc:
        if wants_json():
            raise
        page, error = UserPage([], None), exc.message
    if wants_json():
        return _page_json(page)
    roles = [role.name for role in await service().roles.list()]
    return await render_page("admin/users.html", 400 if error else 200, page=page,
                             query=query, roles=roles, sorts=list(SORTS), error=error,
                             args=request.args, notice=notice_for(request.args.get("done")),
                             pii_mode=service().settings.pii_encryption_enabled)


@admin.get("/users/search")
@permission_required(MANAGE_USERS)
async def users_search() -> ResponseReturnValue:
    """Upstream's JSON search: ``identity, role, scope, is_active, skip, limit`` (+ cursor)."""
    return _page_json(await service().admin_queries.search_users(user_query()))


def _record_json(record: UserRecord, can_assign: bool) -> dict[str, Any]:
    data = user_json(record.user)
    data["roles"] = [{"role_name": r.name, "scope": r.scope, "level": r.level,
                      "given_by": r.given_by, "given_at": r.given_at} for r in record.roles]
    data["sessions"] = [session_json(s) for s in record.sessions]
    data["api_keys"] = [key_json(k) for k in record.api_keys]
    data["can_assign"] = can_assign
    return data


@admin.get("/users/<user_id>")
@permission_required(MANAGE_USERS)
async def user_detail(user_id: str) -> ResponseReturnValue:
    """One user: profile, flags, roles by scope, sessions, API keys, actions, latest events."""
    svc, actor = service(), request_state().signed_in_user()
    record = await svc.admin_queries.user_record(user_id)
    flows = svc.flows.admin_users
    may_act = await flows.may_act_on(actor, user_id)
    may_assign = await flows.may_act_on(actor, user_id, MANAGE_ROLES)
    if wants_json():
        return json_response(200, data=_record_json(record, may_assign))
    scope = scope_arg()
    assignable = (await svc.roles.get_assignable_roles_for_user(actor, scope)
                  if may_assign and scope else [])
    names = await svc.audit_queries.names(record.recent_events)
    return await render_page(
        "admin/user_detail.html", record=record, names=names, may_act=may_act,
        may_assign=may_assign,
        assignable=assignable, assign_form=assign_form(user_id, scope), scope=scope,
        notice=notice_for(request.args.get("done")),
        scope_error=None if scope else "That scope is not valid.")


@admin.get("/users/<user_id>/details-data")
@permission_required(MANAGE_USERS)
async def user_details_data(user_id: str) -> ResponseReturnValue:
    """Upstream's JSON: id, email, flags, roles with scopes, ``can_assign`` (+ sessions, keys)."""
    actor = request_state().signed_in_user()
    record = await service().admin_queries.user_record(user_id)
    may_assign = await service().flows.admin_users.may_act_on(actor, user_id, MANAGE_ROLES)
    return json_response(200, data=_record_json(record, may_assign))


@admin.get("/users/<user_id>/assignable-roles")
@permission_required(MANAGE_ROLES)
async def assignable_roles(user_id: str) -> ResponseReturnValue:
    """Role names this admin may give this user at ``?scope=`` (global by default)."""
    actor, svc = request_state().signed_in_user(), service()
    scope = scope_arg()
    if not scope:
        return json_response(400, errors=[{"code": "invalid_scope", "param": "scope",
                                           "message": "That scope is not valid."}])
    await svc.admin_queries.user_record(user_id, events=0)  # 404 for an unknown user
    names = (await svc.roles.get_assignable_roles_for_user(actor, scope)
             if await svc.flows.admin_users.may_act_on(actor, user_id, MANAGE_ROLES) else [])
    return json_response(200, data=names, scope=scope)


@admin.get("/users/<user_id>/audit-log")
@permission_required(MANAGE_USERS)
async def user_audit_log(user_id: str) -> ResponseReturnValue:
    """The user's audit events, newest first, by keyset (``?cursor``; upstream's
    ``?skip&limit`` still answer JSON, by offset)."""
    svc, limit, cursor = service(), _int("limit", 50), request.args.get("cursor") or None
    if "skip" in request.args and not cursor and wants_json():
        skip = max(_int("skip", 0), 0)
        events = await svc.admin_queries.user_events(user_id, skip, max(1, min(limit, 500)))
        names = await svc.audit_queries.names(events)
        return json_response(200, data=[audit_event_json(e, names) for e in events],
                             next_cursor=None, prev_cursor=None)
    record = await svc.admin_queries.user_record(user_id, events=0)  # 404 for an unknown id
    page = await svc.audit_queries.page(AuditQuery(user_id=user_id, limit=limit, cursor=cursor))
    if wants_json():
        return json_response(200, data=[audit_event_json(e, page.names) for e in page.rows],
                             next_cursor=page.next_cursor, prev_cursor=page.prev_cursor)
    return await render_page("admin/user_audit_log.html", record=record, page=page,
                             limit=request.args.get("limit"))
