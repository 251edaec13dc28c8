"""The demo app (issue 8.2, 8.18): its outbox stays on this machine in development mode, and
its passkeys work on the port it serves, with no WebAuthn setting of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from quart.typing import TestAppProtocol as DemoApp

from example_app.app import create_app
from quart_authtuna.core import AuthService
from quart_authtuna.testing.webauthn import SoftAuthenticator
from tests._support.databases import database_overrides, upgrade_database
from tests._support.web import submit, token_from_link
from tests.conftest import PASSWORD, TEST_SETTINGS

PORT = 5123
DEMO_ORIGIN = f"http://localhost:{PORT}"
LOOPBACK = [("127.0.0.1", 50000), ("::1", 50000), ("::ffff:127.0.0.1", 50000)]
OUTSIDE = ("203.0.113.7", 50000)
#: Headers a remote client might send hoping to look local; the TCP peer decides.
SPOOFS = [{}, {"X-Forwarded-For": "127.0.0.1"}, {"X-Real-IP": "127.0.0.1"},
          {"Forwarded": "for=127.0.0.1"}, {"Remote-Addr": "127.0.0.1"}, {"Host": "localhost"}]
PRODUCTION = {"PRODUCTION": True, "SESSION_SECURE": True, "API_BASE_URL": "https://demo.example",
              "BCRYPT_ROUNDS": 10}


async def _demo(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                extra: dict[str, Any]) -> AsyncIterator[DemoApp]:
    monkeypatch.chdir(tmp_path)  # the demo keeps its dev secrets in ./instance
    monkeypatch.setenv("PORT", str(PORT))
    monkeypatch.delenv("AUTHTUNA_API_BASE_URL", raising=False)
    async with database_overrides(backend, tmp_path) as db:
        settings = {**TEST_SETTINGS, **db, **extra}
        if extra.get("PRODUCTION"):  # migrated, as a deployment is (no create_all there)
            settings.pop("AUTO_CREATE_DATABASE", None)
            await upgrade_database(settings)
        app = create_app({f"AUTHTUNA_{k}": v for k, v in settings.items()})
        async with app.test_app() as test_app:
            yield test_app


@pytest.fixture(name="demo")
async def _demo_fixture(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                        ) -> AsyncIterator[DemoApp]:
    async for test_app in _demo(backend, tmp_path, monkeypatch, {}):
        yield test_app


@pytest.fixture(name="production_demo")
async def _production_demo(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                           ) -> AsyncIterator[DemoApp]:
    async for test_app in _demo(backend, tmp_path, monkeypatch, PRODUCTION):
        yield test_app


def service(test_app: DemoApp) -> AuthService:
    return test_app.app.extensions["authtuna"].service  # type: ignore[attr-defined]


async def a_link_in_the_outbox(test_app: DemoApp) -> str:
    """Sign up through the demo and return the verification token it mailed."""
    client = test_app.test_client()
    response = await submit(client, "/auth/signup", {"username": "newbie", "password": PASSWORD,
                                                     "email": "newbie@example.com"}, face="json")
    assert response.status_code == 202, await response.get_data(as_text=True)
    await service(test_app).mail.drain()
    mail = service(test_app).mail.outbox.last("verification", "newbie@example.com")
    assert mail is not None
    return token_from_link(mail.text, "/auth/verify")


async def outbox_from(test_app: DemoApp, peer: tuple[str, int],
                      headers: dict[str, str] | None = None) -> tuple[int, str]:
    client = test_app.test_client()
    response = await client.get("/dev/outbox", headers=headers or {},
                                scope_base={"client": peer})
    return response.status_code, await response.get_data(as_text=True)


# ---- 8.2 the outbox --------------------------------------------------------------------------

@pytest.mark.parametrize("peer", LOOPBACK, ids=["ipv4", "ipv6", "ipv4-mapped"])
async def test_outbox_is_served_to_this_machine_in_development(
        demo: DemoApp, peer: tuple[str, int]) -> None:
    token = await a_link_in_the_outbox(demo)
    status, html = await outbox_from(demo, peer)
    assert status == 200 and token in html
    index = await demo.test_client().get("/", scope_base={"client": peer})
    assert 'href="/dev/outbox"' in await index.get_data(as_text=True)


@pytest.mark.parametrize("headers", SPOOFS, ids=lambda h: next(iter(h), "plain"))
async def test_outbox_is_404_for_other_machines_whatever_the_headers(
        demo: DemoApp, headers: dict[str, str]) -> None:
    token = await a_link_in_the_outbox(demo)
    status, html = await outbox_from(demo, OUTSIDE, headers)
    assert status == 404 and token not in html
    index = await demo.test_client().get("/", scope_base={"client": OUTSIDE})
    assert "/dev/outbox" not in await index.get_data(as_text=True)


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
async def test_outbox_is_404_through_a_proxy_on_this_machine(demo: DemoApp, header: str
                                                             ) -> None:
    """Behind a reverse proxy on this machine every client's peer is loopback: a forwarding
    header marks the request as not local."""
    token = await a_link_in_the_outbox(demo)
    status, html = await outbox_from(demo, LOOPBACK[0], {header: "203.0.113.9"})
    assert status == 404 and token not in html


async def test_outbox_without_a_peer_address_is_404(demo: DemoApp) -> None:
    """A request with no TCP peer (a unix socket) is not known to come from this machine."""
    token = await a_link_in_the_outbox(demo)
    response = await demo.test_client().get("/dev/outbox")
    assert response.status_code == 404 and token not in await response.get_data(as_text=True)


async def test_outbox_is_404_in_production_even_from_this_machine(
        production_demo: DemoApp) -> None:
    status, _ = await outbox_from(production_demo, LOOPBACK[0])
    assert status == 404
    index = await production_demo.test_client().get("/", scope_base={"client": LOOPBACK[0]})
    assert "/dev/outbox" not in await index.get_data(as_text=True)


# ---- 8.18 passkeys on the demo's own port -----------------------------------------------------

async def test_demo_settings_follow_port(demo: DemoApp) -> None:
    settings = service(demo).settings
    assert settings.api_base_url == DEMO_ORIGIN
    assert (settings.webauthn_origin, settings.webauthn_rp_id) == ((DEMO_ORIGIN,), "localhost")


async def test_demo_passkey_ceremonies_work_on_its_port(demo: DemoApp) -> None:
    """Register and sign in with a passkey as a browser on http://localhost:PORT would."""
    await service(demo).users.create("pia@example.com", "pia", PASSWORD, email_verified=True)
    client = demo.test_client()
    headers = {"Origin": DEMO_ORIGIN, "Accept": "application/json"}
    response = await client.post("/auth/login", json={"username_or_email": "pia",
                                                      "password": PASSWORD}, headers=headers)
    assert response.status_code == 200, await response.get_data(as_text=True)
    auth = SoftAuthenticator(origin=DEMO_ORIGIN)
    options = (await (await client.post("/passkeys/register-options", json={},
                                        headers=headers)).get_json())["data"]
    response = await client.post("/passkeys/register", json={"credential": auth.create(options)},
                                 headers=headers)
    assert response.status_code == 201, await response.get_data(as_text=True)

    fresh = demo.test_client()  # a signed-out browser
    options = (await (await fresh.post("/passkeys/login-options", json={},
                                       headers=headers)).get_json())["data"]
    assert options["rpId"] == "localhost"
    response = await fresh.post("/passkeys/login", json={"credential": auth.get(options)},
                                headers=headers)
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert (await response.get_json())["data"]["user"]["username"] == "pia"
