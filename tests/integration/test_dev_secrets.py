"""Development secrets live in the app's instance folder and survive a restart; production
still refuses to start without real ones; ``quart authtuna init`` writes a .env of them."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from quart import Quart

from quart_authtuna import AuthTuna, current_user, login_required
from quart_authtuna.cli import cli
from quart_authtuna.core import Settings
from quart_authtuna.core.dev_secrets import NAMES, PACKAGE_DIR, load_or_create
from quart_authtuna.core.errors import ConfigurationError
from tests._support.databases import database_overrides
from tests._support.web import signed_in_client

PASSWORD = "a long passphrase of my own"


def make_app(instance: Path, db: dict[str, str]) -> Quart:
    """What a newcomer writes: no secrets configured, only where the database is."""
    app = Quart(__name__, instance_path=str(instance))
    app.config.update({f"AUTHTUNA_{k}": v for k, v in db.items()})
    app.config["AUTHTUNA_BCRYPT_ROUNDS"] = 4
    AuthTuna(app)

    @app.get("/me")
    @login_required
    async def me() -> str:
        return current_user.username

    return app


async def test_a_user_made_before_a_restart_signs_in_after_it(
        backend: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    instance = tmp_path / "instance"
    async with database_overrides(backend, tmp_path) as db:
        first = make_app(instance, db)
        async with first.test_app():
            await first.extensions["authtuna"].service.users.create(
                "ada@example.com", "ada", PASSWORD, email_verified=True)
            client = await signed_in_client(first, "ada", PASSWORD)
            assert await (await client.get("/me")).get_data(as_text=True) == "ada"
        secrets_file = instance / "authtuna-dev-secrets.json"
        assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
        assert sorted(json.loads(secrets_file.read_text())) == sorted(["_comment", *NAMES])

        second = make_app(instance, db)  # the restart: a new process would read the same file
        async with second.test_app():
            survivor = second.test_client()
            survivor.cookie_jar = client.cookie_jar  # the browser kept its session cookie
            assert await (await survivor.get("/me")).get_data(as_text=True) == "ada"
            again = await signed_in_client(second, "ada", PASSWORD)
            assert await (await again.get("/me")).get_data(as_text=True) == "ada"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
                and "DEVELOPMENT mode" in r.getMessage()]
    assert len(warnings) == 2 and all(str(secrets_file) in w for w in warnings)


def test_the_file_is_made_once_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "secrets.json"
    first = load_or_create(path)
    assert load_or_create(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    assert load_or_create(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "a loosened file is made private again"
    assert list(path.parent.iterdir()) == [path], "no temporary file left behind"
    checked = Settings().checked(dev_secrets=path)
    assert checked.missing_secrets() == []
    assert checked.password_pepper is not None
    assert checked.password_pepper.reveal() == first["PASSWORD_PEPPER"]


def test_own_secrets_win_over_the_file(tmp_path: Path) -> None:
    own = "my-own-pepper-" + "p" * 40
    checked = Settings.from_sources(overrides={"PASSWORD_PEPPER": own}).checked(
        dev_secrets=tmp_path / "s.json")
    assert checked.password_pepper is not None and checked.password_pepper.reveal() == own
    assert checked.jwt_secret_key is not None
    assert checked.jwt_secret_key.reveal() == load_or_create(tmp_path / "s.json")[
        "JWT_SECRET_KEY"]


def test_never_inside_the_package_and_never_a_foreign_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="must not live in the package"):
        load_or_create(PACKAGE_DIR / "instance" / "secrets.json")
    assert not (PACKAGE_DIR / "instance").exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigurationError, match="cannot write development secrets"):
        load_or_create(blocker / "secrets.json")  # its folder cannot be made
    foreign = tmp_path / "other.json"
    foreign.write_text('{"hello": "world"}')
    with pytest.raises(ConfigurationError, match="not a development secrets file"):
        load_or_create(foreign)


def test_production_refuses_default_secrets_and_writes_no_file(tmp_path: Path) -> None:
    app = Quart(__name__, instance_path=str(tmp_path / "instance"))
    app.config["AUTHTUNA_PRODUCTION"] = True
    with pytest.raises(ConfigurationError, match="AUTHTUNA_PASSWORD_PEPPER"):
        AuthTuna(app)
    assert not (tmp_path / "instance").exists()


def test_an_empty_setting_keeps_the_ephemeral_secrets(tmp_path: Path) -> None:
    app = Quart(__name__, instance_path=str(tmp_path / "instance"))
    app.config["AUTHTUNA_DEV_SECRETS_FILE"] = ""
    AuthTuna(app)
    assert not (tmp_path / "instance").exists()


def parse_env(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines()
             if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_init_writes_a_commented_env_with_fresh_secrets(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / ".env"
    result = runner.invoke(cli, ["init", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text()
    values = parse_env(text)
    assert sorted(values) == sorted(f"AUTHTUNA_{n}" for n in NAMES)
    for decision in ("PRODUCTION", "API_BASE_URL", "DEFAULT_DATABASE_URI", "TRUSTED_PROXIES",
                     "EMAIL_ENABLED", "SMTP_HOST"):
        assert f"# AUTHTUNA_{decision}=" in text, decision
    # With the deployment part filled in, production mode accepts the secrets as written.
    decided = {**values, "AUTHTUNA_PRODUCTION": "true",
               "AUTHTUNA_API_BASE_URL": "https://app.example.com"}
    settings = Settings.from_sources(environ=decided)
    assert settings.checked() is settings

    again = runner.invoke(cli, ["init", "--output", str(target)])
    assert again.exit_code != 0 and "exists" in again.output
    assert target.read_text() == text, "an existing file is never overwritten silently"
    forced = runner.invoke(cli, ["init", "--output", str(target), "--force"])
    assert forced.exit_code == 0
    assert parse_env(target.read_text()) != values, "fresh secrets each time"
