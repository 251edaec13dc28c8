"""The session cookie on the wire: attributes, tampering, key rotation, lifetimes, contents."""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import jwt
import pytest
from cryptography.fernet import Fernet
from jwt.warnings import InsecureKeyLengthWarning
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.crypto.tokens import digest
from quart_authtuna.core.db.models import UserSession
from tests._support.clock import FakeClock
from tests._support.web import submit
from tests.conftest import PASSWORD, TEST_SETTINGS
from tests.integration.conftest import app_on_same_database

COOKIE = "session_token"
INTERVAL = 10.0
K1 = TEST_SETTINGS["JWT_SECRET_KEY"]
K2 = "second-jwt-secret-" + "k" * 40


# ---- helpers -----------------------------------------------------------------------------

def session_headers(response: Any) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie")
            if h.startswith((f"{COOKIE}=", f"__Host-{COOKIE}="))]  # __Host- when Secure


def attributes(header: str) -> dict[str, str]:
    """``{"httponly": "", "samesite": "Lax", ...}`` of one Set-Cookie header (lower-case keys)."""
    found = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        found[name.lower()] = value
    return found


def cookie_value(response: Any) -> str | None:
    headers = session_headers(response)
    return headers[-1].split(";", 1)[0].split("=", 1)[1] if headers else None


def clears_cookie(response: Any) -> bool:
    headers = session_headers(response)
    return bool(headers) and cookie_value(response) == "" and (
        attributes(headers[-1]).get("max-age") == "0")


async def get_with(app: Any, path: str, cookie: str, **kwargs: Any) -> Any:
    raw = getattr(app, "app", app).test_client(use_cookies=False)
    headers = {"Cookie": f"{COOKIE}={cookie}", **kwargs.pop("headers", {})}
    return await raw.get(path, headers=headers, **kwargs)


async def sign_in(client: Any, username: str = "pat", scheme: str = "http") -> Any:
    response = await submit(client, "/auth/login",
                            {"username_or_email": username, "password": PASSWORD},
                            face="json", scheme=scheme,
                            headers={"Origin": f"{scheme}://localhost"})
    assert response.status_code == 200, await response.get_data(as_text=True)
    return response


def flip(token: str, part: int) -> str:
    """Change one character in the middle of JWT part ``part`` (not a padding-bit char)."""
    parts = token.split(".")
    middle = len(parts[part]) // 2
    char = parts[part][middle]
    parts[part] = parts[part][:middle] + ("A" if char != "A" else "B") + parts[part][middle + 1:]
    return ".".join(parts)


def restarted(svc: AuthService, app_settings: dict[str, Any], clock: FakeClock,
              **changes: Any) -> Any:
    """The app again, on the same database, with some settings changed (a redeploy)."""
    return app_on_same_database(svc, app_settings, clock, changes)


def unverified(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False, "verify_exp": False})


# ---- attributes --------------------------------------------------------------------------

async def test_default_attributes(client: Any, make_user: Any) -> None:
    await make_user("pat")
    [header] = session_headers(await sign_in(client))
    attrs = attributes(header)
    assert "httponly" in attrs and attrs["path"] == "/" and attrs["samesite"] == "Lax"
    assert "secure" not in attrs  # the test app sets SESSION_SECURE=False
    assert "domain" not in attrs
    assert attrs["max-age"] == str(604800)  # the idle lifetime, not the absolute one


@pytest.mark.parametrize("setting, expected", [
    pytest.param("STRICT", "Strict", marks=pytest.mark.settings(SESSION_SAME_SITE="STRICT")),
    pytest.param("LAX", "Lax", marks=pytest.mark.settings(SESSION_SAME_SITE="LAX")),
    pytest.param("NONE", "None", marks=pytest.mark.settings(SESSION_SAME_SITE="NONE",
                                                            SESSION_SECURE=True)),
])
async def test_same_site_follows_settings(client: Any, make_user: Any, setting: str,
                                          expected: str) -> None:
    await make_user("pat")
    scheme = "https" if setting == "NONE" else "http"
    [header] = session_headers(await sign_in(client, scheme=scheme))
    assert attributes(header)["samesite"] == expected


@pytest.mark.settings(SESSION_SECURE=True)
async def test_secure_cookie_over_https(client: Any, make_user: Any) -> None:
    await make_user("pat")
    [header] = session_headers(await sign_in(client, scheme="https"))
    attrs = attributes(header)
    assert "secure" in attrs and "httponly" in attrs
    assert (await client.get("/protected", scheme="https")).status_code == 200


