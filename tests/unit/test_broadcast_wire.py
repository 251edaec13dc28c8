"""The broadcast message format and the choice of broadcaster (no broker needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from quart_authtuna.core import ConfigurationError, Settings
from quart_authtuna.core.broadcast.choice import broadcaster_kind
from quart_authtuna.core.broadcast.wire import MAX_MESSAGE, channel_for, decode, encode
from quart_authtuna.core.revocation import RevocationEvent

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def settings(**values: Any) -> Settings:
    return Settings.from_sources(overrides=values)


def test_an_event_round_trips_as_a_remote_hint() -> None:
    [message] = encode(RevocationEvent("user_changed", ("u1",)), "me")
    assert json.loads(message) == {"o": "me", "k": "user_changed", "i": ["u1"]}
    assert decode(message) == ("me", RevocationEvent("user_changed", ("u1",), remote=True))
    [everyone] = encode(RevocationEvent("grants_changed"), "me")
    assert decode(everyone) == ("me", RevocationEvent("grants_changed", remote=True))


def test_many_ids_are_split_under_the_notify_limit() -> None:
    ids = tuple(f"{n:064x}" for n in range(1000))
    messages = encode(RevocationEvent("sessions_ended", ids), "me")
    assert len(messages) > 1
    assert all(len(m.encode()) <= MAX_MESSAGE for m in messages)
    carried = [i for m in messages for i in decode(m)[1].ids]  # type: ignore[index]
    assert tuple(carried) == ids


@pytest.mark.parametrize("message", [
    "", "not json", "[]", '{"o": "x", "k": "drop_tables", "i": []}',
    '{"o": "x", "k": "reconnected", "i": []}', '{"o": "x", "k": "user_changed", "i": [1]}',
    '{"o": 1, "k": "user_changed", "i": []}', '{"o": "x", "k": "user_changed", "i": "u1"}',
])
def test_malformed_messages_are_ignored(message: str) -> None:
    assert decode(message) is None


def test_the_channel_is_shared_by_one_database_and_schema_only() -> None:
    one = channel_for(settings(DEFAULT_DATABASE_URI=PG, DATABASE_SCHEMA="s1"))
    assert one == channel_for(settings(DEFAULT_DATABASE_URI=PG.replace("127.0.0.1", "db"),
                                       DATABASE_SCHEMA="s1"))
    assert one != channel_for(settings(DEFAULT_DATABASE_URI=PG, DATABASE_SCHEMA="s2"))
    assert one != channel_for(settings(DEFAULT_DATABASE_URI=PG.replace("/test", "/other"),
                                       DATABASE_SCHEMA="s1"))
    assert one.startswith("authtuna_rev_") and len(one) < 63


def test_auto_picks_redis_then_postgres_then_local() -> None:
    assert broadcaster_kind(settings()) == "local"  # SQLite
    assert broadcaster_kind(settings(DEFAULT_DATABASE_URI=PG)) == "postgres"
    assert broadcaster_kind(settings(DEFAULT_DATABASE_URI=PG,
                                     REDIS_URL="redis://127.0.0.1:6379/0")) == "redis"
    assert broadcaster_kind(settings(DEFAULT_DATABASE_URI=PG,
                                     REVOCATION_BROADCASTER="local")) == "local"


def test_bad_broadcaster_settings_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="REVOCATION_BROADCASTER must be one of"):
        settings(REVOCATION_BROADCASTER="carrier-pigeon").checked()
    with pytest.raises(ConfigurationError, match="needs AUTHTUNA_REDIS_URL"):
        settings(REVOCATION_BROADCASTER="redis").checked()
    with pytest.raises(ConfigurationError, match="postgres needs a PostgreSQL database"):
        settings(REVOCATION_BROADCASTER="postgres").checked()
    with pytest.raises(ConfigurationError, match="HEALTHZ_PATH must start with /"):
        settings(HEALTHZ_PATH="healthz").checked()


def test_the_redis_url_is_masked() -> None:
    assert "hunter2" not in repr(settings(REDIS_URL="redis://:hunter2@127.0.0.1:6379/0"))
