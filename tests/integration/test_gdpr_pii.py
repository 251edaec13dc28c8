"""PII mode on both databases: the email is stored sealed with a per-user key behind a keyed
HMAC index, and login by email, uniqueness, exact search, audit addresses and key rotation
all keep working (upstream's PII mode broke login by email)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import AuditEvent
from quart_authtuna.core.errors import IdentifierTaken
from quart_authtuna.core.settings import Settings
from tests._support.clock import FakeClock
from tests._support.databases import database_overrides
from tests._support.sso import _dev_provider, _sso_app  # noqa: F401 - fixtures
from tests._support.web import ORIGIN, submit
from tests.conftest import PASSWORD, TEST_SETTINGS

JSON = {"Accept": "application/json", "Origin": ORIGIN}
PII = {"PII_ENCRYPTION_ENABLED": True, "PII_HMAC_KEY": "h" * 48}
pytestmark = pytest.mark.settings(**PII)


async def _stored(svc: AuthService, username: str) -> Any:
    async with svc.transaction() as tx:
        return (await tx.execute(text(
            "SELECT email, email_canonical, email_encrypted, email_key_id FROM users "
            "WHERE username_canonical = :u"), {"u": username})).one()


async def test_email_is_sealed_and_login_by_email_works(
        app: Any, client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("ada", email="Ada.Lovelace@Example.com")
    row = await _stored(svc, "ada")
    assert row.email == "" and "lovelace" not in row.email_canonical.lower()
    assert row.email_canonical.startswith("h:") and row.email_key_id == user.email_key_id
    assert b"Lovelace" not in bytes(row.email_encrypted)
    assert user.email == "Ada.Lovelace@Example.com"  # code keeps reading plain text
    signed = await submit(client, "/auth/login", {"username_or_email": "ada.lovelace@EXAMPLE.com",
                                                  "password": PASSWORD}, face=face)
    assert signed.status_code == (200 if face == "json" else 302)
    me = await client.get("/protected", headers=JSON)
    assert (await me.get_json())["email"] == "Ada.Lovelace@Example.com"
    found = await svc.users.get_by_email("ADA.LOVELACE@example.com")
    assert found is not None and found.id == user.id


async def test_uniqueness_email_change_and_exact_search(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    user = await make_user("ada", email="ada@example.com")
    with pytest.raises(IdentifierTaken):
        await svc.users.create("ADA@example.com", "other", PASSWORD)
    await svc.users.update(user.id, {"email": "countess@example.org"})
    assert await svc.users.get_by_email("ada@example.com") is None
    assert (await svc.users.get_by_email("Countess@example.org")).id == user.id  # type: ignore[union-attr]
    assert (await _stored(svc, "ada")).email == ""
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    exact = await client.get("/admin/users/search?identity=countess@example.org", headers=JSON)
    assert [u["username"] for u in (await exact.get_json())["data"]] == ["ada"]
    prefix = await client.get("/admin/users/search?identity=countess", headers=JSON)
    assert (await prefix.get_json())["data"] == []
    page = await (await client.get("/admin/users")).get_data(as_text=True)
    assert "exact email" in page


async def test_audit_addresses_are_sealed_and_still_searchable(
        app: Any, client: Any, svc: AuthService, make_user: Any) -> None:
    user = await make_user("ada")
    await svc.audit.log_event("PASSWORD_CHANGED", user.id, "198.51.100.7")
    async with svc.transaction() as tx:
        raw = (await tx.execute(text(
            "SELECT ip_address, ip_address_encrypted FROM audit_events "
            "WHERE event_type = 'PASSWORD_CHANGED'"))).one()
        assert raw.ip_address is None and b"198.51" not in bytes(raw.ip_address_encrypted)
    [event] = await svc.audit.get_events_by_type("PASSWORD_CHANGED")
    assert isinstance(event, AuditEvent) and event.ip_address == "198.51.100.7"
    await make_user("boss", roles=(("Admin", "global"),))
    await submit(client, "/auth/login", {"username_or_email": "boss", "password": PASSWORD})
    found = await client.get("/admin/audit?ip=198.51.100.7", headers=JSON)
    events = (await found.get_json())["data"]
    assert [e["event_type"] for e in events] == ["PASSWORD_CHANGED"]
    assert events[0]["ip_address"] == "198.51.100.7"


async def test_key_rotation_with_encrypted_data(backend: str, tmp_path: Path,
                                                clock: FakeClock) -> None:
    """FERNET_KEYS and ENCRYPTION_PRIMARY_KEY rotate with sealed emails present: the old data
    stays readable, new data uses the new key, and after ``rewrap_pii_keys`` the old key can
    be dropped."""
    old_fernet, new_fernet = TEST_SETTINGS["FERNET_KEYS"][0], Fernet.generate_key().decode()
    old_primary = TEST_SETTINGS["ENCRYPTION_PRIMARY_KEY"]
    rotated = {"FERNET_KEYS": [new_fernet, old_fernet], "ENCRYPTION_PRIMARY_KEY": "n" * 48,
               "ENCRYPTION_SECONDARY_KEYS": [old_primary]}

    def settings(db: dict[str, Any], **extra: Any) -> Settings:
        return Settings.from_sources(overrides={**TEST_SETTINGS, **PII, **db, **extra})

    async with database_overrides(backend, tmp_path) as db:
        async with AuthService(settings(db), clock=clock) as first:
            await first.users.create("old@example.com", "old", PASSWORD, email_verified=True)
        async with AuthService(settings(db, **rotated), clock=clock) as second:
            user, _ = await second.login("OLD@example.com", PASSWORD)
            assert user.email == "old@example.com"
            fresh = await second.users.create("new@example.com", "new", PASSWORD)
            async with second.transaction() as tx:
                wrapped = await tx.scalar(text(
                    "SELECT key_ciphertext FROM encryption_keys WHERE id = :k"),
                    {"k": fresh.email_key_id})
            Fernet(new_fernet.encode()).decrypt(wrapped.encode())  # wrapped by the new key
            assert await second.rewrap_pii_keys() >= 1  # the old users (system ones too)
            assert await second.rewrap_pii_keys() == 0
        async with AuthService(settings(db, FERNET_KEYS=[new_fernet],
                                        ENCRYPTION_PRIMARY_KEY="n" * 48), clock=clock) as third:
            for address in ("old@example.com", "new@example.com"):
                found = await third.users.get_by_email(address)
                assert found is not None and found.email == address


async def test_sign_up_verify_and_sign_in_by_email(client: Any, svc: AuthService) -> None:
    """The whole entrance in PII mode: the held sign-up becomes a sealed account; a second
    sign-up with the address in other case is answered as taken (the owner is told)."""
    from tests.integration.test_auth_signup_verify import confirm, sign_up, verification_token

    await sign_up(client, "json", "newbie", "Newbie@Example.com")
    token = await verification_token(svc, "Newbie@Example.com")
    assert (await confirm(client, "json", token)).status_code == 200
    row = await _stored(svc, "newbie")
    assert row.email == "" and row.email_canonical.startswith("h:")
    signed = await submit(client, "/auth/login", {"username_or_email": "NEWBIE@example.com",
                                                  "password": PASSWORD}, face="json")
    assert signed.status_code == 200
    await sign_up(client, "json", "another", "newbie@EXAMPLE.com")
    await svc.mail.drain()
    assert svc.mail.outbox.last("account_exists", "Newbie@Example.com") is not None
    assert await svc.users.get_by_username("another") is None


async def test_social_sign_up_is_sealed_and_keeps_no_provider_profile(sso_app: Any) -> None:
    """Upstream stored the social user's email in plain text in PII mode; here the account is
    sealed like any other and the provider's profile is not kept."""
    from tests._support.sso import round_trip
    from tests.integration.test_sso_linking import ADA, links, svc_of, whoami

    svc, client = svc_of(sso_app), sso_app.test_client()
    response = await round_trip(client, "dev", **ADA)
    assert response.status_code == 302
    me = await whoami(client)
    assert me is not None and me["email"] == ADA["email"]
    row = await _stored(svc, "ada")
    assert row.email == "" and row.email_canonical.startswith("h:")
    [link] = await links(sso_app)
    assert link.extra_data == {}
    found = await svc.users.get_by_email(ADA["email"].upper())
    assert found is not None and found.id == link.user_id
