"""Which broadcaster carries revocations: ``AUTHTUNA_REVOCATION_BROADCASTER``.

``auto`` (the default) picks Redis when ``AUTHTUNA_REDIS_URL`` is set, else PostgreSQL
LISTEN/NOTIFY when the database is PostgreSQL, else this process only (SQLite serves one
machine; its processes learn of a revocation at the next verification).
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from ..db.engine import normalise_url
from ..revocation import Broadcaster, InProcessBroadcaster
from ..settings import Settings


def broadcaster_kind(settings: Settings) -> str:
    """``local``, ``postgres`` or ``redis``, resolving ``auto``."""
    chosen = settings.revocation_broadcaster.lower()
    if chosen != "auto":
        return chosen
    if settings.redis_url is not None:
        return "redis"
    url = make_url(normalise_url(settings.default_database_uri.reveal()))
    return "postgres" if url.get_backend_name() == "postgresql" else "local"


def make_broadcaster(settings: Settings) -> Broadcaster:
    """The broadcaster ``settings`` ask for (not started: ``AuthService.start`` does it)."""
    kind = broadcaster_kind(settings)
    if kind == "postgres":
        from .postgres_notify import PostgresBroadcaster

        return PostgresBroadcaster(settings)
    if kind == "redis":
        from .redis_pubsub import RedisBroadcaster

        return RedisBroadcaster(settings)
    return InProcessBroadcaster()
