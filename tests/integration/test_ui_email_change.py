"""Changing one's email address: a link to the new address, a notice to the old one, and the
change applied only when the link is confirmed, once; refusals change nothing."""

from __future__ import annotations

from typing import Any

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import User
from tests._support.clock import FakeClock
from tests._support.web import ORIGIN, submit, token_from_link
from tests.conftest import PASSWORD

JSON = {"Accept": "application/json", "Origin": ORIGIN}
CONFIRM = "/ui/profile/email/confirm"
NEW = "new.home@example.org"


async def request_change(client: Any, face: str, email: str = NEW) -> Any:
    return await submit(client, "/ui/profile/email", {"email": email}, face=face)


async def confirm(client: Any, face: str, token: str, page: str | None = None) -> Any:
    """POST the link's form; ``page`` supplies the CSRF token when the link's own page has
    no form any more (a spent link)."""
    return await submit(client, CONFIRM, {"token": token}, face=face,
                        page=page or f"{CONFIRM}?token={token}")


async def link_token(svc: AuthService, to: str = NEW) -> str:
    await svc.mail.drain()
    mail = svc.mail.outbox.last("email_change_confirm", to)
    assert mail is not None, f"no confirmation mail to {to}"
    assert f"http://testserver.local{CONFIRM}?token=" in mail.text
    return token_from_link(mail.text, CONFIRM)


async def reload(svc: AuthService, user_id: str) -> User:
    user = await svc.users.get_by_id(user_id)
    assert user is not None
    return user


async def test_change_email_end_to_end(client: Any, svc: AuthService, make_user: Any,
                                       login: Any, face: str) -> None:
    user = await make_user("vera")
    await login("vera")
    requested = await request_change(client, face)
    assert requested.status_code == (202 if face == "json" else 302)
    await svc.mail.drain()
    notice = svc.mail.outbox.last("email_change_notice", "vera@example.com")
    assert notice is not None and NEW in notice.text
    token = await link_token(svc)
    unchanged = await reload(svc, user.id)
    assert unchanged.email == "vera@example.com"  # nothing changes until confirmed
    profile = await (await client.get("/ui/profile")).get_data(as_text=True)
    assert "Waiting for confirmation" in profile and NEW in profile

    page = await client.get(f"{CONFIRM}?token={token}")
    assert page.status_code == 200 and NEW in await page.get_data(as_text=True)
    assert (await reload(svc, user.id)).email == "vera@example.com"  # GET changes nothing
    done = await confirm(client, face, token)
    assert done.status_code == 200
    changed = await reload(svc, user.id)
    assert changed.email == NEW and changed.email_verified
    again = await confirm(client, face, token, page="/ui/profile")
    assert again.status_code == 400  # single use
    me = await (await client.get("/protected", headers=JSON)).get_json()
    assert me["email"] == NEW  # the session re-read the account
    assert svc.mail.outbox.last("email_change_confirm", "vera@example.com") is None


