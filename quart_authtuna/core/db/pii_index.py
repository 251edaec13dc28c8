"""The column type of ``users.email_canonical``: in PII mode every bound value is HMAC-ed.

The engine's dialect carries the :class:`~..crypto.pii.PiiCipher` (see
:func:`.pii_events.attach`), so inserts, updates and ``==`` lookups by a canonical email all
store and compare the keyed index without the callers knowing. A ``LIKE`` pattern is
HMAC-ed too, so prefix search finds nothing in PII mode: only exact addresses match.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

#: The attribute of an engine's dialect holding its PII cipher.
PII_ATTRIBUTE = "authtuna_pii"


class _Indexer(Protocol):
    enabled: bool

    def index(self, canonical: str) -> str: ...


def cipher_of(dialect: Dialect) -> Any:
    """The PII cipher attached to this engine, or None."""
    return getattr(dialect, PII_ATTRIBUTE, None)


class EmailIndex(TypeDecorator[str]):
    """A ``String`` that stores ``HMAC(PII_HMAC_KEY, value)`` when PII mode is on."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        cipher: _Indexer | None = cipher_of(dialect)
        if value is None or cipher is None or not cipher.enabled:
            return value
        return cipher.index(value)
