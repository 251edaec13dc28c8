"""The service starts on each backend and seeds upstream's defaults exactly."""

from __future__ import annotations

from quart_authtuna.core import AuthService
from quart_authtuna.core.defaults import DEFAULT_PERMISSIONS, DEFAULT_ROLES


async def test_defaults_are_seeded(service: AuthService) -> None:
    names = {p.name for p in await service.permissions.list()}
    assert names == set(DEFAULT_PERMISSIONS)
    roles = {r.name: r.level for r in await service.roles.list()}
    assert roles == {name: spec[0] for name, spec in DEFAULT_ROLES.items()}
