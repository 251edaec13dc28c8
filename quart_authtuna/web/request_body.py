"""The request body of an authtuna route: read within a limit, drained when refused, and
decoded strictly (JSON that cannot crash a view, no NUL characters for the database)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from quart import request
from werkzeug.exceptions import RequestEntityTooLarge, RequestTimeout

from .request_state import UNREAD, request_state

#: Largest body an authtuna route reads; auth forms and WebAuthn JSON are a few KiB.
BODY_LIMIT = 64 * 1024
#: How long a refused body is read and discarded so the client can read the answer.
DRAIN_SECONDS = 10.0
#: Drained bytes when the app sets no MAX_CONTENT_LENGTH (Quart's default is 16 MiB).
DEFAULT_DRAIN_BYTES = 16 * 1024 * 1024
#: Redirect targets are replaced by the home page when hostile (``safe_next``) and never
#: stored, so a NUL there is not refused; everywhere else it is (PostgreSQL rejects it).
REDIRECT_FIELDS = frozenset({"next"})
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyRefused(Exception):
    """The body broke a rule; ``code`` and ``message`` go into the JSON envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def has_body() -> bool:
    """True when the request may carry a body (a write, or a length or chunked encoding)."""
    return (request.method not in _NO_BODY or bool(request.content_length)
            or "chunked" in request.headers.get("Transfer-Encoding", "").lower())


async def is_api_write() -> bool:
    """A write answered as an API call: a JSON body, or no body at all (an API client's
    ``DELETE`` or ``POST`` with no Content-Type and nothing sent). Such writes carry no form
    token; the guard checks their origin instead, as for JSON (a browser's cross-site form
    always sends a Content-Type, and a cross-site fetch always sends Origin). The body was
    already received within the limit by the guard, so reading it here is free."""
    if request.method in _NO_BODY:
        return False
    if request.is_json:
        return True
    if request.mimetype:
        return False
    return not await request.get_data(cache=True)


async def read_within(limit: int = BODY_LIMIT) -> bool:
    """Receive the whole body if it fits in ``limit`` bytes, keeping it for the view.

    Returns False (after draining what the client sends, see :func:`drain`) when it does not;
    the caller answers 413. Nothing but the current chunk is held while draining.
    """
    request.max_form_memory_size = limit
    announced = request.content_length
    if announced is not None and announced > limit:
        return await drain(announced)
    received = bytearray()
    try:
        async with asyncio.timeout(request.body_timeout):
            async for chunk in request.body:
                received += chunk
                if len(received) > limit:
                    return await drain()
    except RequestEntityTooLarge:  # over the app's MAX_CONTENT_LENGTH: Quart stopped reading
        request_state().close_connection = True
        return False
    except TimeoutError as exc:
        raise RequestTimeout() from exc
    kept = request.body_class(None, None)
    kept.set_result(bytes(received))
    request.body = kept  # the view reads it as usual (``await request.form``, ``get_data``)
    return True


async def drain(announced: int | None = None) -> bool:
    """Read and discard the rest of a refused body, so the client is not reset mid-upload
    and reads the 4xx. Bounded by the app's MAX_CONTENT_LENGTH and :data:`DRAIN_SECONDS`;
    past either bound ``close_connection`` asks for ``Connection: close``. Returns False."""
    budget = request.max_content_length or DEFAULT_DRAIN_BYTES
    if announced is not None and announced > budget:
        request_state().close_connection = True
        return False
    seen = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            async for chunk in request.body:
                seen += len(chunk)
                if seen > budget:
                    break
            else:
                return False
    except (TimeoutError, RequestEntityTooLarge):
        pass
    request_state().close_connection = True
    return False


async def json_object() -> dict[str, Any]:
    """The JSON body when it is an object, else ``{}``; never raises for bad input."""
    try:
        value = await parsed_json()
    except BodyRefused:
        return {}
    return value if isinstance(value, dict) else {}


async def parsed_json() -> Any:
    """The JSON body, decoded strictly once per request (None without a JSON body).

    Raises BodyRefused for invalid UTF-8, syntax errors, nesting too deep for the parser,
    NaN/Infinity, integers too long to convert, lone surrogates and NUL characters.
    """
    state = request_state()
    if state.json_body is not UNREAD:
        return state.json_body
    value = None
    if request.is_json:
        raw = await request.get_data(cache=True)
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            value = json.loads(text, parse_constant=_refuse_constant)
            _check_strings(value)
        except (ValueError, RecursionError) as exc:
            raise BodyRefused(400, "invalid_json", "The request body is not valid JSON.") from exc
    state.json_body = value
    return value


async def check_form() -> None:
    """Raise BodyRefused when a submitted form field holds a NUL character."""
    form = await request.form
    if any("\x00" in key or ("\x00" in value and key not in REDIRECT_FIELDS)
           for key, value in form.items(multi=True)):
        raise BodyRefused(400, "invalid_characters", "The form holds characters we cannot use.")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _check_strings(value: Any) -> None:
    """Every key and string must encode as UTF-8 and hold no NUL (iterative: no recursion)."""
    pending: list[tuple[Any, bool]] = [(value, False)]
    while pending:
        item, nul_allowed = pending.pop()
        if isinstance(item, dict):
            pending.extend((k, False) for k in item)
            pending.extend((v, k in REDIRECT_FIELDS) for k, v in item.items())
        elif isinstance(item, list):
            pending.extend((v, nul_allowed) for v in item)
        elif isinstance(item, str):
            if "\x00" in item and not nul_allowed:
                raise ValueError("NUL character")
            item.encode("utf-8")  # UnicodeEncodeError (a ValueError) for lone surrogates
