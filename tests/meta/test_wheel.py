"""The built wheel carries templates, static files and data, and works outside the source tree."""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import pytest

from tests._support.wheel import ROOT, build_wheel, install_in_fresh_venv
from tests._support.wheel import run as _run

ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.mark.slow
def test_wheel_contents_and_installed_asset_paths(tmp_path: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    wheel = build_wheel(tmp_path / "dist")

    size = wheel.stat().st_size
    print(f"\nwheel {wheel.name}: {size} bytes")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "wheel-size.txt").write_text(f"{wheel.name} {size}\n")

    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert any(n.startswith("quart_authtuna/templates/authtuna/") for n in names)
    assert any(n.startswith("quart_authtuna/static/authtuna/") for n in names)
    assert "quart_authtuna/templates/authtuna/placeholder.html" in names
    assert "quart_authtuna/core/crypto/data/common-passwords.txt.gz" in names
    assert "quart_authtuna/py.typed" in names
    assert {"quart_authtuna/translations/authtuna.pot",
            "quart_authtuna/translations/de/LC_MESSAGES/authtuna.po",
            "quart_authtuna/translations/de/LC_MESSAGES/authtuna.mo"} <= set(names)
    assert {"quart_authtuna/migrations/env.py", "quart_authtuna/migrations/script.py.mako",
            "quart_authtuna/migrations/versions/0001_initial_schema.py"} <= set(names)
    assert {"quart_authtuna/testing/__init__.py", "quart_authtuna/testing/client.py",
            "quart_authtuna/testing/mail.py", "quart_authtuna/testing/passkeys.py",
            "quart_authtuna/testing/webauthn.py"} <= set(names)
    top_level = {n.split("/")[0] for n in names}
    assert top_level == {"quart_authtuna", f"quart_authtuna-{version}.dist-info"}, top_level
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]

    python, env = install_in_fresh_venv(wheel, tmp_path / "venv")
    venv = tmp_path / "venv"
    out = _run(
        python,
        "-c",
        "import quart_authtuna as q, quart_authtuna.assets as a, quart_authtuna.extension;"
        "print(q.__file__); print(q.__version__); print(a.templates_dir()); print(a.static_dir())",
        cwd=tmp_path,
        env=env,
    )
    package_file, installed_version, templates_dir, static_dir = out.splitlines()
    templates, static = Path(templates_dir).resolve(), Path(static_dir).resolve()
    inside = venv.resolve()
    assert inside in Path(package_file).resolve().parents, package_file
    assert installed_version == version
    assert inside in templates.parents, templates
    assert inside in static.parents, static
    assert (templates / "authtuna" / "placeholder.html").is_file()
    assert (static / "authtuna" / "css" / "authtuna.css").is_file()

    german = _run(python, "-c", "from quart_authtuna.core import i18n; i18n.use_locale('de');"
                  "print(i18n.gettext('Sign in'), i18n.shipped_locales())",
                  cwd=tmp_path, env=env).strip()
    assert german == "Anmelden ['en', 'de']", german

    kit = _run(python, "-c", "import quart_authtuna.testing as t; print(t.__file__);"
               "print(t.SoftAuthenticator.__module__, t.login_as.__module__)",
               cwd=tmp_path, env=env).split()
    assert inside in Path(kit[0]).resolve().parents, kit
    assert kit[1:] == ["quart_authtuna.testing.webauthn", "quart_authtuna.testing.client"]

    # the installed package migrates a database from its own scripts
    db = tmp_path / "migrated.db"
    head = _run(python, "-c", "import asyncio;"
                "from sqlalchemy.ext.asyncio import create_async_engine;"
                "from quart_authtuna.core.db import migrations as m;"
                f"e = create_async_engine('sqlite+aiosqlite:///{db}');"
                "asyncio.run(m.upgrade(e, None)); print(m.SCRIPT_LOCATION);"
                "print(asyncio.run(m.check(e, None)).ok)",
                cwd=tmp_path, env=env).split()
    assert inside in Path(head[0]).resolve().parents and head[1] == "True", head
