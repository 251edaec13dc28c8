"""The extension serves its pages and guards routes on both faces."""

from __future__ import annotations

from typing import Any

from tests._support.web import submit
from tests.conftest import PASSWORD


async def test_login_then_protected_then_logout(client: Any, make_user: Any, face: str) -> None:
    await make_user("alice")
    response = await submit(client, "/auth/login",
                            {"username_or_email": "alice", "password": PASSWORD}, face=face)
    assert response.status_code == (302 if face == "html" else 200)
    assert (await client.get("/protected")).status_code == 200
    response = await submit(client, "/auth/logout", {}, page="/auth/change-password", face=face)
    assert response.status_code in (200, 302)
    assert (await client.get("/protected")).status_code == 302
