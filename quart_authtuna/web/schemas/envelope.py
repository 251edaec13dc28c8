"""The JSON envelope every API answer shares (see :func:`..errors.envelope`), as schemas.

Success: ``{"status": 200, "data": ..., "meta"?: ...}``; failure:
``{"status": 4xx, "errors": [{"code", "message", "param"}]}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class Ok(Generic[T]):
    """A successful answer: ``data`` is what the route returns."""

    status: int
    data: T


@dataclass
class CursorMeta:
    """Where the next page starts (``null`` on the last page)."""

    next_cursor: str | None


@dataclass
class Paged(Generic[T]):
    """A page of results; pass ``meta.next_cursor`` as ``?cursor=`` for the next one."""

    status: int
    data: list[T]
    meta: CursorMeta


@dataclass
class ErrorItem:
    """One problem: a stable ``code``, a message for people, the input field (or null)."""

    code: str
    message: str
    param: str | None


@dataclass
class Failed:
    """A refused request: the HTTP status again and what was wrong.

    Codes include ``invalid`` and ``csrf_failed`` (400), ``unauthenticated`` (401),
    ``permission_denied``, ``cross_origin`` and ``api_key_refused`` (403), ``not_found`` (404),
    ``too_large`` (413), ``rate_limited`` (429) and ``unavailable`` (503).
    """

    status: int
    errors: list[ErrorItem]


@dataclass
class NoInput:
    """No fields: the request body may be an empty JSON object (browsers send the CSRF
    token as a form field)."""


#: JSON object with any keys (WebAuthn options and credentials follow the W3C shapes).
JsonObject = dict[str, Any]
