"""The message format on the wire, and the channel every process of one database shares.

A message is compact JSON ``{"o": origin, "k": kind, "i": [ids]}``: the sender's random id
(so it skips its own echo), the revocation verb and the ids. An event with many ids is split
into several messages, each under PostgreSQL's NOTIFY limit (8,000 bytes).
"""

from __future__ import annotations

import hashlib
import json
from typing import cast, get_args

from sqlalchemy.engine import make_url

from ..db.engine import normalise_url
from ..revocation import Kind, RevocationEvent
from ..settings import Settings

#: Bytes a message may take (NOTIFY refuses 8,000 and more).
MAX_MESSAGE = 7_000
_KINDS = frozenset(get_args(Kind)) - {"reconnected"}


def channel_for(settings: Settings) -> str:
    """``authtuna_rev_<hash>``: the same for every process on one database and schema (the
    file, for SQLite), different for another one; valid as a NOTIFY channel and Redis key."""
    url = make_url(normalise_url(settings.default_database_uri.reveal()))
    where = f"{url.get_backend_name()}/{url.database or ''}/{settings.database_schema or ''}"
    return "authtuna_rev_" + hashlib.sha256(where.encode()).hexdigest()[:20]


def encode(event: RevocationEvent, origin: str) -> list[str]:
    """One or more messages carrying ``event`` (one for an event without ids)."""
    messages: list[str] = []
    batch: list[str] = []
    size = 0
    for item in event.ids:
        cost = len(json.dumps(item)) + 1
        if batch and size + cost > MAX_MESSAGE - 100:
            messages.append(_message(origin, event.kind, batch))
            batch, size = [], 0
        batch.append(item)
        size += cost
    if batch or not messages:
        messages.append(_message(origin, event.kind, batch))
    return messages


def decode(message: str | bytes) -> tuple[str, RevocationEvent] | None:
    """``(origin, event)``, or None for anything that is not a well-formed message."""
    try:
        data = json.loads(message)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    origin, kind, ids = data.get("o"), data.get("k"), data.get("i")
    if (not isinstance(origin, str) or kind not in _KINDS or not isinstance(ids, list)
            or not all(isinstance(i, str) for i in ids)):
        return None
    return origin, RevocationEvent(cast(Kind, kind), tuple(ids), remote=True)


def _message(origin: str, kind: str, ids: list[str]) -> str:
    return json.dumps({"o": origin, "k": kind, "i": ids}, separators=(",", ":"))
