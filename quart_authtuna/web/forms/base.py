"""The base form: signed CSRF for browser posts, the same fields filled from JSON for APIs."""

from __future__ import annotations

from typing import Any, Self

from quart import request
from werkzeug.datastructures import MultiDict
from wtforms import Field, Form

from ..csrf import SignedCSRF
from ..request_body import is_api_write, json_object


def text(field: Field) -> str:
    """A validated text field's value (``""`` when absent): typed, for the flows."""
    data = field.data
    return data if isinstance(data, str) else ""


class AuthTunaForm(Form):
    """Every authtuna form; build it with :meth:`from_request`."""

    class Meta:
        csrf = True
        csrf_class = SignedCSRF

    is_json: bool = False
    #: Added by the CSRF meta option (declared here for the type checker only).
    csrf_token: Field

    @classmethod
    async def from_request(cls, **defaults: Any) -> Self:
        """Form data (CSRF checked) for browsers; a JSON object, or no body, (no CSRF: the
        guard checks the origin) for API clients.

        GET requests prefill fields from the query string (e.g. ``?token=``).
        """
        if request.method == "GET":
            data = {**defaults, **{k: v for k, v in request.args.items() if k in cls._names()}}
            return cls(formdata=None, data=data)
        if await is_api_write():  # a JSON object, or no body: no form token (see the guard)
            values = await json_object()
            flat = {k: v for k, v in values.items() if isinstance(v, str | int | float | bool)}
            form = cls(formdata=MultiDict({k: str(v) for k, v in flat.items()}),
                       meta={"csrf": False})
            form.is_json = True  # answered in the JSON envelope
            return form
        return cls(formdata=await request.form, data=defaults)

    @classmethod
    def _names(cls) -> set[str]:
        return {name for name in dir(cls) if not name.startswith("_")}

    def error_list(self) -> list[dict[str, Any]]:
        """Field errors in the JSON envelope's shape."""
        return [{"code": "invalid" if name != "csrf_token" else "csrf_failed",
                 "message": str(message), "param": name}
                for name, messages in self.errors.items() for message in messages]


class ActionForm(AuthTunaForm):
    """A button that changes something: only the CSRF token is checked."""
