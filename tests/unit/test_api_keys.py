"""API keys against a real database: format, HMAC storage, types, scopes, intersection
semantics, revocation, expiry, limits, the validation cache and the last_used_at throttle."""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import ApiKey, ApiKeyScope, AuditEvent, User
from quart_authtuna.core.errors import (
    AccountSuspended,
    EscalationDenied,
    InputError,
    NotFound,
)
from quart_authtuna.core.managers import api_keys as api_keys_module
from quart_authtuna.core.managers.api_key_cache import PrincipalCache
from quart_authtuna.core.managers.api_keys import (
    MAX_VALID_SECONDS,
    ApiKeyManager,
    parse_scopes,
)
from tests._support.clock import FakeClock
from tests._support.queries import recorded_statements

Factory = Callable[..., Awaitable[User]]
KEY_RE = re.compile(r"^(sk|pk|mk|test)_[A-Za-z0-9]{28}\.[A-Za-z0-9]{64}$")


def updates_of_last_used(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("UPDATE")
            and "last_used_at" in s]


async def stored(service: AuthService, key_id: str) -> ApiKey | None:
    async with service.transaction() as tx:
        return await tx.get(ApiKey, key_id)


# ---- format and storage ------------------------------------------------------------------


async def test_format_prefixes_and_hmac_only_storage(service: AuthService,
                                                    user_factory: Factory) -> None:
    user = await user_factory()
    issued = {kind: await service.api_keys.create_key(user.id, kind, key_type=kind)
              for kind in ("secret", "publishable", "master", "test")}
    prefixes = {"secret": "sk_", "publishable": "pk_", "master": "mk_", "test": "test_"}
    types = {"secret": "SECRET", "publishable": "PUBLIC", "master": "MASTER", "test": "TEST"}
    for kind, key in issued.items():
        assert KEY_RE.match(key.plaintext), key.plaintext
        assert key.plaintext.startswith(prefixes[kind])
        assert key.id == key.plaintext.split(".")[0]
        row = await stored(service, key.id)
        assert row is not None and row.key_type == types[kind]
        assert row.hashed_key == service.passwords.hmac_digest(key.plaintext)
        assert key.plaintext.split(".")[1] not in row.hashed_key
    async with service.transaction() as tx:
        dump = repr([(r.id, r.hashed_key, r.name) for r in (await tx.scalars(select(ApiKey)))])
        audit = repr([e.details for e in await tx.scalars(select(AuditEvent))])
    for key in issued.values():
        secret = key.plaintext.split(".")[1]
        assert secret not in dump and secret not in audit
    listed = await service.api_keys.get_all_keys_for_user(user.id)
    assert {r.id for r in listed} == {k.id for k in issued.values()}
    assert not any(hasattr(r, "plaintext") for r in listed)


