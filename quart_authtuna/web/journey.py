"""The one view skeleton: form → flow → page or JSON, for every authtuna form view."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from quart import request
from quart.typing import ResponseReturnValue

from ..core.errors import AuthTunaError
from ..core.service import AuthService
from ..core.types import RequestMeta
from . import current
from .forms.base import AuthTunaForm
from .request_state import request_state
from .respond import finished, flow_failed, form_invalid, render_page

R = TypeVar("R")
F = TypeVar("F", bound=AuthTunaForm)


def service() -> AuthService:
    """This app's AuthService."""
    svc: AuthService = current.service()
    return svc


def meta() -> RequestMeta:
    """What the core needs to know about this request, the browser's session included."""
    state = request_state()
    if state.session_id is None:
        return state.meta
    return replace(state.meta, session_id=state.session_id)


async def serve(form: F, template: str, run: Callable[[F], Awaitable[R]],
                success: Callable[[F, R], Awaitable[ResponseReturnValue]], *,
                rename: dict[str, str] | None = None, **context: Any) -> ResponseReturnValue:
    """GET renders the page; a POST validates, runs the flow and answers either face.

    A core error lands on the form (HTML) or in the envelope (JSON) with its status.
    """
    if request.method == "GET":
        return await render_page(template, form=form, **context)
    if not form.validate():
        return await form_invalid(form, template, **context)
    try:
        result = await run(form)
    except AuthTunaError as exc:
        return await flow_failed(exc, form, template, rename=rename, **context)
    return await success(form, result)


async def message(form: AuthTunaForm, data: dict[str, Any], title: str, text: str, *,
                  link: tuple[str, str] | None = None, status: int = 200
                  ) -> ResponseReturnValue:
    """A finished journey: a short message page, or ``data`` in the envelope."""
    url, label = link or (None, None)
    html = await render_page("auth/message.html", title=title, message=text, link_url=url,
                             link_label=label)
    return finished(form, html, data, status=status)
