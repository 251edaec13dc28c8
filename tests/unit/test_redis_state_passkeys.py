"""The passkey manager's tests again with its ceremony challenges in Redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from quart_authtuna.core.settings import Settings
from tests._support.redis_state import RedisState, redis_state  # noqa: F401 - the fixture
from tests.conftest import TEST_SETTINGS
from tests.unit.test_passkeys import *  # noqa: F403 - collected here again
from tests.unit.test_passkeys import _auth, _user  # noqa: F401 - its fixtures


@pytest.fixture(name="settings_for")
def _settings_for(request: pytest.FixtureRequest, redis_state: RedisState  # noqa: F811
                  ) -> Callable[..., Settings]:
    marker = request.node.get_closest_marker("settings")
    marked = dict(marker.kwargs) if marker else {}

    def build(**extra: Any) -> Settings:
        return Settings.from_sources(overrides={**TEST_SETTINGS, **marked,
                                                **redis_state.settings, **extra})

    return build
