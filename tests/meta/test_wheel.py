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

    kit = _run(python, "-c", "import quart_authtuna.testing as t; print(t.__file__);"
               "print(t.SoftAuthenticator.__module__, t.login_as.__module__)",
               cwd=tmp_path, env=env).split()
    assert inside in Path(kit[0]).resolve().parents, kit
    assert kit[1:] == ["quart_authtuna.testing.webauthn", "quart_authtuna.testing.client"]
