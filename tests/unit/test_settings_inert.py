"""Settings fail loudly: inert ones warn when set, None means "not set", weak rotation keys
are refused in production."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import Field, fields
from typing import Any

import pytest
from quart import Quart

from quart_authtuna import AuthTuna
from quart_authtuna.core import AuthService, ConfigurationError, Settings
from quart_authtuna.core.settings import DEV_ENCRYPTION_KEY, DEV_JWT_SECRET
from tests.conftest import TEST_SETTINGS
from tests.unit.test_settings import production_settings

INERT = [f for f in fields(Settings) if f.metadata["inert"]]
SECRET_VALUE = "RECOGNISABLE-inert-secret-" + "s" * 20


def set_value(fld: Field[Any]) -> Any:
    """A value other than the default, of the field's kind."""
    kind, default = fld.metadata["kind"], fld.default
    if kind == "bool":
        return not default
    if kind == "int":
        return default + 1
    if kind == "secret":
        return SECRET_VALUE
    return f"{default or ''}x"


def inert_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "quart_authtuna"
            and r.levelno == logging.WARNING and "does nothing" in r.getMessage()]


@pytest.mark.parametrize("fld", INERT, ids=[f.name for f in INERT])
def test_each_inert_setting_warns_naming_itself_when_set(
        fld: Field[Any], settings_for: Callable[..., Settings],
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="quart_authtuna"):
        AuthService(settings_for(**{fld.name: set_value(fld)}))
    [message] = inert_warnings(caplog)
    assert message.startswith(f"AUTHTUNA_{fld.name.upper()} is set but does nothing: ")
    assert any(m in message for m in ("Not yet built", "Ignored"))
    assert SECRET_VALUE not in message


def test_defaults_warn_about_nothing(settings_for: Callable[..., Settings],
                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="quart_authtuna"):
        AuthService(settings_for())
    assert inert_warnings(caplog) == []


def test_the_extension_warns_once_per_setting_at_startup(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="quart_authtuna"):
        AuthTuna(Quart(__name__), **TEST_SETTINGS, RPC_ENABLED=True,
                 WEBAUTHN_ENABLED=True, PII_HMAC_KEY=SECRET_VALUE)  # the last one is built
    names = sorted(m.split(" ", 1)[0] for m in inert_warnings(caplog))
    assert names == ["AUTHTUNA_RPC_ENABLED", "AUTHTUNA_WEBAUTHN_ENABLED"]
    assert "PASSKEYS_ENABLED" in " ".join(inert_warnings(caplog))


# ---- None means "not set" ------------------------------------------------------------------

def test_seed_init_settings_with_unset_variables_keeps_the_defaults(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed's ``fetch_secrets()`` passes ``os.environ.get(...)``: None when unset."""
    monkeypatch.delenv("API_BASE_URL", raising=False)
    monkeypatch.delenv("FERNET_KEYS", raising=False)

    def fetch_secrets() -> dict[str, Any]:
        import os
        return {
            "API_BASE_URL": os.environ.get("API_BASE_URL"),
            "FERNET_KEYS": os.environ.get("FERNET_KEYS"),
        }

    settings = Settings.from_sources(overrides=fetch_secrets())
    assert settings.api_base_url == "http://localhost:5000"
    assert settings.fernet_keys == ()
    assert settings == Settings()


def test_none_falls_through_to_the_next_source() -> None:
    s = Settings.from_sources(
        config={"AUTHTUNA_APP_NAME": None, "AUTHTUNA_SMTP_HOST": None},
        environ={"AUTHTUNA_APP_NAME": "From env", "AUTHTUNA_EMAIL_DOMAINS": "a.example"},
        overrides={"APP_NAME": None, "SMTP_PORT": None, "EMAIL_DOMAINS": None,
                   "JWT_SECRET_KEY": None})
    assert (s.app_name, s.smtp_host, s.smtp_port) == ("From env", None, 587)
    assert s.email_domains == ("a.example",)
    assert s.jwt_secret_key == Settings().jwt_secret_key


def test_extension_keyword_none_keeps_the_default_base_url() -> None:
    ext = AuthTuna(Quart(__name__), **TEST_SETTINGS, API_BASE_URL=None)
    assert ext.settings is not None
    assert ext.settings.api_base_url == "http://localhost:5000"
    assert ext.settings.webauthn_origin == ("http://localhost:5000",)


def test_replace_refuses_none_for_a_required_value() -> None:
    with pytest.raises(ValueError, match="None"):
        Settings().replace(api_base_url=None)
    assert Settings().replace(smtp_host=None).smtp_host is None


# ---- rotation keys and PII in production ---------------------------------------------------

@pytest.mark.parametrize("name", ["JWT_FALLBACK_SECRET_KEYS", "ENCRYPTION_SECONDARY_KEYS"])
@pytest.mark.parametrize("weak", ["RECOGNISABLE-old", DEV_JWT_SECRET, DEV_ENCRYPTION_KEY])
def test_production_refuses_weak_rotation_keys(name: str, weak: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        production_settings(**{name: ["old-but-strong-" + "k" * 30, weak]}).checked()
    assert f"AUTHTUNA_{name}" in str(info.value)
    assert weak not in str(info.value)


def test_production_accepts_strong_rotation_keys() -> None:
    s = production_settings(JWT_FALLBACK_SECRET_KEYS=["old-jwt-" + "k" * 30],
                            ENCRYPTION_SECONDARY_KEYS=["old-enc-" + "k" * 30])
    assert s.checked() is s


def test_pii_key_is_required_in_production_only(settings_for: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigurationError) as info:
        production_settings(PII_ENCRYPTION_ENABLED=True).checked()
    assert "AUTHTUNA_PII_HMAC_KEY" in str(info.value)
    development = settings_for(PII_ENCRYPTION_ENABLED=True)
    assert development.checked() is development, "no ephemeral key for a feature not built"
