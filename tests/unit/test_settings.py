"""Settings: upstream defaults, source precedence, strict keys, production checks, no leaks."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from quart_authtuna.core import AuthService, ConfigurationError, Secret, Settings
from quart_authtuna.core.settings import DEV_ENCRYPTION_KEY, DEV_JWT_SECRET

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAMES = (
    "AUTHTUNA_JWT_SECRET_KEY",
    "AUTHTUNA_ENCRYPTION_PRIMARY_KEY",
    "AUTHTUNA_FERNET_KEYS",
    "AUTHTUNA_PASSWORD_PEPPER",
)


def production_settings(**extra: Any) -> Settings:
    """Settings that pass every production check."""
    return Settings.from_sources(overrides={
        "PRODUCTION": True,
        "JWT_SECRET_KEY": "prod-jwt-" + "J" * 40,
        "ENCRYPTION_PRIMARY_KEY": "prod-enc-" + "E" * 40,
        "FERNET_KEYS": [Fernet.generate_key().decode()],
        "PASSWORD_PEPPER": "prod-pepper-" + "P" * 40,
        "API_BASE_URL": "https://auth.example.com",
        **extra,
    })


def warnings_from(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records
            if r.name == "quart_authtuna" and r.levelno == logging.WARNING]


# ---- defaults --------------------------------------------------------------------------


def test_defaults_equal_upstream_for_a_sample_of_names() -> None:
    s = Settings.from_sources()
    assert s.app_name == "AuthTuna"
    assert s.session_db_verification_interval == 10
    assert s.session_token_name == "session_token"
    assert s.strategy == "AUTO"
    assert s.max_login_attempts_per_user == 5
    assert s.tokens_expiry_seconds == 3600
    assert s.default_database_uri.reveal() == "sqlite+aiosqlite:///./authtuna_dev.db"
    assert (s.api_key_prefix_secret, s.api_key_prefix_publishable,
            s.api_key_prefix_master) == ("sk", "pk", "mk")
    assert s.webauthn_rp_id == "localhost"
    assert s.random_string_grace == 300
    assert s.email_domains == ("*",)
    assert s.production is False


def test_from_sources_with_no_sources_equals_the_dataclass_defaults() -> None:
    assert Settings.from_sources(config={}, environ={}, overrides={}) == Settings()


# ---- precedence ------------------------------------------------------------------------

INT_NAME = "MAX_LOGIN_ATTEMPTS_PER_USER"


@pytest.mark.parametrize(("layers", "expected"), [
    ({}, 5),
    ({"environ": "7"}, 7),
    ({"environ": "7", "config": "8"}, 8),
    ({"environ": "7", "config": "8", "overrides": 9}, 9),
    ({"environ": "7", "overrides": "9"}, 9),
    ({"config": 8, "overrides": 9}, 9),
], ids=["default", "env", "config-over-env", "override-over-all", "override-over-env",
        "override-over-config"])
def test_int_precedence_overrides_config_environ_default(
        layers: dict[str, Any], expected: int) -> None:
    s = Settings.from_sources(
        config={f"AUTHTUNA_{INT_NAME}": layers["config"]} if "config" in layers else None,
        environ={f"AUTHTUNA_{INT_NAME}": layers["environ"]} if "environ" in layers else None,
        overrides={INT_NAME: layers["overrides"]} if "overrides" in layers else None,
    )
    assert s.max_login_attempts_per_user == expected
    assert isinstance(s.max_login_attempts_per_user, int)


@pytest.mark.parametrize(("layers", "expected"), [
    ({}, True),
    ({"environ": "false"}, False),
    ({"environ": "false", "config": "1"}, True),
    ({"environ": "1", "config": "false"}, False),
    ({"environ": "false", "config": "1", "overrides": "false"}, False),
    ({"environ": "false", "config": "false", "overrides": "1"}, True),
], ids=["default", "env-false", "config-1-over-env", "config-false-over-env",
        "override-false-over-all", "override-1-over-all"])
def test_bool_strings_follow_the_same_precedence(layers: dict[str, str], expected: bool) -> None:
    s = Settings.from_sources(
        config={"AUTHTUNA_MFA_ENABLED": layers["config"]} if "config" in layers else None,
        environ={"AUTHTUNA_MFA_ENABLED": layers["environ"]} if "environ" in layers else None,
        overrides={"MFA_ENABLED": layers["overrides"]} if "overrides" in layers else None,
    )
    assert s.mfa_enabled is expected


@pytest.mark.parametrize("raw", ["a.example, b.example", '["a.example", "b.example"]'],
                         ids=["comma", "json"])
@pytest.mark.parametrize("source", ["environ", "config", "overrides"])
def test_lists_accept_a_comma_string_or_a_json_list(source: str, raw: str) -> None:
    key = "EMAIL_DOMAINS" if source == "overrides" else "AUTHTUNA_EMAIL_DOMAINS"
    s = Settings.from_sources(**{source: {key: raw}})
    assert s.email_domains == ("a.example", "b.example")


def test_list_precedence_overrides_config_environ() -> None:
    env = {"AUTHTUNA_EMAIL_DOMAINS": "env.example"}
    cfg = {"AUTHTUNA_EMAIL_DOMAINS": '["cfg.example"]'}
    assert Settings.from_sources(environ=env).email_domains == ("env.example",)
    assert Settings.from_sources(config=cfg, environ=env).email_domains == ("cfg.example",)
    assert Settings.from_sources(config=cfg, environ=env, overrides={
        "EMAIL_DOMAINS": "one.example,two.example"}).email_domains == (
        "one.example", "two.example")


def test_overrides_accept_prefixed_and_lowercase_names() -> None:
    s = Settings.from_sources(overrides={"AUTHTUNA_APP_NAME": "Prefixed", "strategy": "COOKIE"})
    assert (s.app_name, s.strategy) == ("Prefixed", "COOKIE")


def test_config_keys_without_the_prefix_are_ignored() -> None:
    s = Settings.from_sources(config={"APP_NAME": "Ignored", "SECRET_KEY": "x", "DEBUG": True})
    assert s.app_name == "AuthTuna"


# ---- strict keys and bad values --------------------------------------------------------


@pytest.mark.parametrize("source", ["config", "overrides"])
def test_unknown_authtuna_key_is_rejected_by_name(source: str) -> None:
    key = "AUTHTUNA_SESION_TOKEN_NAME" if source == "config" else "SESION_TOKEN_NAME"
    with pytest.raises(ConfigurationError) as info:
        Settings.from_sources(**{source: {key: "x"}})
    assert "AUTHTUNA_SESION_TOKEN_NAME" in str(info.value)
    assert any("AUTHTUNA_SESION_TOKEN_NAME" in p for p in info.value.problems)


def test_every_unknown_key_is_listed_at_once() -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_sources(config={"AUTHTUNA_FIRST_TYPO": 1}, overrides={"SECOND_TYPO": 2})
    assert "AUTHTUNA_FIRST_TYPO" in str(info.value)
    assert "AUTHTUNA_SECOND_TYPO" in str(info.value)
    assert len(info.value.problems) == 2


def test_unknown_environment_variables_are_ignored() -> None:
    s = Settings.from_sources(environ={
        "AUTHTUNA_TEST_DATABASE_URL": "postgresql+asyncpg://elsewhere/db",
        "AUTHTUNA_SOMETHING_ELSE": "1",
        "PATH": "/usr/bin",
    })
    assert s == Settings()


@pytest.mark.parametrize("source", ["environ", "config", "overrides"])
def test_bad_int_value_is_rejected_naming_the_key(source: str) -> None:
    key = "SMTP_PORT" if source == "overrides" else "AUTHTUNA_SMTP_PORT"
    with pytest.raises(ConfigurationError) as info:
        Settings.from_sources(**{source: {key: "abc"}})
    assert "AUTHTUNA_SMTP_PORT" in str(info.value)


@pytest.mark.parametrize(("name", "value"), [
    ("MFA_ENABLED", "maybe"),
    ("EMAIL_DOMAINS", '["unclosed.example"'),
    ("BCRYPT_ROUNDS", True),
])
def test_other_bad_values_are_rejected_naming_the_key(name: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_sources(overrides={name: value})
    assert f"AUTHTUNA_{name}" in str(info.value)


def test_bad_environment_value_is_not_read_when_a_higher_source_wins() -> None:
    s = Settings.from_sources(environ={"AUTHTUNA_SMTP_PORT": "abc"},
                              overrides={"SMTP_PORT": 2525})
    assert s.smtp_port == 2525


# ---- production ------------------------------------------------------------------------


def test_production_with_default_secrets_names_each_missing_secret() -> None:
    s = Settings.from_sources(overrides={"PRODUCTION": True})
    with pytest.raises(ConfigurationError) as info:
        s.checked()
    for name in SECRET_NAMES:
        assert name in str(info.value)
        assert any(name in problem for problem in info.value.problems), name


def test_production_rejects_a_plain_http_base_url_and_cheap_bcrypt() -> None:
    with pytest.raises(ConfigurationError) as info:
        production_settings(API_BASE_URL="http://auth.example.com", BCRYPT_ROUNDS=4).checked()
    message = str(info.value)
    assert "AUTHTUNA_API_BASE_URL" in message and "AUTHTUNA_BCRYPT_ROUNDS" in message
    assert not any(name in message for name in SECRET_NAMES)


def test_production_rejects_short_secrets() -> None:
    with pytest.raises(ConfigurationError) as info:
        production_settings(JWT_SECRET_KEY="short", PASSWORD_PEPPER="also-short").checked()
    assert "AUTHTUNA_JWT_SECRET_KEY" in str(info.value)
    assert "AUTHTUNA_PASSWORD_PEPPER" in str(info.value)


def test_production_with_every_secret_set_returns_settings_unchanged(
        caplog: pytest.LogCaptureFixture) -> None:
    s = production_settings()
    with caplog.at_level(logging.WARNING, logger="quart_authtuna"):
        assert s.checked() is s
    assert warnings_from(caplog) == []


def test_auth_service_refuses_production_with_default_secrets() -> None:
    s = Settings.from_sources(overrides={"PRODUCTION": True})
    with pytest.raises(ConfigurationError) as info:
        AuthService(s)
    assert "AUTHTUNA_JWT_SECRET_KEY" in str(info.value)


def test_auth_service_keeps_good_production_settings_as_given() -> None:
    s = production_settings()
    assert AuthService(s).settings is s


# ---- development -----------------------------------------------------------------------


def test_development_logs_one_warning_naming_generated_secrets(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="quart_authtuna"):
        checked = Settings().checked()
    records = warnings_from(caplog)
    assert len(records) == 1
    message = records[0].getMessage()
    for name in SECRET_NAMES:
        assert name in message
    for generated in (checked.jwt_secret_key, checked.encryption_primary_key,
                      checked.password_pepper, *checked.fernet_keys):
        assert generated is not None
        assert generated.reveal() not in message


def test_development_fills_in_usable_random_secrets(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="quart_authtuna"):
        checked = Settings().checked()
    assert checked.jwt_secret_key is not None
    assert checked.jwt_secret_key.reveal() != DEV_JWT_SECRET
    assert len(checked.jwt_secret_key.reveal()) >= 32
    assert checked.encryption_primary_key is not None
    assert checked.encryption_primary_key.reveal() != DEV_ENCRYPTION_KEY
    assert checked.password_pepper is not None
    assert len(checked.password_pepper.reveal()) >= 32
    assert len(checked.fernet_keys) == 1
    fernet = Fernet(checked.fernet_keys[0].reveal())
    assert fernet.decrypt(fernet.encrypt(b"round trip")) == b"round trip"
    assert checked.missing_secrets() == []


def test_development_generates_different_secrets_each_time(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="quart_authtuna"):
        first, second = Settings().checked(), Settings().checked()
    for name in ("jwt_secret_key", "encryption_primary_key", "password_pepper", "fernet_keys"):
        assert getattr(first, name) != getattr(second, name), name
    assert len(warnings_from(caplog)) == 2


def test_development_keeps_secrets_that_were_set(caplog: pytest.LogCaptureFixture) -> None:
    jwt = Secret("my-own-jwt-secret-" + "k" * 30)
    s = Settings.from_sources(overrides={"JWT_SECRET_KEY": jwt})
    with caplog.at_level(logging.WARNING, logger="quart_authtuna"):
        checked = s.checked()
    assert checked.jwt_secret_key == jwt
    message = warnings_from(caplog)[0].getMessage()
    assert "AUTHTUNA_JWT_SECRET_KEY" not in message
    assert "AUTHTUNA_PASSWORD_PEPPER" in message


def test_development_with_every_secret_set_logs_nothing(
        caplog: pytest.LogCaptureFixture, settings_for: Callable[..., Settings]) -> None:
    s = settings_for()
    with caplog.at_level(logging.WARNING, logger="quart_authtuna"):
        assert s.checked() is s
    assert warnings_from(caplog) == []


# ---- values that never work ------------------------------------------------------------


def test_password_min_length_below_8_is_refused_even_in_development(
        settings_for: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigurationError) as info:
        settings_for(PASSWORD_MIN_LENGTH=7).checked()
    assert "AUTHTUNA_PASSWORD_MIN_LENGTH" in str(info.value)
    with pytest.raises(ConfigurationError):
        Settings.from_sources(overrides={"PASSWORD_MIN_LENGTH": 7}).checked()


def test_password_min_length_of_8_is_accepted(settings_for: Callable[..., Settings]) -> None:
    s = settings_for(PASSWORD_MIN_LENGTH=8)
    assert s.checked().password_min_length == 8


@pytest.mark.parametrize(("name", "value"), [
    ("FERNET_KEYS", ["not-a-fernet-key"]),
    ("BCRYPT_ROUNDS", 3),
    ("STRATEGY", "SESSION"),
    ("ALGORITHM", "none"),
])
def test_impossible_values_are_refused_in_development(
        settings_for: Callable[..., Settings], name: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        settings_for(**{name: value}).checked()
    assert f"AUTHTUNA_{name}" in str(info.value)


# ---- no secret leaks -------------------------------------------------------------------


def test_repr_and_str_show_no_secret_value(settings_for: Callable[..., Settings]) -> None:
    jwt = "RECOGNISABLE-jwt-secret-0123456789abcdef"
    assert len(jwt) == 40
    fernet = Fernet.generate_key().decode()
    s = settings_for(
        JWT_SECRET_KEY=jwt,
        FERNET_KEYS=[fernet],
        JWT_FALLBACK_SECRET_KEYS=["RECOGNISABLE-old-jwt-secret-0123456789ab"],
        SMTP_PASSWORD="RECOGNISABLE-smtp-password",
        GOOGLE_CLIENT_SECRET="RECOGNISABLE-google-secret",
        DEFAULT_DATABASE_URI="postgresql+asyncpg://app:RECOGNISABLE-db-pw@db/app",
    )
    for text in (repr(s), str(s)):
        assert jwt not in text
        assert fernet not in text
        assert "RECOGNISABLE" not in text
        assert s.password_pepper is not None
        assert s.password_pepper.reveal() not in text
    assert "jwt_secret_key=Secret('**********')" in repr(s)
    assert "app_name='AuthTuna'" in repr(s)


def test_configuration_error_does_not_echo_secret_values() -> None:
    pepper = "RECOGNISABLE-short"
    with pytest.raises(ConfigurationError) as info:
        production_settings(PASSWORD_PEPPER=pepper).checked()
    assert pepper not in str(info.value)


# ---- import has no side effects --------------------------------------------------------


def test_importing_the_core_creates_no_files_and_loads_no_quart(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "import quart_authtuna.core\n"
        "from quart_authtuna.core import AuthService, Settings\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('quart', 'werkzeug'))\n"
        "print(','.join(loaded))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
    assert result.stderr == ""
    assert list(tmp_path.iterdir()) == []
