"""Counting the SQL statements an engine sends, to pin down per-request database cost."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

#: Statements that only frame a transaction (SQLite's ``BEGIN IMMEDIATE`` goes through the
#: cursor; asyncpg and the DBAPI ``commit()`` do not, so they never show up here).
_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|END)\b", re.IGNORECASE)


@dataclass
class QueryLog:
    """Every statement sent while the counter was active, in order."""

    statements: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """All statements, transaction control included."""
        return len(self.statements)

    @property
    def data(self) -> list[str]:
        """Statements that read or write data (no BEGIN/COMMIT/ROLLBACK/SAVEPOINT)."""
        return [s for s in self.statements if not _CONTROL.match(s)]

    @property
    def control(self) -> list[str]:
        return [s for s in self.statements if _CONTROL.match(s)]

    def kinds(self) -> list[str]:
        """The first keyword of each data statement (``SELECT``, ``UPDATE``, …)."""
        return [s.split(None, 1)[0].upper() for s in self.data]

    def clear(self) -> None:
        self.statements.clear()

    def __repr__(self) -> str:
        shown = "\n  ".join(" ".join(s.split())[:160] for s in self.statements)
        return f"<QueryLog {self.total} statement(s):\n  {shown}>"


@contextmanager
def count_queries(engine: AsyncEngine) -> Iterator[QueryLog]:
    """Record every statement ``engine`` executes inside the ``with`` block.

    >>> with count_queries(svc.engine) as log:
    ...     await client.get("/protected")
    >>> assert log.data == []
    """
    log = QueryLog()

    def before_cursor_execute(_conn: Any, _cursor: Any, statement: str, _params: Any,
                              _context: Any, _executemany: bool) -> None:
        log.statements.append(statement)

    target = engine.sync_engine
    event.listen(target, "before_cursor_execute", before_cursor_execute)
    try:
        yield log
    finally:
        event.remove(target, "before_cursor_execute", before_cursor_execute)


@contextmanager
def recorded_statements(service: Any) -> Iterator[list[str]]:
    """Every SQL statement a service's engine sends while the block runs, as a plain list."""
    with count_queries(service.engine) as log:
        yield log.statements


async def page_costs(client: Any, engine: AsyncEngine, path: str) -> tuple[int, int]:
    """Data statements of one GET of ``path`` as JSON, then as a page (after a first GET
    that reloads whatever a change dropped from the caches, such as the session's grants)."""
    json_headers = {"Accept": "application/json"}
    await client.get(path, headers=json_headers)
    with count_queries(engine) as json_log:
        assert (await client.get(path, headers=json_headers)).status_code == 200
    with count_queries(engine) as page_log:
        assert (await client.get(path)).status_code == 200
    return len(json_log.data), len(page_log.data)
