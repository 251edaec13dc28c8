"""Sign-up over HTTP refuses look-alike usernames with a field error (issue 8.17)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from quart_authtuna.core import AuthService
from tests._support.web import submit
from tests.conftest import PASSWORD

LOOK_ALIKES = [("\u0430lice", "mixed_script_username"),          # Cyrillic а + Latin
               ("\u0430\u04cf\u0456\u0441\u0435", "confusable_username")]  # all Cyrillic


def username_errors(html: str) -> str:
    match = re.search(r'id="username-errors">(.*?)</ul>', html, re.S)
    assert match, "no errors shown under the username"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


@pytest.mark.parametrize("name, code", LOOK_ALIKES)
async def test_signup_with_a_look_alike_username_is_400_on_the_username(
        client: Any, svc: AuthService, make_user: Any, face: str, name: str, code: str) -> None:
    await make_user("alice")
    response = await submit(client, "/auth/signup", {"username": name, "password": PASSWORD,
                                                     "email": "mallory@example.com"}, face=face)
    assert response.status_code == 400
    if face == "json":
        errors = (await response.get_json())["errors"]
        assert [(e["code"], e["param"]) for e in errors] == [(code, "username")]
    else:
        shown = username_errors(await response.get_data(as_text=True))
        assert "alphabet" in shown or "look like Latin" in shown
    assert await svc.users.get_by_email("mallory@example.com") is None
    await svc.mail.drain()
    assert svc.mail.outbox.last("verification", "mallory@example.com") is None
