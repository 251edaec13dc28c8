"""The one thing the small core primitives need from the service: a unit of work."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class UnitOfWork(Protocol):
    """Anything with ``transaction(session=None)``, e.g. ``AuthService``.

    ``transaction()`` opens, commits and closes its own session; ``transaction(tx)`` joins
    ``tx`` and leaves committing to its owner.
    """

    def transaction(self, session: AsyncSession | None = None
                    ) -> AbstractAsyncContextManager[AsyncSession]: ...
