"""How one method of one route appears in the OpenAPI document: an :class:`Op`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from .envelope import Ok


@dataclass(frozen=True, slots=True)
class Op:
    """One method of one route.

    Arguments:
        request: the model of a write's JSON body (a form post sends the same fields plus
            ``csrf_token``).
        responses: status → model of the JSON answer (the whole envelope).
        query: the model of the query string.
        page: browsers also get an HTML page here (``text/html``, 200).
        form: a write also accepts ``application/x-www-form-urlencoded`` with CSRF.
        download: the media type of a file the route answers as an attachment.
    """

    request: Any = None
    responses: Mapping[int, Any] = field(default_factory=dict)
    query: Any = None
    page: bool = False
    form: bool = True
    download: str | None = None


#: A page for browsers only (a form to fill in, or a page the JSON face does not have).
PAGE = Op(page=True)


def ok(data: Any) -> Any:
    """``Ok[data]``: the success envelope around ``data``."""
    return cast(Any, Ok)[data]


def answers(data: Any, status: int = 200, *, request: Any = None, query: Any = None,
            page: bool = False, form: bool = True) -> Op:
    """An :class:`Op` whose JSON face answers ``{"status": status, "data": data}``."""
    return Op(request=request, responses={status: ok(data)}, query=query, page=page,
              form=form)
