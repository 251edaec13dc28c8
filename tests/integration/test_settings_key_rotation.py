"""Key rotation with live sessions: a redeploy moves every primary key to its rotation list.

Signed in on the first deploy (session cookie, trusted-device cookie, enrolled TOTP, CSRF
tokens on open pages), the same browsers keep working on a deploy whose new primaries sign
everything new, and are refused by a deploy that dropped the old keys entirely.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
import pyotp
import pytest
from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import BadSignature, URLSafeTimedSerializer

from quart_authtuna.core import AuthService
from quart_authtuna.core.device_trust import AUDIENCE
from quart_authtuna.web.csrf import EXPIRED
from tests._support.clock import FakeClock
from tests._support.web import csrf_token
from tests.conftest import PASSWORD, TEST_SETTINGS
from tests.integration.conftest import app_on_same_database
from tests.integration.test_mfa_web import enrol_over_http

JWT_OLD, ENC_OLD = TEST_SETTINGS["JWT_SECRET_KEY"], TEST_SETTINGS["ENCRYPTION_PRIMARY_KEY"]
[FERNET_OLD] = TEST_SETTINGS["FERNET_KEYS"]
JWT_NEW = "rotated-jwt-secret-" + "n" * 40
ENC_NEW = "rotated-encryption-key-" + "n" * 40
FERNET_NEW = Fernet.generate_key().decode()
ROTATED = {"JWT_SECRET_KEY": JWT_NEW, "JWT_FALLBACK_SECRET_KEYS": [JWT_OLD],
           "ENCRYPTION_PRIMARY_KEY": ENC_NEW, "ENCRYPTION_SECONDARY_KEYS": [ENC_OLD],
           "FERNET_KEYS": [FERNET_NEW, FERNET_OLD]}
DROPPED = {"JWT_SECRET_KEY": JWT_NEW, "ENCRYPTION_PRIMARY_KEY": ENC_NEW,
           "FERNET_KEYS": [FERNET_NEW]}
JSON = {"Accept": "application/json"}


def jar(client: Any) -> dict[str, str]:
    return {cookie.name: cookie.value for cookie in client.cookie_jar}


def csrf_signed_with(key: str, token: str) -> bool:
    try:
        URLSafeTimedSerializer(key, salt="authtuna-csrf").loads(token)
    except BadSignature:
        return False
    return True


async def post_login(client: Any, token: str) -> Any:
    return await client.post("/auth/login", form={
        "username_or_email": "rota", "password": PASSWORD, "csrf_token": token})


@pytest.fixture(name="live")
async def _live(app: Any, client: Any, make_user: Any, login: Any, clock: FakeClock
                ) -> dict[str, Any]:
    """On the first deploy: a signed-in browser with TOTP enrolled and a CSRF token from an
    open page, and a signed-out browser with the login page open."""
    user = await make_user("rota")
    await login("rota")
    secret, codes = await enrol_over_http(client, clock)
    page_token = await csrf_token(client, "/auth/change-password")
    anonymous = app.test_client()
    login_token = await csrf_token(anonymous, "/auth/login")
    cookies = jar(client)
    assert {"session_token", "authtuna_csrf", "authtuna_device"} <= set(cookies)
    assert csrf_signed_with(ENC_OLD, page_token) and csrf_signed_with(ENC_OLD, login_token)
    return {"user": user, "secret": secret, "codes": codes, "browser": client,
            "page_token": page_token, "anonymous": anonymous, "login_token": login_token,
            "cookies": cookies}


async def test_rotated_keys_keep_live_sessions_and_sign_new_values_with_the_new_keys(
        svc: AuthService, live: dict[str, Any], clock: FakeClock,
        app_settings: dict[str, Any]) -> None:
    async with app_on_same_database(svc, app_settings, clock, ROTATED) as app:
        rotated = app.app.extensions["authtuna"].service
        browser = app.test_client()
        browser.cookie_jar = live["browser"].cookie_jar
        # the session cookie signed and encrypted with the old keys still signs in
        assert (await browser.get("/protected", headers=JSON)).status_code == 200
        # the trusted-device token signed with the old JWT key still verifies
        user_id = live["user"].id
        assert rotated.devices.verify(live["cookies"]["authtuna_device"], user_id)
        jwt.decode(rotated.devices.issue(user_id), JWT_NEW, algorithms=["HS256"],
                   audience=AUDIENCE, options={"verify_iat": False})  # the test clock's iat
        # a CSRF token on a page opened before the redeploy is accepted: sign out with it
        response = await browser.post("/auth/logout", form={"csrf_token": live["page_token"]})
        assert response.status_code == 302, await response.get_data(as_text=True)
        assert (await browser.get("/protected", headers=JSON)).status_code == 401
        # the login page opened before the redeploy, then the TOTP secret encrypted with the
        # old Fernet key: the code verifies
        anonymous = app.test_client()
        anonymous.cookie_jar = live["anonymous"].cookie_jar
        response = await post_login(anonymous, live["login_token"])
        assert response.status_code == 302 and "/mfa/challenge" in response.headers["Location"]
        token = await csrf_token(anonymous, "/mfa/challenge")
        assert csrf_signed_with(ENC_NEW, token) and not csrf_signed_with(ENC_OLD, token)
        response = await anonymous.post("/mfa/challenge", form={
            "code": pyotp.TOTP(live["secret"]).at(clock.now), "csrf_token": token})
        assert response.status_code == 302, await response.get_data(as_text=True)
        assert (await anonymous.get("/protected", headers=JSON)).status_code == 200
        # the new session cookie is signed with the new JWT key around the new Fernet key
        cookie = jar(anonymous)["session_token"]
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(cookie, JWT_OLD, algorithms=["HS256"])
        inner = jwt.decode(cookie, JWT_NEW, algorithms=["HS256"])["session"]
        Fernet(FERNET_NEW.encode()).decrypt(inner.encode())
        with pytest.raises(InvalidToken):
            Fernet(FERNET_OLD.encode()).decrypt(inner.encode())
        # a TOTP secret enrolled now is encrypted with the new Fernet key only
        sealed = rotated.encryptor.encrypt("JBSWY3DPEHPK3PXP")
        assert Fernet(FERNET_NEW.encode()).decrypt(sealed.encode()) == b"JBSWY3DPEHPK3PXP"


async def test_values_made_with_a_removed_key_are_refused(
        svc: AuthService, live: dict[str, Any], clock: FakeClock,
        app_settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    async with app_on_same_database(svc, app_settings, clock, DROPPED) as app:
        dropped = app.app.extensions["authtuna"].service
        cookies = "; ".join(f"{k}={v}" for k, v in live["cookies"].items())
        raw = app.app.test_client(use_cookies=False)
        response = await raw.get("/protected", headers={**JSON, "Cookie": cookies})
        assert response.status_code == 401
        assert dropped.devices.verify(live["cookies"]["authtuna_device"],
                                      live["user"].id) is None
        anonymous = app.test_client()
        anonymous.cookie_jar = live["anonymous"].cookie_jar
        response = await post_login(anonymous, live["login_token"])
        assert response.status_code == 400
        assert EXPIRED in await response.get_data(as_text=True)
        assert (await anonymous.get("/protected", headers=JSON)).status_code == 401
        # a TOTP secret no remaining Fernet key opens: the code is refused, loudly in the log,
        # and a recovery code still finishes the sign-in
        response = await post_login(anonymous, await csrf_token(anonymous, "/auth/login"))
        assert "/mfa/challenge" in response.headers["Location"]
        code = pyotp.TOTP(live["secret"]).at(clock.now)
        with caplog.at_level(logging.ERROR, logger="quart_authtuna"):
            response = await anonymous.post("/mfa/challenge", form={
                "code": code, "csrf_token": await csrf_token(anonymous, "/mfa/challenge")})
        assert response.status_code == 401
        assert any("AUTHTUNA_FERNET_KEYS" in r.getMessage() for r in caplog.records)
        response = await anonymous.post("/mfa/challenge", form={
            "code": live["codes"][0], "csrf_token": await csrf_token(anonymous, "/mfa/challenge")})
        assert response.status_code == 302
        assert (await anonymous.get("/protected", headers=JSON)).status_code == 200
    async with app_on_same_database(svc, app_settings, clock, ROTATED) as app:
        browser = app.test_client()
        browser.cookie_jar = live["browser"].cookie_jar
        assert (await browser.get("/protected", headers=JSON)).status_code == 200, (
            "the refused deploy changed nothing: rotation still works afterwards")
