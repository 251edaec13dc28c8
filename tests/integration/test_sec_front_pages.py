"""What pages put in the browser's hands: only safe ``next`` targets (issue 8.3)."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any
from urllib.parse import quote

import pyotp
import pytest

from quart_authtuna.core import AuthService
from tests._support.clock import FakeClock
from tests._support.soft_webauthn import SoftAuthenticator
from tests._support.web import submit
from tests.conftest import PASSWORD

HOSTILE = ["https://evil.example/phish", "//evil.example/phish", "/\\evil.example/phish",
           "javascript:alert('evil.example')", "/%2F%2Fevil.example", " /evil.example",
           "https:evil.example"]


def data_next(html: str) -> list[str]:
    return [htmllib.unescape(v) for v in re.findall(r'data-next="([^"]*)"', html)]


async def page(client: Any, path: str, target: str) -> str:
    response = await client.get(f"{path}?next={quote(target, safe='')}")
    assert response.status_code == 200, (path, response.status_code)
    return await response.get_data(as_text=True)


async def pending_mfa_with_a_passkey(client: Any, svc: AuthService, make_user: Any,
                                     clock: FakeClock) -> None:
    """A user with an authenticator app and a passkey, half-way through signing in."""
    user = await make_user("mona")
    setup = await svc.mfa.setup_totp(user.id)
    await svc.mfa.verify_and_enable_totp(user.id, pyotp.TOTP(setup.secret).at(clock.now))
    auth = SoftAuthenticator(rp_id=svc.settings.webauthn_rp_id,
                             origin=svc.settings.webauthn_origin[0])
    options = await svc.passkeys.registration_options(user, "browser")
    await svc.passkeys.register(user.id, auth.create(options), "browser")
    response = await submit(client, "/auth/login", {"username_or_email": "mona",
                                                    "password": PASSWORD})
    assert response.status_code == 302 and "/mfa/challenge" in response.headers["Location"]


# ---- 8.3 next targets -------------------------------------------------------------------------

@pytest.mark.parametrize("target", HOSTILE)
async def test_login_page_renders_only_a_safe_next(client: Any, target: str) -> None:
    html = await page(client, "/auth/login", target)
    assert data_next(html) == ["/"], "the passkey button must not carry the raw target"
    assert 'name="next"' in html and "evil.example" not in html


async def test_login_page_keeps_a_path_on_this_site(client: Any) -> None:
    html = await page(client, "/auth/login", "/projects/apollo?tab=a")
    assert data_next(html) == ["/projects/apollo?tab=a"]
    assert 'value="/projects/apollo?tab=a"' in html


@pytest.mark.parametrize("target", HOSTILE[:3])
async def test_mfa_challenge_renders_only_a_safe_next(
        client: Any, svc: AuthService, make_user: Any, clock: FakeClock, target: str) -> None:
    await pending_mfa_with_a_passkey(client, svc, make_user, clock)
    html = await page(client, "/mfa/challenge", target)
    assert 'data-authtuna-passkey="mfa"' in html, "the passkey button is offered"
    assert data_next(html) == ["/"] and "evil.example" not in html
    kept = await page(client, "/mfa/challenge", "/projects/apollo")
    assert data_next(kept) == ["/projects/apollo"]


async def test_reauthenticate_renders_only_a_safe_next(client: Any, make_user: Any,
                                                       login: Any) -> None:
    await make_user("rita")
    await login("rita")
    html = await page(client, "/auth/reauthenticate", HOSTILE[0])
    assert 'name="next"' in html and "evil.example" not in html
