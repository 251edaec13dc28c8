"""Shared fixtures: a real database per test (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from quart_authtuna.core import AuthService, Settings
from quart_authtuna.core.db.models import User
from tests._support.clock import FakeClock
from tests._support.databases import (
    BACKENDS,
    PG_URL_ENV,
    database_overrides,
    in_ci,
    postgres_url,
)

#: Fast but complete settings; individual tests add to them with @pytest.mark.settings(...).
TEST_SETTINGS: dict[str, Any] = {
    "BCRYPT_ROUNDS": 4,
    "PASSWORD_PEPPER": "test-pepper-" + "p" * 40,
    "JWT_SECRET_KEY": "test-jwt-secret-" + "j" * 40,
    "ENCRYPTION_PRIMARY_KEY": "test-encryption-key-" + "e" * 40,
    "FERNET_KEYS": [Fernet.generate_key().decode()],
}
PASSWORD = "correct horse battery staple"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "settings(**values): extra AuthTuna settings for a test")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if postgres_url() is None:
        terminalreporter.write_line(
            f"PostgreSQL leg SKIPPED: set {PG_URL_ENV} to run every database test on PostgreSQL "
            "too (CI does).", yellow=True)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each database test runs once per backend."""
    if request.param == "postgresql" and postgres_url() is None:
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL leg: {PG_URL_ENV} is not set")
        pytest.skip(f"PostgreSQL leg skipped: {PG_URL_ENV} is not set")
    return str(request.param)


@pytest.fixture(name="clock")
def _clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(name="settings_for")
def _settings_for(request: pytest.FixtureRequest) -> Callable[..., Settings]:
    """Build Settings from TEST_SETTINGS, the test's settings marker and extra overrides."""
    marker = request.node.get_closest_marker("settings")
    marked = dict(marker.kwargs) if marker else {}

    def build(**extra: Any) -> Settings:
        return Settings.from_sources(overrides={**TEST_SETTINGS, **marked, **extra})

    return build


@pytest.fixture(name="service")
async def _service(backend: str, tmp_path: Path, clock: FakeClock,
                   settings_for: Callable[..., Settings]) -> AsyncIterator[AuthService]:
    async with database_overrides(backend, tmp_path) as db:
        svc = AuthService(settings_for(**db), clock=clock)
        await svc.start()
        try:
            yield svc
        finally:
            await svc.close()


@pytest.fixture(name="user_factory")
def _user_factory(service: AuthService) -> Callable[..., Awaitable[User]]:
    """Create users with unique names; ``roles`` is a list of (role, scope) given by system."""
    counter = iter(range(1, 1_000_000))

    async def make(username: str | None = None, *, password: str | None = PASSWORD,
                   roles: list[tuple[str, str]] = (), **kwargs: Any) -> User:  # type: ignore[assignment]
        n = next(counter)
        name = username or f"user{n}"
        kwargs.setdefault("email_verified", True)
        user = await service.users.create(email=kwargs.pop("email", f"{name}@example.com"),
                                          username=name, password=password, **kwargs)
        for role, scope in roles:
            await service.roles.assign_to_user(user.id, role, "system", scope=scope)
        return user

    return make