async def test_constant_time_compare_is_used_for_known_and_unknown_ids(
        service: AuthService, user_factory: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    user = await user_factory()
    key = await service.api_keys.create_key(user.id, "k")
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(api_keys_module.hmac, "compare_digest", spy)
    wrong = key.id + "." + "x" * 64
    assert await service.api_keys.validate_key(wrong) is None
    assert await service.api_keys.validate_key("sk_" + "A" * 28 + "." + "y" * 64) is None
    assert await service.api_keys.validate_key(key.plaintext) is not None
    assert len(calls) == 3  # every lookup, found or not, ends in compare_digest
    assert all(len(a) == len(b) == 64 for a, b in calls)


@pytest.mark.parametrize("junk", ["", "no-dot", ".", "sk_abc.", ".secret", "x" * 300,
                                  "a" * 70 + ".b"])
async def test_malformed_plaintext_is_refused_without_error(service: AuthService,
                                                            junk: str) -> None:
    assert await service.api_keys.validate_key(junk) is None


async def test_tampered_secret_and_deleted_key_are_refused(service: AuthService,
                                                           user_factory: Factory) -> None:
    user = await user_factory()
    key = await service.api_keys.create_key(user.id, "k")
    head, secret = key.plaintext.split(".")
    flipped = secret[:-1] + ("a" if secret[-1] != "a" else "b")
    assert await service.api_keys.validate_key(f"{head}.{flipped}") is None
    assert await service.api_keys.validate_key(key.plaintext) is not None  # now cached
    other = await user_factory()
    with pytest.raises(NotFound):
        await service.api_keys.delete_key(key.id, user_id=other.id)
    assert await service.api_keys.validate_key(key.plaintext) is not None
    await service.api_keys.delete_key(key.id, user_id=user.id)
    assert await service.api_keys.validate_key(key.plaintext) is None  # at once, not in 10 s
    async with service.transaction() as tx:
        events = [e.event_type for e in await tx.scalars(
            select(AuditEvent).where(AuditEvent.user_id == user.id))]
    assert "API_KEY_CREATED" in events and "API_KEY_DELETED" in events
    with pytest.raises(NotFound):
        await service.api_keys.delete_key(key.id)


# ---- creation rules ------------------------------------------------------------------------


def test_parse_scopes_splits_on_the_first_colon() -> None:
    assert parse_scopes(["Admin", "OrgAdmin:org:x", "TeamLead:org:x/team:y", "Admin"]) == [
        ("Admin", "global"), ("OrgAdmin", "org:x"), ("TeamLead", "org:x/team:y")]
    for bad in ([":org:x"], ["Admin:bad scope"], ["Admin:a//b"]):
        with pytest.raises(InputError) as caught:
            parse_scopes(bad)
        assert caught.value.errors[0].code == "invalid_scope"
    with pytest.raises(TypeError):
        parse_scopes("Admin")


async def test_scopes_must_be_held_and_obey_type_rules(service: AuthService,
                                                      user_factory: Factory) -> None:
    user = await user_factory(roles=[("OrgAdmin", "org:x")])
    ok = await service.api_keys.create_key(user.id, "k", scopes=["User", "OrgAdmin:org:x"])
    assert ok.scopes == ("User:global", "OrgAdmin:org:x")
    assert await service.api_keys.get_key_scopes(ok.id) == [
        ("OrgAdmin", "org:x"), ("User", "global")]
    for scopes in (["Admin"], ["OrgAdmin"], ["OrgAdmin:org:y"], ["NoSuchRole"]):
        with pytest.raises(InputError) as caught:
            await service.api_keys.create_key(user.id, "k", scopes=scopes)
        assert caught.value.errors[0].code == "scope_not_held"
    for kind in ("publishable", "master"):
        with pytest.raises(InputError) as caught:
            await service.api_keys.create_key(user.id, "k", key_type=kind, scopes=["User"])
        assert caught.value.errors[0].code == "scopes_not_allowed"
    test_key = await service.api_keys.create_key(user.id, "t", key_type="test", scopes=["User"])
    assert test_key.scopes == ("User:global",)
    for kwargs, code in (({"key_type": "bogus"}, "invalid_key_type"),
                         ({"valid_seconds": 0}, "invalid_validity"),
                         ({"valid_seconds": -5}, "invalid_validity")):
        with pytest.raises(InputError) as caught:
            await service.api_keys.create_key(user.id, "k", **kwargs)
        assert caught.value.errors[0].code == code
    for name in ("", "   ", "n" * 101):
        with pytest.raises(InputError):
            await service.api_keys.create_key(user.id, name)


@pytest.mark.settings(MAX_SCOPES_PER_SECRET_KEY=1)
async def test_scope_limit_applies_to_secret_keys_only(service: AuthService,
                                                      user_factory: Factory) -> None:
    user = await user_factory(roles=[("OrgAdmin", "org:x")])
    with pytest.raises(InputError) as caught:
        await service.api_keys.create_key(user.id, "k", scopes=["User", "OrgAdmin:org:x"])
    assert caught.value.errors[0].code == "too_many_scopes"
    await service.api_keys.create_key(user.id, "t", key_type="test",
                                      scopes=["User", "OrgAdmin:org:x"])


@pytest.mark.settings(MAX_MASTER_KEYS_PER_USER=1, MAX_API_KEYS_PER_USER=3)
async def test_key_limits(service: AuthService, user_factory: Factory,
                          clock: FakeClock) -> None:
    user = await user_factory()
    await service.api_keys.create_key(user.id, "m1", key_type="master")
    with pytest.raises(InputError) as caught:
        await service.api_keys.create_key(user.id, "m2", key_type="master")
    assert caught.value.errors[0].code == "master_key_limit_reached"
    await service.api_keys.create_key(user.id, "s1", valid_seconds=60)
    await service.api_keys.create_key(user.id, "s2")
    with pytest.raises(InputError) as caught:
        await service.api_keys.create_key(user.id, "s3")
    assert caught.value.errors[0].code == "key_limit_reached"
    clock.advance(61)  # an expired key no longer counts
    await service.api_keys.create_key(user.id, "s3")


async def test_validity_is_capped_at_three_years(service: AuthService, user_factory: Factory,
                                                 clock: FakeClock) -> None:
    user = await user_factory()
    key = await service.api_keys.create_key(user.id, "k", valid_seconds=100 * 365 * 86_400)
    assert key.row.expires_at == clock.now + MAX_VALID_SECONDS
    default = await service.api_keys.create_key(user.id, "d")
    assert default.row.expires_at == clock.now + 365 * 86_400


async def test_master_key_cannot_be_minted_by_an_api_key_request(
        service: AuthService, user_factory: Factory) -> None:
    user = await user_factory(roles=[("Admin", "global")])
    with pytest.raises(EscalationDenied):
        await service.api_keys.create_key(user.id, "m", key_type="master",
                                          creator_session_is_api_key=True)
    creator = await service.api_keys.create_key(user.id, "c", scopes=["User"])
    principal = await service.api_keys.validate_key(creator.plaintext)
    assert principal is not None
    with pytest.raises(EscalationDenied):  # a User-scoped key cannot mint an Admin-scoped one
        await service.api_keys.create_key(user.id, "wider", scopes=["Admin"],
                                          creator_session_is_api_key=True,
                                          creator_grants=principal.grants)
    await service.api_keys.create_key(user.id, "same", scopes=["User"],
                                      creator_session_is_api_key=True,
                                      creator_grants=principal.grants)
    await service.api_keys.create_key(user.id, "m", key_type="master")


async def test_suspended_user_cannot_create_and_keys_stop_at_once(
        service: AuthService, user_factory: Factory) -> None:
    user = await user_factory()
    key = await service.api_keys.create_key(user.id, "k", key_type="master")
    assert await service.api_keys.validate_key(key.plaintext) is not None
    await service.users.suspend_user(user.id, "system")
    assert await service.api_keys.validate_key(key.plaintext) is None
    with pytest.raises(AccountSuspended):
        await service.api_keys.create_key(user.id, "k2")
    await service.users.unsuspend_user(user.id, "system")
    assert await service.api_keys.validate_key(key.plaintext) is not None


# ---- effective grants ----------------------------------------------------------------------


async def test_key_scoped_to_user_cannot_use_admin_permissions(service: AuthService,
                                                               user_factory: Factory) -> None:
    user = await user_factory(roles=[("Admin", "global")])
    narrow = await service.api_keys.create_key(user.id, "narrow", scopes=["User"])
    master = await service.api_keys.create_key(user.id, "master", key_type="master")
    public = await service.api_keys.create_key(user.id, "pk", key_type="publishable")
    n = await service.api_keys.validate_key(narrow.plaintext)
    m = await service.api_keys.validate_key(master.plaintext)
    p = await service.api_keys.validate_key(public.plaintext)
    assert n is not None and m is not None and p is not None
    assert not n.grants.has_permission("admin:manage:users", "global")
    assert not n.grants.has_role("Admin", "global") and n.grants.has_role("User", "global")
    assert m.grants.has_permission("admin:manage:users", "global")
    assert p.is_publishable and not p.grants.roles and not p.grants.permissions


async def test_org_scoped_key_gets_permissions_at_that_scope_only(
        service: AuthService, user_factory: Factory) -> None:
    user = await user_factory(roles=[("OrgAdmin", "org:x"), ("OrgOwner", "org:y")])
    key = await service.api_keys.create_key(user.id, "k", scopes=["OrgAdmin:org:x"])
    principal = await service.api_keys.validate_key(key.plaintext)
    assert principal is not None
    grants = principal.grants
    assert grants.has_permission("team:create", "org:x")
    assert grants.has_permission("team:create", "org:x/team:1")
    assert not grants.has_permission("team:create", "global")
    assert not grants.has_permission("team:create", "org:y")  # the user's OrgOwner at org:y
    assert not grants.has_permission("org:manage", "org:x")  # OrgOwner's, not OrgAdmin's


async def test_revoking_the_role_removes_it_from_the_key(service: AuthService,
                                                        user_factory: Factory) -> None:
    user = await user_factory(roles=[("OrgAdmin", "org:x")])
    key = await service.api_keys.create_key(user.id, "k", scopes=["OrgAdmin:org:x", "User"])
    before = await service.api_keys.validate_key(key.plaintext)
    assert before is not None and before.grants.has_permission("team:create", "org:x")
    await service.roles.remove_from_user(user.id, "OrgAdmin", "system", scope="org:x")
    after = await service.api_keys.validate_key(key.plaintext)  # same process: immediate
    assert after is not None and not after.grants.has_permission("team:create", "org:x")
    async with service.transaction() as tx:  # the composite FK cascade deleted the row
        rows = (await tx.scalars(select(ApiKeyScope).where(
            ApiKeyScope.api_key_id == key.id))).all()
    assert [(r.scope) for r in rows] == ["global"]
    await service.roles.assign_to_user(user.id, "OrgAdmin", "system", scope="org:x")
    again = await service.api_keys.validate_key(key.plaintext)  # re-granting does not return
    assert again is not None and not again.grants.has_permission("team:create", "org:x")


async def test_master_key_follows_live_roles(service: AuthService,
                                             user_factory: Factory) -> None:
    user = await user_factory()
    key = await service.api_keys.create_key(user.id, "m", key_type="master")
    first = await service.api_keys.validate_key(key.plaintext)
    assert first is not None and not first.grants.has_permission("admin:access:panel")
    await service.roles.assign_to_user(user.id, "Moderator", "system", scope="global")
    second = await service.api_keys.validate_key(key.plaintext)
    assert second is not None and second.grants.has_permission("admin:access:panel")
    await service.roles.remove_from_user(user.id, "Moderator", "system")
    third = await service.api_keys.validate_key(key.plaintext)
    assert third is not None and not third.grants.has_permission("admin:access:panel")


async def test_role_definition_change_reaches_cached_keys(service: AuthService,
                                                          user_factory: Factory) -> None:
    user = await user_factory(roles=[("OrgAdmin", "org:x")])
    key = await service.api_keys.create_key(user.id, "k", scopes=["OrgAdmin:org:x"])
    assert (await service.api_keys.validate_key(key.plaintext)) is not None
    await service.roles.add_permission_to_role("OrgAdmin", "org:manage")
    principal = await service.api_keys.validate_key(key.plaintext)
    assert principal is not None and principal.grants.has_permission("org:manage", "org:x")


# ---- expiry, cache and last_used_at -------------------------------------------------------


async def test_expired_key_is_refused_even_when_cached(service: AuthService,
                                                       user_factory: Factory,
                                                       clock: FakeClock) -> None:
    user = await user_factory()
    key = await service.api_keys.create_key(user.id, "k", valid_seconds=30)
    assert await service.api_keys.validate_key(key.plaintext) is not None
    clock.advance(29)
    assert await service.api_keys.validate_key(key.plaintext) is not None
    clock.advance(1)
    assert await service.api_keys.validate_key(key.plaintext) is None


async def test_last_used_at_is_written_at_most_once_a_minute(
        service: AuthService, user_factory: Factory, clock: FakeClock) -> None:
    user = await user_factory()
    key = await service.api_keys.create_key(user.id, "k")
    start = clock.now
    with recorded_statements(service) as seen:
        for _ in range(5):  # five uses over 28 s; the cache expires twice in between
            assert await service.api_keys.validate_key(key.plaintext) is not None
            clock.advance(7)
    assert len(updates_of_last_used(seen)) == 1
    row = await stored(service, key.id)
    assert row is not None and row.last_used_at == start
    clock.advance(60)
    with recorded_statements(service) as seen:
        assert await service.api_keys.validate_key(key.plaintext) is not None
    assert len(updates_of_last_used(seen)) == 1
    row = await stored(service, key.id)
    assert row is not None and row.last_used_at == clock.now


async def test_another_process_sees_the_throttle_in_the_database(
        service: AuthService, user_factory: Factory, clock: FakeClock) -> None:
    user = await user_factory()
    key = await service.api_keys.create_key(user.id, "k")
    assert await service.api_keys.validate_key(key.plaintext) is not None
    first = (await stored(service, key.id)).last_used_at  # type: ignore[union-attr]
    other_process = ApiKeyManager(  # its own cache and throttle, the same database
        service.db, service.clock, service.settings, service.audit, service.passwords,
        service.rbac, service.revocation, PrincipalCache())
    clock.advance(20)
    with recorded_statements(service) as seen:
        assert await other_process.validate_key(key.plaintext) is not None
    assert updates_of_last_used(seen) == []  # it read last_used_at: no write is due yet
    assert (await stored(service, key.id)).last_used_at == first  # type: ignore[union-attr]


@pytest.mark.settings(SESSION_DB_VERIFICATION_INTERVAL=4)
async def test_cache_lifetime_follows_the_verification_interval(
        service: AuthService, user_factory: Factory, clock: FakeClock) -> None:
    user = await user_factory()
    key = await service.api_keys.create_key(user.id, "k")
    await service.api_keys.validate_key(key.plaintext)
    with recorded_statements(service) as seen:
        clock.advance(3)
        await service.api_keys.validate_key(key.plaintext)
    assert seen == []
    with recorded_statements(service) as seen:
        clock.advance(1)
        await service.api_keys.validate_key(key.plaintext)
    assert any("api_keys" in s for s in seen)


async def test_cache_is_keyed_by_digest_never_plaintext(service: AuthService,
                                                        user_factory: Factory) -> None:
    user = await user_factory()
    key = await service.api_keys.create_key(user.id, "k")
    await service.api_keys.validate_key(key.plaintext)
    cache = service.api_keys.cache
    assert len(cache) == 1
    assert key.plaintext not in repr(vars(cache))
    assert key.plaintext.split(".")[1] not in repr(vars(cache))


async def test_cached_validation_is_free_of_sql(service: AuthService, user_factory: Factory,
                                                backend: str) -> None:
    """A micro-measurement (printed, not asserted): 1,000 cached vs 1,000 uncached."""
    user = await user_factory(roles=[("OrgAdmin", "org:x")])
    key = await service.api_keys.create_key(user.id, "k", scopes=["OrgAdmin:org:x"])
    manager = service.api_keys
    assert await manager.validate_key(key.plaintext) is not None
    with recorded_statements(service) as seen:
        started = time.perf_counter()
        for _ in range(1000):
            assert await manager.validate_key(key.plaintext) is not None
        cached = time.perf_counter() - started
    assert seen == []
    with recorded_statements(service) as seen:
        started = time.perf_counter()
        for _ in range(1000):
            manager.cache.clear()
            assert await manager.validate_key(key.plaintext) is not None
        uncached = time.perf_counter() - started
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 2000
    print(f"\n[{backend}] 1,000 API-key validations: cached {cached * 1000:.1f} ms, "
          f"uncached {uncached * 1000:.1f} ms ({uncached / max(cached, 1e-9):.0f}x)")
