"""Passkey-first sign-up driven over HTTP like a person: the form, the emailed link, the
ceremony answered by the software authenticator."""

from __future__ import annotations

from typing import Any

from quart_authtuna.core import AuthService
from quart_authtuna.testing.webauthn import SoftAuthenticator
from tests._support.web import ORIGIN, submit, token_from_link

JSON = {"Origin": ORIGIN, "Accept": "application/json"}
FINISH = "/passkeys/signup/finish"


def authenticator(svc: AuthService) -> SoftAuthenticator:
    return SoftAuthenticator(rp_id=svc.settings.webauthn_rp_id,
                             origin=svc.settings.webauthn_origin[0])


async def start(client: Any, username: str, email: str, face: str = "json") -> Any:
    return await submit(client, "/passkeys/signup", {"username": username, "email": email},
                        face=face)


async def emailed_token(svc: AuthService, email: str) -> str:
    """The token of the newest verification mail to ``email`` (a link to the ceremony)."""
    await svc.mail.drain()
    mail = svc.mail.outbox.last("verification", email)
    assert mail is not None, f"no verification mail to {email}"
    return token_from_link(mail.text, FINISH)


async def ceremony(client: Any, token: str, device: SoftAuthenticator,
                   nickname: str = "Laptop") -> Any:
    """Options, then the attestation: the answer of ``/passkeys/signup/complete``."""
    options = await client.post("/passkeys/signup/options", json={"token": token},
                                headers=JSON)
    assert options.status_code == 200, await options.get_data(as_text=True)
    credential = device.create((await options.get_json())["data"])
    return await client.post("/passkeys/signup/complete", headers=JSON,
                             json={"token": token, "credential": credential,
                                   "nickname": nickname})


async def sign_up_with_passkey(client: Any, svc: AuthService, username: str, email: str
                               ) -> tuple[dict[str, Any], SoftAuthenticator]:
    """The whole journey (held behind the emailed link); the ``complete`` data."""
    started = await start(client, username, email)
    assert started.status_code == 202, await started.get_data(as_text=True)
    device = authenticator(svc)
    done = await ceremony(client, await emailed_token(svc, email), device)
    assert done.status_code == 201, await done.get_data(as_text=True)
    return (await done.get_json())["data"], device
