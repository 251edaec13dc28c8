"""PostgreSQL LISTEN/NOTIFY: no server beyond the database itself.

A revocation is sent by the transaction that makes it (``SELECT pg_notify`` as its last
statement): PostgreSQL delivers it to every listening session at the commit, and never for
a transaction that rolls back, so no process can miss it because *this* process's
connection was down. One asyncpg connection, outside the engine's pool, LISTENs on the
channel (and sends what is published outside a transaction). PostgreSQL delivers a
notification only to sessions listening at that moment and keeps nothing; the base class
makes up for a lost listening connection on reconnection.
"""

from __future__ import annotations

from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Executable, func, select
from sqlalchemy.engine import make_url

from ..db.engine import normalise_url
from ..revocation import RevocationEvent
from ..settings import Settings
from .listening import ListeningBroadcaster
from .wire import channel_for, encode

CONNECT_TIMEOUT = 5.0


def connect_arguments(settings: Settings) -> dict[str, Any]:
    """``asyncpg.connect`` keywords for the configured database (``ssl`` kept from the URL)."""
    url = make_url(normalise_url(settings.default_database_uri.reveal()))
    found: dict[str, Any] = {"host": url.host, "port": url.port, "user": url.username,
                             "password": url.password, "database": url.database,
                             "timeout": CONNECT_TIMEOUT}
    if "ssl" in url.query:
        found["ssl"] = url.query["ssl"]
    return {k: v for k, v in found.items() if v is not None}


class PostgresBroadcaster(ListeningBroadcaster):
    """Revocations over NOTIFY on this database's channel."""

    name = "postgres"
    sends_with_commit = True
    errors = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)

    def __init__(self, settings: Settings) -> None:
        super().__init__(channel_for(settings))
        self._arguments = connect_arguments(settings)
        self._connection: Any = None

    @property
    def backend_pid(self) -> int | None:
        """The server process of the listening connection (tests terminate it)."""
        return None if self._connection is None else int(self._connection.get_server_pid())

    async def _open(self) -> None:
        connection = await asyncpg.connect(**self._arguments)
        self._connection = connection
        connection.add_termination_listener(lambda _conn: self._lost.set())
        await connection.add_listener(self.channel, self._on_notify)

    def statements(self, event: RevocationEvent) -> list[Executable]:
        return [select(func.pg_notify(self.channel, message))
                for message in encode(event, self.origin)]

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._receive(payload)

    async def _send(self, message: str) -> None:
        await self._connection.execute("SELECT pg_notify($1, $2)", self.channel, message)

    async def _ping(self) -> None:
        await self._connection.execute("SELECT 1")

    async def _shut(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()
