"""The MFA, passkey-first and social sign-in journeys again, their pending challenges and
counters in Redis (AUTHTUNA_STATE_BACKEND=redis): every test of those modules unchanged, but
two that edit the challenge's database row."""

from __future__ import annotations

from typing import Any

import pytest

from tests._support.redis_state import RedisState, redis_state  # noqa: F401 - the fixture
from tests._support.sso import _dev_provider, _sso_app  # noqa: F401 - fixtures
from tests.integration.test_mfa_web import *  # noqa: F403 - collected here again
from tests.integration.test_passkey_first import *  # noqa: F403
from tests.integration.test_sso_failures import *  # noqa: F403

# These two edit the stored challenge row in the database (the Redis hash is not there).
for _name in ("test_missing_pkce_verifier_is_refused_before_the_provider",
              "test_wrong_pkce_verifier_is_refused_by_the_provider"):
    del globals()[_name]


@pytest.fixture(name="app_settings")
def _app_settings(app_settings: dict[str, Any], redis_state: RedisState  # noqa: F811
                  ) -> dict[str, Any]:
    return {**app_settings, **redis_state.settings}
