"""PasskeyManager against a software authenticator: real keys, real CBOR, real signatures.

Every rejected response must leave the database as it was: no credential stored, no sign
count moved, no audit row, no mail (except the clone-suspected flag, which is the point).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from webauthn.helpers import base64url_to_bytes

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import PasskeyCredential, User
from quart_authtuna.core.errors import (
    AuthTunaError,
    InputError,
    InvalidCredentials,
    NotFound,
    TokenExpired,
    TokenInvalid,
)
from quart_authtuna.core.managers.passkeys import LOGIN, MFA
from quart_authtuna.testing.webauthn import (
    AT,
    ED,
    UP,
    UV,
    SoftAuthenticator,
    authenticator_data,
    malformed_attestation,
    with_field,
)
from tests._support.clock import FakeClock

SETTINGS: dict[str, Any] = {"WEBAUTHN_RP_ID": "localhost",
                            "WEBAUTHN_ORIGIN": ["http://localhost:8000"]}
pytestmark = pytest.mark.settings(**SETTINGS)
UV_PREFERRED = pytest.mark.settings(**SETTINGS, WEBAUTHN_USER_VERIFICATION="preferred")
BROWSER, OTHER_BROWSER = "browser-a", "browser-b"
WRONG_ORIGINS = [pytest.param("https://localhost:8000", id="scheme"),
                 pytest.param("http://localhost:8001", id="port"),
                 pytest.param("http://evil.localhost:8000", id="subdomain")]
#: Response tampering that the verifier must refuse, whichever ceremony it is.
BAD_FLAGS_AND_BINDINGS = [
    *[pytest.param({"origin": o.values[0]}, id=f"origin-{o.id}") for o in WRONG_ORIGINS],
    pytest.param({"rp_id": "evil.example"}, id="rp-id-hash"),
    pytest.param({"up": False}, id="up-cleared"),
    pytest.param({"uv": False}, id="uv-cleared-uv-required"),
]
TOKEN_REJECTED = (TokenInvalid, TokenExpired)


@pytest.fixture(name="auth")
def _auth() -> SoftAuthenticator:
    return SoftAuthenticator()


@pytest.fixture(name="user")
async def _user(user_factory) -> User:
    return await user_factory()


async def enrol(service: AuthService, auth: SoftAuthenticator, user: User,
                **create: Any) -> PasskeyCredential:
    options = await service.passkeys.registration_options(user, BROWSER)
    return await service.passkeys.register(user.id, auth.create(options, **create), BROWSER)


async def sign_in(service: AuthService, auth: SoftAuthenticator, **get: Any):
    options = await service.passkeys.authentication_options(BROWSER)
    return await service.passkeys.authenticate(auth.get(options, **get), BROWSER)


async def row(service: AuthService, credential_id: bytes) -> PasskeyCredential:
    async with service.transaction() as tx:
        found = await tx.get(PasskeyCredential, credential_id, populate_existing=True)
    assert found is not None
    return found


async def event_count(service: AuthService, kind: str) -> int:
    return len(await service.audit.get_events_by_type(kind))


async def mails(service: AuthService, kind: str) -> list[str]:
    await service.mail.drain()
    return [m.to for m in service.mail.outbox.messages if m.kind == kind]


async def assert_nothing_registered(service: AuthService, *users: User) -> None:
    for user in users:
        assert list(await service.passkeys.list(user.id)) == []
    assert await event_count(service, "PASSKEY_ADDED") == 0
    assert await mails(service, "passkey_added") == []


async def assert_untouched(service: AuthService, cred: PasskeyCredential, sign_count: int = 0,
                           logins: int = 0) -> None:
    now = await row(service, cred.id)
    assert (now.sign_count, now.flagged_at) == (sign_count, None)
    if not logins:
        assert now.last_used_at is None
    assert await event_count(service, "PASSKEY_LOGIN") == logins
    assert await event_count(service, "PASSKEY_CLONE_SUSPECTED") == 0


# ---- happy paths ----------------------------------------------------------------------------


async def test_register_then_discoverable_sign_in(service: AuthService, auth, user,
                                                  clock: FakeClock) -> None:
    options = await service.passkeys.registration_options(user, BROWSER)
    assert options["rp"]["id"] == "localhost"
    assert base64url_to_bytes(options["user"]["id"]) == user.id.encode()
    cred = await service.passkeys.register(user.id, auth.create(options), BROWSER, "Laptop")
    assert cred.id == auth.last_created.id and cred.nickname == "Laptop"

    options = await service.passkeys.authentication_options(BROWSER)
    assert options["allowCredentials"] == [] and options["rpId"] == "localhost"
    clock.advance(5)
    login = await service.passkeys.authenticate(auth.get(options), BROWSER)
    assert (login.user.id, login.credential.id, login.user_verified) == (user.id, cred.id, True)
    stored = await row(service, cred.id)
    assert (stored.sign_count, stored.last_used_at, stored.flagged_at) == (1, clock.now, None)
    assert await event_count(service, "PASSKEY_LOGIN") == 1
    # the next sign-in needs a fresh challenge and a higher counter, and gets both
    assert (await sign_in(service, auth)).user.id == user.id
    assert (await row(service, cred.id)).sign_count == 2


@pytest.mark.parametrize(("be", "bs"), [(False, False), (True, False), (True, True)])
async def test_stored_fields_come_from_the_authenticator(service: AuthService, user,
                                                         be: bool, bs: bool) -> None:
    aaguid = bytes.fromhex("00112233445566778899aabbccddeeff")
    auth = SoftAuthenticator(aaguid=aaguid, backup_eligible=be, backed_up=bs,
                             transports=("internal", "hybrid", "carrier-pigeon"))
    cred = await enrol(service, auth, user)
    stored = await row(service, cred.id)
    assert stored.user_id == user.id and stored.public_key == auth.last_created.cose_public_key()
    assert stored.sign_count == 0 and stored.aaguid == "00112233-4455-6677-8899-aabbccddeeff"
    assert (stored.is_backup_eligible, stored.is_backed_up) == (be, bs)
    assert stored.transports == ["internal", "hybrid"]  # unknown transports are dropped
    assert stored.is_discoverable and stored.flagged_at is None
    # a later registration excludes the keys the user already has
    options = await service.passkeys.registration_options(user, BROWSER)
    assert [base64url_to_bytes(c["id"]) for c in options["excludeCredentials"]] == [cred.id]


@pytest.mark.parametrize(("sent", "kept"), [(5, []), ("usb", []), ({"usb": 1}, []),
                                             ([1, "usb", None, "nfc"], ["usb", "nfc"])],
                         ids=["number", "string", "object", "mixed-list"])
async def test_odd_transports_are_ignored(service: AuthService, auth, user, sent: Any,
                                          kept: list[str]) -> None:
    options = await service.passkeys.registration_options(user, BROWSER)
    response = with_field(auth.create(options), "transports", sent)
    cred = await service.passkeys.register(user.id, response, BROWSER)
    assert (await row(service, cred.id)).transports == kept


async def test_backup_state_follows_the_latest_assertion(service: AuthService, user) -> None:
    auth = SoftAuthenticator(backup_eligible=True, backed_up=False)
    cred = await enrol(service, auth, user)
    auth.backed_up = True
    await sign_in(service, auth)
    assert (await row(service, cred.id)).is_backed_up


async def test_list_rename_delete_audit_and_mail(service: AuthService, auth, user,
                                                 user_factory, clock: FakeClock) -> None:
    other = await user_factory()
    first = await enrol(service, auth, user)
    clock.advance(1)
    second = await enrol(service, auth, user)
    theirs = await enrol(service, SoftAuthenticator(), other)
    assert [c.id for c in await service.passkeys.list(user.id)] == [first.id, second.id]

    await service.passkeys.rename(user.id, first.id, "  Phone  ")
    assert (await row(service, first.id)).nickname == "Phone"
    with pytest.raises(InputError):
        await service.passkeys.rename(user.id, first.id, "   ")
    with pytest.raises(NotFound):
        await service.passkeys.rename(user.id, theirs.id, "mine now")
    assert (await row(service, theirs.id)).nickname == "Passkey"

    with pytest.raises(NotFound):
        await service.passkeys.delete(user.id, theirs.id)
    assert [c.id for c in await service.passkeys.list(other.id)] == [theirs.id]
    await service.passkeys.delete(user.id, second.id)
    assert [c.id for c in await service.passkeys.list(user.id)] == [first.id]
    with pytest.raises(NotFound):
        await service.passkeys.delete(user.id, second.id)

    added = await service.audit.get_events_by_type("PASSKEY_ADDED")
    removed = await service.audit.get_events_by_type("PASSKEY_REMOVED")
    assert sorted(e.user_id for e in added) == sorted([user.id, user.id, other.id])
    assert [e.user_id for e in removed] == [user.id]
    assert sorted(await mails(service, "passkey_added")) == sorted(
        [user.email, user.email, other.email])
    assert await mails(service, "passkey_removed") == [user.email]


async def test_mfa_ceremony_with_the_users_own_key(service: AuthService, auth, user) -> None:
    cred = await enrol(service, auth, user)
    options = await service.passkeys.authentication_options(BROWSER, user.id, MFA)
    assert [base64url_to_bytes(c["id"]) for c in options["allowCredentials"]] == [cred.id]
    login = await service.passkeys.authenticate(auth.get(options), BROWSER, MFA, user.id)
    assert login.credential.id == cred.id


async def test_an_authenticator_without_a_counter_is_not_flagged(service: AuthService, auth,
                                                                 user) -> None:
    cred = await enrol(service, auth, user)
    for _ in range(3):  # synced passkeys always report 0
        await sign_in(service, auth, sign_count=0)
    assert (await row(service, cred.id)).flagged_at is None


@UV_PREFERRED
async def test_uv_preferred_accepts_presence_only(service: AuthService, auth, user) -> None:
    cred = await enrol(service, auth, user, uv=False)
    login = await sign_in(service, auth, uv=False)
    assert login.credential.id == cred.id and login.user_verified is False


# ---- rejected registrations -------------------------------------------------------------------


@pytest.mark.parametrize("tamper", [
    *BAD_FLAGS_AND_BINDINGS,
    pytest.param({"type_": "webauthn.get"}, id="type-webauthn.get"),
])
async def test_registration_rejected(service: AuthService, auth, user,
                                     tamper: dict[str, Any]) -> None:
    options = await service.passkeys.registration_options(user, BROWSER)
    with pytest.raises(InvalidCredentials):
        await service.passkeys.register(user.id, auth.create(options, **tamper), BROWSER)
    await assert_nothing_registered(service, user)


async def test_registration_response_works_once(service: AuthService, auth, user) -> None:
    options = await service.passkeys.registration_options(user, BROWSER)
    response = auth.create(options)
    await service.passkeys.register(user.id, response, BROWSER)
    with pytest.raises(TokenInvalid):
        await service.passkeys.register(user.id, response, BROWSER)
    # the same challenge answered by a brand-new credential is refused as well
    with pytest.raises(TokenInvalid):
        await service.passkeys.register(user.id, auth.create(options), BROWSER)
    assert len(await service.passkeys.list(user.id)) == 1
    assert await event_count(service, "PASSKEY_ADDED") == 1


async def test_registration_challenge_is_bound_to_browser_and_user(
    service: AuthService, auth, user, user_factory
) -> None:
    other = await user_factory()
    options = await service.passkeys.registration_options(user, BROWSER)
    with pytest.raises(TokenInvalid):
        await service.passkeys.register(user.id, auth.create(options), OTHER_BROWSER)
    options = await service.passkeys.registration_options(user, BROWSER)
    with pytest.raises(TokenInvalid):  # issued to `user`, presented for `other`
        await service.passkeys.register(other.id, auth.create(options), BROWSER)
    await assert_nothing_registered(service, user, other)


async def test_sign_in_challenge_cannot_register(service: AuthService, auth, user) -> None:
    registration = await service.passkeys.registration_options(user, BROWSER)
    for ceremony in (LOGIN, MFA):
        sign_in_options = await service.passkeys.authentication_options(BROWSER, user.id,
                                                                        ceremony)
        response = auth.create(registration, challenge=sign_in_options["challenge"])
        with pytest.raises(TokenInvalid):
            await service.passkeys.register(user.id, response, BROWSER)
    await assert_nothing_registered(service, user)


@pytest.mark.parametrize(("wait", "accepted"), [(119, True), (121, False)])
async def test_registration_challenge_lives_two_minutes(service: AuthService, auth, user,
                                                        clock: FakeClock, wait: float,
                                                        accepted: bool) -> None:
    options = await service.passkeys.registration_options(user, BROWSER)
    clock.advance(wait)
    if accepted:
        await service.passkeys.register(user.id, auth.create(options), BROWSER)
        return
    with pytest.raises(TOKEN_REJECTED):
        await service.passkeys.register(user.id, auth.create(options), BROWSER)
    await assert_nothing_registered(service, user)


# ---- rejected assertions ------------------------------------------------------------------------


@pytest.mark.parametrize("tamper", [
    *BAD_FLAGS_AND_BINDINGS,
    pytest.param({"type_": "webauthn.create"}, id="type-webauthn.create"),
])
async def test_assertion_rejected(service: AuthService, auth, user,
                                  tamper: dict[str, Any]) -> None:
    cred = await enrol(service, auth, user)
    with pytest.raises(InvalidCredentials):
        await sign_in(service, auth, **tamper)
    await assert_untouched(service, cred)
    assert (await sign_in(service, auth)).credential.id == cred.id  # the key still works


async def test_assertion_works_once(service: AuthService, auth, user) -> None:
    cred = await enrol(service, auth, user)
    options = await service.passkeys.authentication_options(BROWSER)
    response = auth.get(options)
    await service.passkeys.authenticate(response, BROWSER)
    with pytest.raises(TokenInvalid):
        await service.passkeys.authenticate(response, BROWSER)
    with pytest.raises(TokenInvalid):  # a fresh, higher-count assertion for a used challenge
        await service.passkeys.authenticate(auth.get(options), BROWSER)
    await assert_untouched(service, cred, sign_count=1, logins=1)


async def test_sign_in_challenge_is_bound_to_browser(service: AuthService, auth,
                                                     user) -> None:
    cred = await enrol(service, auth, user)
    options = await service.passkeys.authentication_options(BROWSER)
    with pytest.raises(TokenInvalid):
        await service.passkeys.authenticate(auth.get(options), OTHER_BROWSER)
    await assert_untouched(service, cred)


async def test_challenges_are_bound_to_their_ceremony(service: AuthService, auth,
                                                      user) -> None:
    cred = await enrol(service, auth, user)
    registration = await service.passkeys.registration_options(user, BROWSER)
    with pytest.raises(TokenInvalid):  # a registration challenge answered with an assertion
        await service.passkeys.authenticate(auth.get(registration), BROWSER)
    mfa = await service.passkeys.authentication_options(BROWSER, user.id, MFA)
    with pytest.raises(TokenInvalid):  # an MFA challenge presented as a sign-in
        await service.passkeys.authenticate(auth.get(mfa), BROWSER, LOGIN)
    login = await service.passkeys.authentication_options(BROWSER)
    with pytest.raises(TokenInvalid):  # a sign-in challenge presented as MFA
        await service.passkeys.authenticate(auth.get(login), BROWSER, MFA, user.id)
    await assert_untouched(service, cred)


@pytest.mark.parametrize(("wait", "accepted"), [(119, True), (121, False)])
async def test_sign_in_challenge_lives_two_minutes(service: AuthService, auth, user,
                                                   clock: FakeClock, wait: float,
                                                   accepted: bool) -> None:
    cred = await enrol(service, auth, user)
    options = await service.passkeys.authentication_options(BROWSER)
    clock.advance(wait)
    if accepted:
        await service.passkeys.authenticate(auth.get(options), BROWSER)
        return
    with pytest.raises(TOKEN_REJECTED):
        await service.passkeys.authenticate(auth.get(options), BROWSER)
    await assert_untouched(service, cred)


@pytest.mark.parametrize("replayed", [2, 1, 0], ids=["equal", "lower", "zero"])
async def test_counter_regression_flags_the_credential(service: AuthService, auth, user,
                                                       clock: FakeClock, replayed: int) -> None:
    cred = await enrol(service, auth, user)
    await sign_in(service, auth)
    await sign_in(service, auth)  # counter now 2
    clock.advance(10)
    with pytest.raises(InvalidCredentials):
        await sign_in(service, auth, sign_count=replayed)
    flagged = await row(service, cred.id)
    assert (flagged.sign_count, flagged.flagged_at) == (2, clock.now)
    clone = await service.audit.get_events_by_type("PASSKEY_CLONE_SUSPECTED")
    assert [e.user_id for e in clone] == [user.id]
    with pytest.raises(InvalidCredentials):  # the genuine authenticator is refused too now
        await sign_in(service, auth)
    assert (await row(service, cred.id)).sign_count == 2
    assert await event_count(service, "PASSKEY_LOGIN") == 2


async def test_mfa_refuses_another_users_key(service: AuthService, user, user_factory) -> None:
    other = await user_factory()
    mine, theirs = SoftAuthenticator(), SoftAuthenticator()
    await enrol(service, mine, user)
    their_cred = await enrol(service, theirs, other)
    options = await service.passkeys.authentication_options(BROWSER, user.id, MFA)
    with pytest.raises(InvalidCredentials):  # signed by the other user's (valid) key
        await service.passkeys.authenticate(theirs.get(options), BROWSER, MFA, user.id)
    options = await service.passkeys.authentication_options(BROWSER, user.id, MFA)
    with pytest.raises(TokenInvalid):  # and the challenge cannot be re-aimed at them
        await service.passkeys.authenticate(theirs.get(options), BROWSER, MFA, other.id)
    await assert_untouched(service, their_cred)


async def test_signature_by_another_key(service: AuthService, auth, user) -> None:
    cred = await enrol(service, auth, user)
    auth.replace_key(cred.id)
    with pytest.raises(InvalidCredentials):
        await sign_in(service, auth)
    await assert_untouched(service, cred)


async def test_unknown_credential(service: AuthService, auth, user) -> None:
    cred = await enrol(service, auth, user)
    stranger = SoftAuthenticator()
    stranger.create(await service.passkeys.registration_options(user, BROWSER))  # never sent
    with pytest.raises(InvalidCredentials):
        await sign_in(service, stranger)
    await assert_untouched(service, cred)


# ---- malformed input ----------------------------------------------------------------------------

Mutator = Callable[[dict[str, Any]], Any]


def _client_data(**fields: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Rewrite clientDataJSON keeping the real challenge; a None value drops the field."""
    def mutate(response: dict[str, Any]) -> dict[str, Any]:
        data = json.loads(base64url_to_bytes(response["response"]["clientDataJSON"]))
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        return with_field(response, "clientDataJSON", json.dumps(data).encode())
    return mutate


