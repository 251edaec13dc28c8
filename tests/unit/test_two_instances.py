"""Two AuthService instances in one process stay apart: databases, settings, hashes, signals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from quart_authtuna.core import AuthService, InvalidCredentials, Settings, signals
from quart_authtuna.core.crypto.passwords import hash_rounds
from tests._support.clock import FakeClock
from tests._support.databases import database_overrides

PASSWORD = "correct horse battery staple"


@dataclass
class Pair:
    a: AuthService
    b: AuthService


@pytest.fixture(name="pair")
async def _pair(backend: str, tmp_path: Path,
                settings_for: Callable[..., Settings]) -> AsyncIterator[Pair]:
    per_instance: dict[str, dict[str, Any]] = {
        "a": {"APP_NAME": "Alpha", "BCRYPT_ROUNDS": 4, "PASSWORD_PEPPER": "alpha-" + "a" * 40},
        "b": {"APP_NAME": "Beta", "BCRYPT_ROUNDS": 5, "PASSWORD_PEPPER": "beta-" + "b" * 40},
    }
    async with AsyncExitStack() as stack:
        services: dict[str, AuthService] = {}
        for name, extra in per_instance.items():
            folder = tmp_path / name
            folder.mkdir()
            db = await stack.enter_async_context(database_overrides(backend, folder))
            svc = AuthService(settings_for(**db, **extra), clock=FakeClock())
            await svc.start()
            stack.push_async_callback(svc.close)
            services[name] = svc
        yield Pair(services["a"], services["b"])


async def test_both_instances_start_and_seed_their_own_defaults(pair: Pair) -> None:
    for svc in (pair.a, pair.b):
        assert await svc.users.get_by_username("superadmin") is not None
        assert {r.name for r in await svc.roles.list()} >= {"User", "Admin", "SuperAdmin"}


async def test_user_created_in_a_is_not_visible_in_b(pair: Pair) -> None:
    user = await pair.a.users.create("alice@example.com", "alice", PASSWORD, email_verified=True)
    assert await pair.a.users.get_by_id(user.id) is not None
    assert await pair.b.users.get_by_id(user.id) is None
    assert await pair.b.users.get_by_email("alice@example.com") is None
    assert await pair.b.users.get_by_username("alice") is None
    assert await pair.a.users.count() == await pair.b.users.count() + 1


async def test_same_identifiers_can_exist_in_both_databases(pair: Pair) -> None:
    in_a = await pair.a.users.create("alice@example.com", "alice", PASSWORD, email_verified=True)
    in_b = await pair.b.users.create("alice@example.com", "alice", PASSWORD, email_verified=True)
    assert in_a.id != in_b.id
    assert (await pair.a.users.get_by_username("alice")).id == in_a.id  # type: ignore[union-attr]
    assert (await pair.b.users.get_by_username("alice")).id == in_b.id  # type: ignore[union-attr]


async def test_each_instance_honours_its_own_app_name_and_rounds(pair: Pair) -> None:
    assert pair.a.settings.app_name == "Alpha"
    assert pair.b.settings.app_name == "Beta"
    assert (pair.a.settings.bcrypt_rounds, pair.b.settings.bcrypt_rounds) == (4, 5)
    in_a = await pair.a.users.create("alice@example.com", "alice", PASSWORD, email_verified=True)
    in_b = await pair.b.users.create("bob@example.com", "bob", PASSWORD, email_verified=True)
    assert hash_rounds(in_a.password_hash) == 4
    assert hash_rounds(in_b.password_hash) == 5
    stored_a = await pair.a.users.get_by_id(in_a.id)
    stored_b = await pair.b.users.get_by_id(in_b.id)
    assert stored_a is not None and stored_b is not None
    assert hash_rounds(stored_a.password_hash) == 4
    assert hash_rounds(stored_b.password_hash) == 5


async def test_each_instance_peppers_with_its_own_key(pair: Pair) -> None:
    in_a = await pair.a.users.create("alice@example.com", "alice", PASSWORD, email_verified=True)
    assert await pair.a.passwords.verify(PASSWORD, in_a.password_hash)
    assert not await pair.b.passwords.verify(PASSWORD, in_a.password_hash)


async def test_login_only_works_on_the_instance_holding_the_user(pair: Pair) -> None:
    await pair.a.users.create("alice@example.com", "alice", PASSWORD, email_verified=True)
    user, issued = await pair.a.login("alice", PASSWORD)
    assert user.username == "alice"
    assert await pair.a.sessions.get(issued.raw_id) is not None
    assert await pair.b.sessions.get(issued.raw_id) is None
    with pytest.raises(InvalidCredentials):
        await pair.b.login("alice", PASSWORD)


async def test_signals_can_be_told_apart_by_sender(pair: Pair) -> None:
    seen: list[tuple[str, str]] = []

    def on_a(sender: AuthService, *, user: Any) -> None:
        seen.append(("a", user.username))

    def on_b(sender: AuthService, *, user: Any) -> None:
        seen.append(("b", user.username))

    with signals.user_created.connected_to(on_a, sender=pair.a), \
            signals.user_created.connected_to(on_b, sender=pair.b):
        await pair.a.users.create("alice@example.com", "alice", PASSWORD, email_verified=True)
        await pair.b.users.create("bob@example.com", "bob", PASSWORD, email_verified=True)
    assert seen == [("a", "alice"), ("b", "bob")]


async def test_closing_a_leaves_b_working(pair: Pair) -> None:
    await pair.a.users.create("alice@example.com", "alice", PASSWORD, email_verified=True)
    await pair.a.close()
    with pytest.raises(RuntimeError):
        await pair.a.users.get_by_username("alice")
    created = await pair.b.users.create("bob@example.com", "bob", PASSWORD, email_verified=True)
    user, _ = await pair.b.login("bob", PASSWORD)
    assert user.id == created.id
    assert await pair.b.users.get_by_username("alice") is None


async def test_a_restarts_after_close_and_still_has_its_data(pair: Pair) -> None:
    created = await pair.a.users.create("alice@example.com", "alice", PASSWORD, email_verified=True)
    await pair.a.close()
    await pair.a.start()
    found = await pair.a.users.get_by_username("alice")
    assert found is not None and found.id == created.id
    assert await pair.b.users.get_by_username("alice") is None
