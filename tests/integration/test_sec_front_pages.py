"""What pages put in the browser's hands: only safe ``next`` targets (issue 8.3), and a
referrer policy that never lets a URL with a token leave the page (issue 8.14)."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any
from urllib.parse import quote

import pyotp
import pytest
from quart import render_template

from quart_authtuna.core import AuthService
from quart_authtuna.testing.webauthn import SoftAuthenticator
from tests._support.clock import FakeClock
from tests._support.web import submit
from tests.conftest import PASSWORD
from tests.integration.conftest import app_on_same_database

HOSTILE = ["https://evil.example/phish", "//evil.example/phish", "/\\evil.example/phish",
           "javascript:alert('evil.example')", "/%2F%2Fevil.example", " /evil.example",
           "https:evil.example"]
META_RE = re.compile(r'<meta name="referrer" content="([^"]*)">')
TOKEN_PAGES = {"/auth/verify", "/auth/reset-password", "/auth/passwordless/login"}


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


# ---- 8.14 referrer policy ---------------------------------------------------------------------

def referrer_policies(html: str) -> list[str]:
    return META_RE.findall(html)


async def every_authtuna_get_page(app: Any, client: Any) -> dict[str, Any]:
    """Each authtuna GET route without path parameters, asked with a token in its URL."""
    answers = {}
    for rule in app.app.url_map.iter_rules():
        if (rule.endpoint.startswith("authtuna") and "GET" in rule.methods
                and not rule.arguments and not rule.rule.startswith("/static")):
            answers[rule.rule] = await client.get(f"{rule.rule}?token=s3cret-t0ken&next=/x")
    return answers


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
async def test_no_page_with_a_token_in_its_url_allows_a_referrer(
        app: Any, client: Any, make_user: Any, login: Any, signed_in: bool) -> None:
    if signed_in:
        await make_user("tess")
        await login("tess")
    answers = await every_authtuna_get_page(app, client)
    assert TOKEN_PAGES <= set(answers), "the token pages are among those checked"
    html_pages = 0
    for path, response in answers.items():
        if 300 <= response.status_code < 400 or "text/html" not in response.headers.get(
                "Content-Type", ""):
            continue
        html_pages += 1
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert referrer_policies(await response.get_data(as_text=True)) == ["no-referrer"], path
    assert html_pages >= len(TOKEN_PAGES)


@pytest.mark.parametrize("path", sorted(TOKEN_PAGES))
async def test_token_pages_after_a_post_stay_no_referrer(client: Any, path: str) -> None:
    """The answer to the form (an error or a message page) is still at the token's URL."""
    response = await submit(client, f"{path}?token=s3cret-t0ken",
                            {"token": "s3cret-t0ken", "new_password": PASSWORD})
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert referrer_policies(await response.get_data(as_text=True)) == ["no-referrer"]


async def test_app_pages_on_the_base_layout(svc: AuthService, app_settings: dict[str, Any],
                                            clock: FakeClock) -> None:
    """An application page keeps same-origin, except when its URL carries a token."""
    def routes(quart_app: Any) -> None:
        @quart_app.get("/welcome")
        async def welcome() -> str:
            return await render_template("authtuna/layouts/entrance.html")

    async with app_on_same_database(svc, app_settings, clock, routes=routes) as other:
        client = other.test_client()
        plain = await (await client.get("/welcome")).get_data(as_text=True)
        assert referrer_policies(plain) == ["same-origin"]
        tokened = await (await client.get("/welcome?token=abc")).get_data(as_text=True)
        assert referrer_policies(tokened) == ["no-referrer"]
