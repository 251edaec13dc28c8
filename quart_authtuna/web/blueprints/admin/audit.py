"""The admin audit log: every event, filtered, in keyset pages both ways, and its exports.

``/audit`` is the page (its JSON twin on the same path); ``/audit/export.csv`` and
``/audit/export.json`` stream every matching event in batches, as attachments.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from quart import Response, request
from quart.typing import ResponseReturnValue

from ....core.audit_queries import KNOWN_EVENT_TYPES, AuditPage, AuditQuery
from ....core.db.models import AuditEvent
from ....core.errors import AuthTunaError
from ....core.rbac.assignment import MANAGE_USERS
from ....decorators import permission_required
from ...journey import meta, service
from ...request_state import request_state
from ...respond import json_response, render_page, wants_json
from .area import admin

#: The query-string keys of the filters (export links carry them; the cursor is not one).
FILTERS: Final = ("event_type", "user", "ip", "date_from", "date_to")
_CSV_COLUMNS: Final = ("id", "time_utc", "event_type", "user_id", "username", "actor_id",
                       "actor", "ip_address", "details")
#: A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def audit_query() -> AuditQuery:
    """The filters, page size and cursor from the query string."""
    args = request.args
    try:
        limit = int(args.get("limit", 50))
    except ValueError:
        limit = 50
    return AuditQuery(**{name: args.get(name, "")[:320] for name in FILTERS},
                      limit=limit, cursor=args.get("cursor") or None)


def audit_event_json(event: AuditEvent, names: Mapping[str, str]) -> dict[str, Any]:
    """An event with the usernames of its user and actor (None when gone or unknown)."""
    return {"id": event.id, "event_type": event.event_type, "timestamp": event.timestamp,
            "user_id": event.user_id, "username": names.get(event.user_id or ""),
            "actor_id": event.actor_id, "actor": names.get(event.actor_id or ""),
            "ip_address": event.ip_address, "details": event.details}


def filter_args() -> dict[str, str]:
    """The filters in use, to carry into page and export links."""
    return {k: v for k in FILTERS if (v := request.args.get(k, "").strip())}


@admin.get("/audit")
@permission_required(MANAGE_USERS)
async def audit_log() -> ResponseReturnValue:
    """Every audit event, newest first, filtered; Previous and Next by keyset."""
    query, error = audit_query(), None
    try:
        page = await service().audit_queries.page(query)
    except AuthTunaError as exc:
        if wants_json():
            raise
        page, error = AuditPage([]), exc.message
    if wants_json():
        return json_response(200, data=[audit_event_json(e, page.names) for e in page.rows],
                             next_cursor=page.next_cursor, prev_cursor=page.prev_cursor)
    return await render_page("admin/audit.html", 400 if error else 200, page=page,
                             query=query, event_types=KNOWN_EVENT_TYPES, error=error,
                             filters=filter_args(), limit=request.args.get("limit"))


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _csv_rows(page: AuditPage) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for e in page.rows:
        row = audit_event_json(e, page.names)
        writer.writerow([_cell(v) for v in (
            e.id, datetime.fromtimestamp(e.timestamp, UTC).isoformat(), e.event_type,
            e.user_id, row["username"], e.actor_id, row["actor"], e.ip_address,
            json.dumps(e.details or {}, sort_keys=True, default=str))])
    return out.getvalue()


async def _csv(pages: AsyncIterator[AuditPage]) -> AsyncIterator[bytes]:
    yield (",".join(_CSV_COLUMNS) + "\r\n").encode()
    async for page in pages:
        yield _csv_rows(page).encode()


async def _json(pages: AsyncIterator[AuditPage]) -> AsyncIterator[bytes]:
    yield b"["
    first = True
    async for page in pages:
        for e in page.rows:
            item = json.dumps(audit_event_json(e, page.names), default=str)
            yield (item if first else "," + item).encode()
            first = False
    yield b"]"


async def _export(kind: str, mimetype: str, body: Callable[[AsyncIterator[AuditPage]],
                                                           AsyncIterator[bytes]]) -> Response:
    """Record the export, then stream ``body`` as an attachment (a bad filter: 400 first)."""
    svc = service()
    pages = await svc.audit_queries.export(audit_query(), request_state().signed_in_user(),
                                           meta(), kind)
    day = datetime.fromtimestamp(svc.now(), UTC).date().isoformat()
    response = Response(body(pages), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{day}.{kind}"'
    return response


@admin.get("/audit/export.csv")
@permission_required(MANAGE_USERS)
async def audit_export_csv() -> ResponseReturnValue:
    """The filtered events as CSV (formulas neutralised), streamed in keyset batches."""
    return await _export("csv", "text/csv", _csv)


@admin.get("/audit/export.json")
@permission_required(MANAGE_USERS)
async def audit_export_json() -> ResponseReturnValue:
    """The filtered events as one JSON array, streamed in keyset batches."""
    return await _export("json", "application/json", _json)
