"""Stolen-cookie step-up on both databases: a cookie copied to another device is refused,
the owner stays signed in but must confirm their password (and is told by mail), and the
step-up replaces the session so the copied cookie is dead for good."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import AuditEvent
from tests._support.clock import FakeClock
from tests._support.web import submit
from tests.conftest import PASSWORD
from tests.integration.test_session_hook import (
    GRACE,
    INTERVAL,
    cookie_value,
    get_with,
    jar_cookie,
    session_rows,
)

JSON = {"Accept": "application/json"}
EVIL = {"User-Agent": "Evil/1.0 (another device)"}


async def _events(svc: AuthService, kind: str) -> list[AuditEvent]:
    async with svc.transaction() as tx:
        return list((await tx.scalars(select(AuditEvent).where(
            AuditEvent.event_type == kind))).all())


async def _rotate_past_grace(client: Any, clock: FakeClock) -> None:
    """The owner keeps browsing until the copied string is long rotated out."""
    for _ in range(3):
        clock.advance(INTERVAL + GRACE / 2)
        assert (await client.get("/protected")).status_code == 200


async def test_rotated_cookie_from_another_device_flags_instead_of_logging_out(
        app: Any, client: Any, svc: AuthService, clock: FakeClock, make_user: Any,
        login: Any) -> None:
    user = await make_user("owner")
    await login("owner")
    stolen = jar_cookie(client)
    assert stolen
    await _rotate_past_grace(client, clock)
    assert jar_cookie(client) != stolen

    # The thief's request is refused and its cookie cleared; the session lives on, flagged.
    thief = await get_with(app, "/protected", stolen, headers={**EVIL, **JSON})
    assert thief.status_code == 401 and cookie_value(thief) == ""
    [row] = await session_rows(svc, user.id)
    assert row.active and row.flagged_at == clock()
    [flagged] = await _events(svc, "SESSION_FLAGGED")
    assert flagged.user_id == user.id
    assert flagged.details == {"reason": "other_device", "rotated_string": True}
    assert await _events(svc, "SESSION_INVALIDATED") == []
    await svc.mail.drain()
    notice = svc.mail.outbox.last("session_flagged", "owner@example.com")
    assert notice is not None and "another device" in notice.text

    # The owner is asked to re-authenticate: JSON gets 401, a browser the page with why.
    api = await client.get("/protected", headers=JSON)
    assert api.status_code == 401
    assert (await api.get_json())["errors"][0]["code"] == "reauthentication_required"
    page = await client.get("/ui/settings")
    assert page.status_code == 302
    assert "/auth/reauthenticate" in page.headers["Location"]
    assert "why=other_device" in page.headers["Location"]
    html = await (await client.get(page.headers["Location"])).get_data(as_text=True)
    assert "Another device just used your sign-in cookie" in html

    # The thief again: still refused, and nobody is flagged or mailed twice.
    assert (await get_with(app, "/protected", stolen, headers=EVIL)).status_code == 302
    assert len(await _events(svc, "SESSION_FLAGGED")) == 1

    # The password replaces the session: the owner carries on, the copied cookie is dead.
    done = await submit(client, "/auth/reauthenticate?next=/protected",
                        {"password": PASSWORD, "next": "/protected"},
                        page=page.headers["Location"])
    assert done.status_code == 302 and done.headers["Location"] == "/protected"
    assert (await client.get("/protected")).status_code == 200
    rows = await session_rows(svc, user.id)
    old = next(r for r in rows if r.session_id == row.session_id)
    [new] = [r for r in rows if r.active]
    assert not old.active and new.session_id != old.session_id
    assert new.flagged_at is None and new.fingerprint == old.fingerprint
    assert len(await _events(svc, "SESSION_STEPPED_UP")) == 1
    for headers in (EVIL, {}):  # even from the owner's own browser signature
        assert (await get_with(app, "/protected", stolen, headers=headers)).status_code == 302


async def test_current_cookie_from_another_device_is_refused_too(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    """The rule holds whatever string the other device presents (current one here)."""
    user = await make_user("owner")
    await login("owner")
    cookie = jar_cookie(client)
    assert cookie
    assert (await get_with(app, "/protected", cookie, headers=EVIL)).status_code == 302
    [flagged] = await _events(svc, "SESSION_FLAGGED")
    assert flagged.details["rotated_string"] is False
    [row] = await session_rows(svc, user.id)
    assert row.active and row.flagged_at is not None
    # Signing out stays possible from the flagged session.
    out = await submit(client, "/auth/logout", {}, page="/auth/reauthenticate")
    assert out.status_code == 302
    [row] = await session_rows(svc, user.id)
    assert not row.active


async def test_a_passwordless_owner_steps_up_with_a_passkey(
        app: Any, client: Any, svc: AuthService) -> None:
    """No password to confirm: the passkey re-authentication replaces the flagged session."""
    from tests._support.passkey_signup import sign_up_with_passkey

    _, device = await sign_up_with_passkey(client, svc, "ora", "ora@example.com")
    stolen = jar_cookie(client)
    assert stolen
    assert (await get_with(app, "/protected", stolen, headers=EVIL)).status_code == 302
    refused = await client.get("/protected", headers=JSON)
    assert (await refused.get_json())["errors"][0]["code"] == "reauthentication_required"
    options = await client.post("/passkeys/reauth-options", json={}, headers=JSON)
    assert options.status_code == 200
    confirmed = await client.post("/passkeys/reauth", headers=JSON, json={
        "credential": device.get((await options.get_json())["data"]), "next": "/protected"})
    assert confirmed.status_code == 200
    assert jar_cookie(client) != stolen
    assert (await client.get("/protected")).status_code == 200
    assert (await get_with(app, "/protected", stolen)).status_code == 302
    assert len(await _events(svc, "SESSION_STEPPED_UP")) == 1