@pytest.mark.settings(SESSION_COOKIE_DOMAIN="example.test")
async def test_domain_on_set_and_on_delete(app: Any, client: Any, make_user: Any) -> None:
    await make_user("pat")
    response = await sign_in(client)
    [header] = session_headers(response)
    assert attributes(header)["domain"] == "example.test"
    cookie = cookie_value(response)
    assert cookie
    raw = app.app.test_client(use_cookies=False)
    response = await raw.post("/auth/logout", json={}, headers={
        "Cookie": f"{COOKIE}={cookie}", "Origin": "http://localhost",
        "Accept": "application/json"})
    assert response.status_code == 200
    [deleting] = session_headers(response)
    attrs = attributes(deleting)
    assert cookie_value(response) == "" and attrs["max-age"] == "0"
    assert attrs["domain"] == "example.test" and attrs["path"] == "/"
    assert "httponly" in attrs
    # A cookie refused by validation is cleared on the same domain too.
    response = await get_with(app, "/protected", cookie)
    assert response.status_code == 302 and clears_cookie(response)
    assert attributes(session_headers(response)[-1])["domain"] == "example.test"


# ---- forged cookies ----------------------------------------------------------------------

@pytest.mark.parametrize("part", [0, 1, 2], ids=["header", "payload", "signature"])
async def test_tampered_cookie_is_anonymous_and_cleared(app: Any, client: Any, make_user: Any,
                                                        part: int) -> None:
    await make_user("pat")
    cookie = cookie_value(await sign_in(client))
    assert cookie
    response = await get_with(app, "/protected", flip(cookie, part))
    assert response.status_code == 302 and clears_cookie(response)
    assert (await get_with(app, "/protected", cookie)).status_code == 200


async def test_cookie_signed_with_another_key_is_anonymous(app: Any, client: Any,
                                                           make_user: Any) -> None:
    await make_user("pat")
    cookie = cookie_value(await sign_in(client))
    assert cookie
    forged = jwt.encode(unverified(cookie), "attacker-key-" + "x" * 40, algorithm="HS256")
    response = await get_with(app, "/protected", forged)
    assert response.status_code == 302 and clears_cookie(response)


@pytest.mark.parametrize("algorithm", ["none", "HS512"])
async def test_cookie_with_another_algorithm_is_anonymous(app: Any, client: Any,
                                                          make_user: Any, algorithm: str) -> None:
    await make_user("pat")
    cookie = cookie_value(await sign_in(client))
    assert cookie
    key = None if algorithm == "none" else K1  # the right key, the wrong algorithm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        forged = jwt.encode(unverified(cookie), key, algorithm=algorithm)
    response = await get_with(app, "/protected", forged)
    assert response.status_code == 302 and clears_cookie(response)