COMMON_MALFORMED: list[Any] = [
    pytest.param(lambda r: with_field(r, "clientDataJSON", "abcde"), id="cdata-bad-base64"),
    pytest.param(lambda r: with_field(r, "clientDataJSON", b"{not json"), id="cdata-not-json"),
    pytest.param(lambda r: with_field(r, "clientDataJSON", b"\xff\xfe"), id="cdata-not-utf8"),
    pytest.param(lambda r: with_field(r, "clientDataJSON", b"[1]"), id="cdata-array"),
    pytest.param(lambda r: with_field(r, "clientDataJSON", 7), id="cdata-number"),
    pytest.param(lambda r: with_field(r, "clientDataJSON"), id="cdata-missing"),
    pytest.param(_client_data(challenge=None), id="cdata-no-challenge"),
    pytest.param(_client_data(challenge="abcde"), id="cdata-challenge-bad-base64"),
    pytest.param(_client_data(origin=None), id="cdata-no-origin"),
    pytest.param(_client_data(origin=["http://localhost:8000"]), id="cdata-origin-list"),
    pytest.param(_client_data(type=None), id="cdata-no-type"),
    pytest.param(lambda r: with_field(r, "rawId", top=True), id="no-rawId"),
    pytest.param(lambda r: with_field(r, "rawId", bytes(32), top=True), id="rawId-not-id"),
    pytest.param(lambda r: with_field(r, "type", "password", top=True), id="wrong-type"),
    pytest.param(lambda r: with_field(r, "response", "garbage", top=True), id="response-str"),
    pytest.param(lambda r: with_field(r, "response", top=True), id="no-response"),
    pytest.param(lambda r: "{not json", id="body-not-json"),
    pytest.param(lambda r: "[]", id="body-json-array"),
    pytest.param(lambda r: json.dumps(r)[:-1], id="body-truncated-json"),
]


