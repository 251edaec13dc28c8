"""Issue 8 item 1's attempt limits over HTTP again, with the counters and pending MFA logins in
Redis (AUTHTUNA_STATE_BACKEND=redis): the same tests, the same figures expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from quart_authtuna.core import AuthService
from quart_authtuna.core.redis_state import RedisChallengeStore, RedisThrottle
from tests._support.databases import database_overrides
from tests._support.redis_state import RedisState, redis_state  # noqa: F401 - the fixture
from tests.integration.conftest import build_app
from tests.integration.test_sec_attempts import (  # noqa: F401 - collected here again
    JSON,
    test_parallel_wrong_codes_for_one_pending_login_verify_at_most_five,
    test_parallel_wrong_codes_over_six_pending_logins_verify_at_most_five,
    test_parallel_wrong_passwords_from_many_addresses_verify_at_most_the_limit,
)


@pytest.fixture(name="app_settings")
def _app_settings(app_settings: dict[str, Any], redis_state: RedisState  # noqa: F811
                  ) -> dict[str, Any]:
    return {**app_settings, **redis_state.settings}


async def test_the_app_keeps_its_attempt_state_in_redis(
        svc: AuthService, redis_state: RedisState, make_user: Any,  # noqa: F811
        app: Any) -> None:
    assert isinstance(svc.throttle, RedisThrottle)
    assert isinstance(svc.challenges, RedisChallengeStore)
    await make_user("counted")
    await app.test_client().post("/auth/login", json={"username_or_email": "counted",
                                                      "password": "not it at all"},
                                 headers=JSON)
    assert any(":acct:id:" in key for key in await redis_state.keys())


async def test_with_redis_down_a_sign_in_answers_503_and_is_not_let_through_unlimited(
        backend: str, tmp_path: Path, app_settings: dict[str, Any]) -> None:
    async with database_overrides(backend, tmp_path) as db:
        app = build_app({**app_settings, **db, "REDIS_URL": "redis://127.0.0.1:1/0"})
        async with app.test_app() as test_app:
            response = await test_app.test_client().post(
                "/auth/login", json={"username_or_email": "anyone", "password": "whatever"},
                headers=JSON)
    assert response.status_code == 503
    assert (await response.get_json())["errors"][0]["code"] == "unavailable"
