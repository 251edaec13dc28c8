"""Driving the Quart test client like a browser (CSRF from the page) or an API client."""

from __future__ import annotations

import re
from typing import Any

from quart.testing import QuartClient

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
ORIGIN = "http://localhost"


async def csrf_token(client: QuartClient, page: str) -> str:
    """The CSRF token from the form on ``page`` (a GET, as a browser would)."""
    response = await client.get(page)
    html = await response.get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no csrf_token on {page} ({response.status_code})"
    return match.group(1) or match.group(2)


async def submit(client: QuartClient, path: str, data: dict[str, Any], *,
                 page: str | None = None, face: str = "html", **kwargs: Any) -> Any:
    """POST ``data`` as a browser form (with the page's CSRF token) or as JSON."""
    if face == "json":
        headers = {"Origin": ORIGIN, "Accept": "application/json", **kwargs.pop("headers", {})}
        return await client.post(path, json=data, headers=headers, **kwargs)
    token = await csrf_token(client, page or path)
    return await client.post(path, form={**data, "csrf_token": token}, **kwargs)


def token_from_link(text: str, path: str) -> str:
    """The ``token`` query parameter of the first link to ``path`` in a message body."""
    match = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_\-%]+)", text)
    assert match, f"no link to {path} in message"
    from urllib.parse import unquote

    return unquote(match.group(1))


async def signed_in_client(app: Any, username: str, password: str | None = None) -> Any:
    """A new test client of ``app`` signed in as ``username`` through the JSON login."""
    from tests.conftest import PASSWORD

    client = app.test_client()
    response = await submit(client, "/auth/login", {"username_or_email": username,
                                                    "password": password or PASSWORD},
                            face="json")
    assert response.status_code == 200, await response.get_data(as_text=True)
    quart_app = getattr(app, "app", app)  # a TestApp or the Quart app itself
    await quart_app.extensions["authtuna"].service.mail.drain()  # the sign-in notice
    return client