def _auth_data(raw: bytes) -> Mutator:
    return lambda r: with_field(r, "authenticatorData", raw)


@pytest.mark.parametrize("mutate", [
    *COMMON_MALFORMED,
    pytest.param(malformed_attestation, id="attestation-truncated-cbor"),
    pytest.param(lambda r: malformed_attestation(r, "not_a_map"), id="attestation-not-a-map"),
    pytest.param(lambda r: malformed_attestation(r, "array_key"), id="cose-key-array"),
    pytest.param(lambda r: malformed_attestation(r, "bad_key_cbor"), id="cose-key-bad-cbor"),
    pytest.param(lambda r: with_field(r, "attestationObject", cbor2.dumps(
        {"fmt": "none", "attStmt": {}})), id="attestation-no-authData"),
    pytest.param(lambda r: with_field(r, "attestationObject", cbor2.dumps(
        {"fmt": "none", "attStmt": [], "authData": b"x" * 40})), id="attestation-short"),
    pytest.param(lambda r: with_field(r, "attestationObject", "abcde"), id="attestation-base64"),
    pytest.param(lambda r: with_field(r, "attestationObject"), id="attestation-missing"),
])
async def test_malformed_registration(service: AuthService, auth, user,
                                      mutate: Mutator) -> None:
    options = await service.passkeys.registration_options(user, BROWSER)
    with pytest.raises(AuthTunaError) as caught:
        await service.passkeys.register(user.id, mutate(auth.create(options)), BROWSER)
    assert isinstance(caught.value, InvalidCredentials), repr(caught.value)
    await assert_nothing_registered(service, user)


