"""The shipped test kit (issue 10), continued: the outbox and its links, the software passkey
over HTTP, and the lazily re-exported dev provider; on both databases."""

from __future__ import annotations

import importlib
import importlib.util
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from quart.typing import TestAppProtocol as AppUnderTest

import quart_authtuna.testing as kit
from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import User
from quart_authtuna.core.mail import Message
from quart_authtuna.testing import (
    SentMail,
    SoftAuthenticator,
    authenticator_for,
    enrol_passkey,
    login_as,
    outbox,
)
from tests._support.web import ORIGIN

MakeUser = Callable[..., Awaitable[User]]
JSON = {"Origin": ORIGIN, "Accept": "application/json"}


def closed_port() -> int:
    """A loopback port nothing listens on (mail sent there would fail)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- outbox -----------------------------------------------------------------------------------

async def test_outbox_holds_the_mail_with_its_links(
        app: AppUnderTest, make_user: MakeUser) -> None:
    await make_user("ada")
    client = app.test_client()
    box = outbox(app)
    response = await client.post("/auth/forgot-password", json={"email": "ada@example.com"},
                                 headers=JSON)
    assert response.status_code == 202
    mail = await box.last("password_reset", to="ada@example.com")
    assert mail.kind == "password_reset" and "password" in mail.subject.lower()
    link = mail.link("/auth/reset-password")
    assert link.startswith("http://testserver.local/auth/reset-password?token=")
    assert mail.path("/auth/reset-password") == link.removeprefix("http://testserver.local")
    assert mail.token() == link.split("token=", 1)[1]
    assert link in mail.links and mail.links.count(link) == 1, "text and HTML links, once"
    # Following the link as a person would, through the page's form.
    page = await client.get(mail.path("/auth/reset-password"))
    assert page.status_code == 200
    done = await client.post("/auth/reset-password", headers=JSON, json={
        "token": mail.token(), "new_password": "another long test passphrase"})
    assert done.status_code == 200, await done.get_data(as_text=True)


async def test_outbox_filters_waits_and_clears(
        app: AppUnderTest, make_user: MakeUser) -> None:
    await make_user("ada")
    await make_user("bob")
    box = outbox(app)
    await login_as(app, "ada")  # a real sign-in: the new-login mail (SEND_NEW_LOGIN_EMAIL)
    await login_as(app, "bob")
    assert [m.to for m in await box.sent("new_login")] == ["ada@example.com", "bob@example.com"]
    assert [m.kind for m in await box.sent(to="bob@example.com")] == ["new_login"]
    assert (await box.last()).to == "bob@example.com"
    box.clear()
    assert await box.sent() == []
    with pytest.raises(AssertionError, match="no mail"):
        await box.last("new_login")


@pytest.mark.settings(SEND_NEW_LOGIN_EMAIL=False)
async def test_login_as_sends_no_mail_when_the_app_sends_none(
        app: AppUnderTest, make_user: MakeUser) -> None:
    await make_user("ada")
    await login_as(app, "ada")
    assert await outbox(app).sent() == []


@pytest.mark.settings(EMAIL_ENABLED=True, SMTP_HOST="127.0.0.1", SMTP_PORT=closed_port(),
                      DEFAULT_SENDER_EMAIL="noreply@example.com")
async def test_outbox_captures_mail_even_with_email_enabled(
        app: AppUnderTest, svc: AuthService, make_user: MakeUser) -> None:
    await make_user("ada")
    assert svc.mail.transport is not svc.mail.outbox  # SMTP until the test asks
    box = outbox(app)
    await login_as(app, "ada")
    assert (await box.last("new_login")).to == "ada@example.com"


def test_links_come_from_the_text_and_the_html_unescaped() -> None:
    mail = SentMail.of(Message(
        "verification", "ada@example.com", "Confirm",
        "Open https://app.example/auth/verify?token=abc.\nOr (https://app.example/help).",
        '<a href="https://app.example/auth/verify?token=abc&amp;x=1">go</a>'
        '<a href="mailto:help@app.example">mail</a><a href="/relative">r</a>'))
    assert mail.links == ["https://app.example/auth/verify?token=abc",
                          "https://app.example/help",
                          "https://app.example/auth/verify?token=abc&x=1"]
    assert mail.link("help") == "https://app.example/help"
    assert mail.path("x=1") == "/auth/verify?token=abc&x=1"
    assert mail.token("x=1") == "abc"
    with pytest.raises(AssertionError, match="no link containing '/nowhere'"):
        mail.link("/nowhere")
    with pytest.raises(AssertionError, match="carries no token"):
        mail.token("help")


# ---- the software passkey over HTTP ------------------------------------------------------------

async def test_a_soft_passkey_registers_and_signs_in_over_http(
        app: AppUnderTest, svc: AuthService, make_user: MakeUser) -> None:
    ada = await make_user("ada")
    device = SoftAuthenticator(rp_id=svc.settings.webauthn_rp_id,
                               origin=svc.settings.webauthn_origin[0])
    client = await login_as(app, ada)
    await client.get("/ui/settings")  # the page gives the browser its CSRF seed (the binding)
    options = await client.post("/passkeys/register-options", json={}, headers=JSON)
    assert options.status_code == 200, await options.get_data(as_text=True)
    created = await client.post("/passkeys/register", headers=JSON, json={
        "credential": device.create((await options.get_json())["data"]), "nickname": "Soft"})
    assert created.status_code == 201, await created.get_data(as_text=True)

    assert (await passkey_sign_in(app, device))["id"] == ada.id


async def passkey_sign_in(app: AppUnderTest, device: SoftAuthenticator) -> Any:
    """A new browser signs in with ``device`` alone; its answer to /protected."""
    browser = app.test_client()
    await browser.get("/auth/login")  # the CSRF seed the ceremony is bound to
    options = await browser.post("/passkeys/login-options", json={}, headers=JSON)
    signed_in = await browser.post("/passkeys/login", headers=JSON, json={
        "credential": device.get((await options.get_json())["data"])})
    assert signed_in.status_code == 200, await signed_in.get_data(as_text=True)
    return await (await browser.get("/protected", headers=JSON)).get_json()


async def test_enrol_passkey_gives_a_user_a_working_passkey(
        app: AppUnderTest, svc: AuthService, make_user: MakeUser) -> None:
    ada = await make_user("ada")
    device = await enrol_passkey(app, "ada", nickname="Soft key")
    assert (device.rp_id, device.origin) == ("testserver.local", "http://testserver.local")
    rows = await svc.passkeys.list(ada.id)
    assert [r.nickname for r in rows] == ["Soft key"]
    assert (await passkey_sign_in(app, device))["id"] == ada.id
    assert (await outbox(app).last("passkey_added")).to == "ada@example.com"
    second = await enrol_passkey(app, ada, authenticator_for(app))
    assert second is not device and len(await svc.passkeys.list(ada.id)) == 2


def test_the_suites_authenticator_is_the_shipped_one() -> None:
    from quart_authtuna.testing import webauthn
    from tests._support import soft_webauthn

    assert soft_webauthn.SoftAuthenticator is webauthn.SoftAuthenticator is SoftAuthenticator
    assert set(soft_webauthn.__all__) == set(webauthn.__all__)


# ---- the public surface and the dev provider ------------------------------------------------

def test_all_is_sorted_and_complete() -> None:
    public = {n for n in vars(kit) if not n.startswith("_")} - {
        "annotations", "import_module", "ModuleType", "client", "mail", "passkeys",
        "webauthn", "dev_oidc"}  # dev_oidc: a submodule, set once something imported it
    assert kit.__all__ == sorted(kit.__all__) and set(kit.__all__) == public


@pytest.fixture(name="without_dev_oidc")
def _without_dev_oidc() -> Iterator[None]:
    """Pretend the dev provider is not shipped (restored after)."""
    name = "quart_authtuna.testing.dev_oidc"
    saved = sys.modules.pop(name, None)
    sys.modules[name] = None  # type: ignore[assignment]  # import fails: ModuleNotFoundError
    kit.__dict__.pop("dev_oidc", None)
    try:
        yield
    finally:
        del sys.modules[name]
        if saved is not None:
            sys.modules[name] = saved


def test_dev_oidc_is_imported_on_first_use() -> None:
    name = "quart_authtuna.testing.dev_oidc"
    if importlib.util.find_spec(name) is None:
        with pytest.raises(AttributeError, match="not part of this version"):
            kit.dev_oidc  # noqa: B018
        return
    from quart_authtuna.testing import dev_oidc

    assert dev_oidc is kit.dev_oidc is importlib.import_module(name)


def test_dev_oidc_resolves_to_the_module_once_it_is_there(
        monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in = ModuleType("quart_authtuna.testing.dev_oidc")
    monkeypatch.setitem(sys.modules, stand_in.__name__, stand_in)
    monkeypatch.delitem(kit.__dict__, "dev_oidc", raising=False)
    from quart_authtuna.testing import dev_oidc

    assert dev_oidc is stand_in is kit.dev_oidc


def test_without_the_dev_provider_the_kit_still_imports(without_dev_oidc: None) -> None:
    fresh = importlib.reload(kit)  # runs the package's code again, the provider gone
    assert fresh is kit and callable(fresh.login_as)
    with pytest.raises(AttributeError, match="not part of this version"):
        fresh.dev_oidc  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        fresh.nothing  # noqa: B018


def test_a_missing_dependency_of_the_dev_provider_is_not_hidden(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str, package: str | None = None) -> ModuleType:
        raise ModuleNotFoundError("No module named 'somedep'", name="somedep")

    monkeypatch.delitem(kit.__dict__, "dev_oidc", raising=False)
    monkeypatch.setattr(kit, "import_module", broken)
    with pytest.raises(ModuleNotFoundError, match="somedep"):
        kit.dev_oidc  # noqa: B018