async def test_confirming_voids_reset_links_and_signs_in_by_the_new_address(
        client: Any, app: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    user = await make_user("wanda")
    reset = await svc.request_password_reset("wanda@example.com")
    assert reset is not None
    await login("wanda")
    async with svc.transaction() as tx:  # e.g. an admin-made account, never verified
        row = await tx.get(User, user.id)
        assert row is not None
        row.email_verified = False
    await request_change(client, "json")
    await confirm(client, "json", await link_token(svc))
    refused = await submit(app.test_client(), "/auth/reset-password",
                           {"token": reset.raw, "new_password": "another fine passphrase"},
                           face="json")
    assert refused.status_code == 400
    assert (await reload(svc, user.id)).email_verified
    other = await app.test_client().post(
        "/auth/login", json={"username_or_email": NEW, "password": PASSWORD}, headers=JSON)
    assert other.status_code == 200


async def test_an_address_taken_meanwhile_is_409_and_changes_nothing(
        client: Any, svc: AuthService, make_user: Any, login: Any, face: str) -> None:
    user = await make_user("xena")
    await login("xena")
    await request_change(client, face)
    token = await link_token(svc)
    await make_user("yuri", email=NEW.upper())
    refused = await confirm(client, face, token)
    assert refused.status_code == 409
    if face == "json":
        assert (await refused.get_json())["errors"][0]["code"] == "account_exists"
    else:
        assert "belongs to another account" in await refused.get_data(as_text=True)
    assert (await reload(svc, user.id)).email == "xena@example.com"
    assert (await svc.flows.email_change.pending(token)) == NEW  # the link is not spent


async def test_a_taken_address_gets_no_link_and_the_answer_is_the_same(
        client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    await make_user("zoe")
    await make_user("owner", email="owner@example.org")
    await login("zoe")
    taken = await request_change(client, "json", "owner@example.org")
    free = await request_change(client, "json", "free@example.org")
    assert taken.status_code == free.status_code == 202
    await svc.mail.drain()
    assert svc.mail.outbox.last("email_change_confirm", "owner@example.org") is None
    assert svc.mail.outbox.last("email_change_confirm", "free@example.org") is not None


async def test_requests_are_refused_without_a_fresh_sign_in_and_change_nothing(
        client: Any, svc: AuthService, make_user: Any, login: Any, clock: FakeClock) -> None:
    user = await make_user("adam")
    await login("adam")
    clock.advance(svc.settings.reauthentication_seconds + 1)
    stale = await client.post("/ui/profile/email", json={"email": NEW}, headers=JSON)
    assert stale.status_code == 401
    assert (await stale.get_json())["errors"][0]["code"] == "reauthentication_required"
    page = await client.get("/ui/profile/email")
    assert page.status_code == 302 and "/auth/reauthenticate" in page.headers["Location"]
    await svc.mail.drain()
    assert svc.mail.outbox.last("email_change_confirm") is None
    assert (await reload(svc, user.id)).email == "adam@example.com"


async def test_bad_requests_are_refused(client: Any, svc: AuthService, make_user: Any,
                                        login: Any, face: str) -> None:
    await make_user("bella")
    await login("bella")
    for email, code in (("not-an-address", "invalid_email"),
                        ("BELLA@example.com", "same_email")):
        response = await request_change(client, face, email)
        assert response.status_code == 400
        if face == "json":
            assert (await response.get_json())["errors"][0]["code"] == code
    await svc.mail.drain()
    assert svc.mail.outbox.last("email_change_confirm") is None
    assert svc.mail.outbox.last("email_change_notice") is None


async def test_a_newer_request_voids_the_older_link_and_links_expire(
        client: Any, svc: AuthService, make_user: Any, login: Any, clock: FakeClock) -> None:
    user = await make_user("carl")
    await login("carl")
    await request_change(client, "json", "first@example.org")
    first = await link_token(svc, "first@example.org")
    await request_change(client, "json", "second@example.org")
    second = await link_token(svc, "second@example.org")
    assert (await confirm(client, "json", first)).status_code == 400  # replaced
    clock.advance(svc.settings.tokens_expiry_seconds + 1)
    expired = await confirm(client, "json", second)
    assert expired.status_code == 400
    assert (await expired.get_json())["errors"][0]["code"] == "token_expired"
    assert (await reload(svc, user.id)).email == "carl@example.com"


async def test_the_link_page_for_a_bad_token_says_so_without_a_button(client: Any) -> None:
    page = await client.get(f"{CONFIRM}?token=nope")
    html = await page.get_data(as_text=True)
    assert page.status_code == 200 and "invalid or has already been used" in html
    assert "Confirm new address" not in html


async def test_confirming_drops_every_cached_session_of_the_user(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    await make_user("dina")
    await login("dina")
    elsewhere = app.test_client()
    await elsewhere.post("/auth/login", json={"username_or_email": "dina",
                                              "password": PASSWORD}, headers=JSON)
    assert (await (await elsewhere.get("/protected", headers=JSON)).get_json())["email"] == \
        "dina@example.com"
    await request_change(client, "json")
    await confirm(client, "json", await link_token(svc))
    seen = await (await elsewhere.get("/protected", headers=JSON)).get_json()
    assert seen["email"] == NEW