@pytest.mark.parametrize("mutate", [
    *COMMON_MALFORMED,
    pytest.param(_auth_data(bytes(10)), id="authdata-truncated"),
    pytest.param(_auth_data(authenticator_data("localhost", UP | UV | ED, 5) + b"\xff\x00"),
                 id="authdata-extensions-bad-cbor"),
    pytest.param(_auth_data(authenticator_data("localhost", UP | UV | AT, 5) + b"\x00" * 18
                            + b"\xa5\x01"), id="authdata-attested-bad-cbor"),
    pytest.param(_auth_data(authenticator_data("localhost", UP | UV, 5) + b"\x00"),
                 id="authdata-leftover-bytes"),
    pytest.param(lambda r: with_field(r, "authenticatorData", "abcde"), id="authdata-base64"),
    pytest.param(lambda r: with_field(r, "authenticatorData"), id="authdata-missing"),
    pytest.param(lambda r: with_field(r, "signature", b"\x30\x00"), id="signature-bad-der"),
    pytest.param(lambda r: with_field(r, "signature", b""), id="signature-empty"),
    pytest.param(lambda r: with_field(r, "signature"), id="signature-missing"),
    pytest.param(lambda r: with_field(r, "userHandle", 5), id="userHandle-number"),
])
async def test_malformed_assertion(service: AuthService, auth, user, mutate: Mutator) -> None:
    cred = await enrol(service, auth, user)
    options = await service.passkeys.authentication_options(BROWSER)
    with pytest.raises(AuthTunaError) as caught:
        await service.passkeys.authenticate(mutate(auth.get(options)), BROWSER)
    assert isinstance(caught.value, InvalidCredentials), repr(caught.value)
    await assert_untouched(service, cred)