async def test_garbage_cookies_are_anonymous(app: Any, client: Any, make_user: Any) -> None:
    await make_user("pat")
    cookie = cookie_value(await sign_in(client))
    assert cookie
    for value in ("x", cookie[: len(cookie) // 2], cookie + "x", "a.b.c", "A" * 5000):
        response = await get_with(app, "/protected", value)
        assert response.status_code == 302, value[:20]
        assert (await get_with(app, "/bare", value)).status_code == 200


# ---- key rotation ------------------------------------------------------------------------

@pytest.mark.settings(SESSION_ROTATION_SECONDS=INTERVAL)
async def test_jwt_key_rotation_keeps_sessions(svc: AuthService, client: Any, make_user: Any,
                                               clock: FakeClock,
                                               app_settings: dict[str, Any]) -> None:
    await make_user("pat")
    old = cookie_value(await sign_in(client))
    assert old
    jwt.decode(old, K1, algorithms=["HS256"])
    async with restarted(svc, app_settings, clock, JWT_SECRET_KEY=K2,
                         JWT_FALLBACK_SECRET_KEYS=[K1]) as rotated:
        clock.advance(INTERVAL + 0.1)  # a rotation is due: it re-signs with the new key
        response = await get_with(rotated, "/protected", old)
        assert response.status_code == 200
        new = cookie_value(response)
        assert new
        jwt.decode(new, K2, algorithms=["HS256"])
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(new, K1, algorithms=["HS256"])
        assert (await get_with(rotated, "/protected", new)).status_code == 200
        clock.advance(INTERVAL + 0.1)
        response = await get_with(rotated, "/protected", new)
        assert response.status_code == 200
        jwt.decode(cookie_value(response) or "", K2, algorithms=["HS256"])
    async with restarted(svc, app_settings, clock, JWT_SECRET_KEY=K2) as without_fallback:
        assert (await get_with(without_fallback, "/protected", old)).status_code == 302


@pytest.mark.settings(SESSION_ROTATION_SECONDS=INTERVAL)
async def test_fernet_key_rotation_reads_old_cookies(svc: AuthService, client: Any,
                                                     make_user: Any, clock: FakeClock,
                                                     app_settings: dict[str, Any]) -> None:
    await make_user("pat")
    old = cookie_value(await sign_in(client))
    assert old
    [old_key] = TEST_SETTINGS["FERNET_KEYS"]
    new_key = Fernet.generate_key().decode()
    async with restarted(svc, app_settings, clock, FERNET_KEYS=[new_key, old_key]) as rotated:
        clock.advance(INTERVAL + 0.1)  # a rotation is due: it re-encrypts with the new key
        response = await get_with(rotated, "/protected", old)
        assert response.status_code == 200
        new = cookie_value(response)
        assert new
        Fernet(new_key.encode()).decrypt(unverified(new)["session"].encode())
    async with restarted(svc, app_settings, clock, FERNET_KEYS=[new_key]) as dropped:
        assert (await get_with(dropped, "/protected", old)).status_code == 302


# ---- lifetimes ---------------------------------------------------------------------------

@pytest.mark.settings(SESSION_LIFETIME_SECONDS=100, SESSION_LIFETIME_FROM="last_activity")
async def test_sliding_lifetime_extends_with_activity(client: Any, make_user: Any,
                                                      clock: FakeClock) -> None:
    await make_user("pat")
    await sign_in(client)
    for _ in range(6):  # 300 s of activity, one request every 50 s
        clock.advance(50)
        assert (await client.get("/protected")).status_code == 200
    clock.advance(100.5)  # idle longer than the lifetime
    assert (await client.get("/protected")).status_code == 302


@pytest.mark.settings(SESSION_LIFETIME_SECONDS=100, SESSION_LIFETIME_FROM="creation",
                      SESSION_ROTATION_SECONDS=10)
async def test_lifetime_from_creation_ends_regardless_of_activity(
        app: Any, client: Any, make_user: Any, clock: FakeClock) -> None:
    await make_user("pat")
    cookie = cookie_value(await sign_in(client))
    clock.advance(50)
    response = await client.get("/protected")
    assert response.status_code == 200
    latest = cookie_value(response)
    assert cookie and latest
    clock.advance(49.5)
    assert (await client.get("/protected")).status_code == 200
    clock.advance(0.6)  # 100.1 s after sign-in
    for value in (latest, cookie):
        assert (await get_with(app, "/protected", value)).status_code == 302
    assert (await client.get("/protected")).status_code == 302


@pytest.mark.settings(SESSION_LIFETIME_SECONDS=100, SESSION_ABSOLUTE_LIFETIME_SECONDS=150)
async def test_absolute_lifetime_ends_an_active_session(client: Any, make_user: Any,
                                                        clock: FakeClock) -> None:
    await make_user("pat")
    await sign_in(client)
    for _ in range(2):
        clock.advance(50)
        assert (await client.get("/protected")).status_code == 200
    clock.advance(49)  # 149 s: still inside
    assert (await client.get("/protected")).status_code == 200
    clock.advance(1.1)
    assert (await client.get("/protected")).status_code == 302


@pytest.mark.settings(SESSION_LIFETIME_SECONDS=100)
async def test_cookie_expiry_tracks_the_session(client: Any, make_user: Any,
                                                clock: FakeClock) -> None:
    await make_user("pat")
    start = clock()
    first = cookie_value(await sign_in(client))
    assert first and unverified(first)["exp"] == int(start + 100)
    clock.advance(50)
    second = cookie_value(await client.get("/protected"))
    assert second and unverified(second)["exp"] == int(start + 150)


# ---- contents ----------------------------------------------------------------------------

async def test_cookie_carries_no_identity_in_clear(svc: AuthService, client: Any,
                                                   make_user: Any, clock: FakeClock) -> None:
    user = await make_user("pat", email="pat.private@example.com")
    cookie = cookie_value(await sign_in(client))
    assert cookie
    outer = unverified(cookie)
    assert set(outer) == {"session", "exp"}
    header = json.loads(base64.urlsafe_b64decode(cookie.split(".")[0] + "=="))
    assert header["alg"] == "HS256"
    readable = [cookie, json.dumps(outer), base64.urlsafe_b64decode(outer["session"] + "==")
                .decode("latin-1")]
    for text in readable:
        for secret in ("pat.private", "example.com", user.id):
            assert secret not in text
    claims = svc.session_validator.codec.decode(cookie, clock())
    assert claims is not None
    assert {"sid", "uid", "rs"} <= set(claims) and not {"email", "username"} & set(claims)
    async with svc.transaction() as tx:
        stored = (await tx.scalars(select(UserSession.session_id).where(
            UserSession.user_id == user.id))).all()
    assert stored == [digest(claims["sid"])]
    assert claims["sid"] not in stored
