"""Build the wheel offline and install it alone in a fresh virtualenv (deps from this venv)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; its stdout, or an assertion error carrying both streams."""
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def build_wheel(dist: Path) -> Path:
    """The project's wheel, built into ``dist`` (with hatchling in the venv, no network)."""
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-isolation"]
    run(sys.executable, "-m", "build", "--wheel", *isolation, "--outdir", dist, cwd=ROOT)
    (wheel,) = dist.glob("quart_authtuna-*.whl")
    return wheel


def install_in_fresh_venv(wheel: Path, venv: Path) -> tuple[Path, dict[str, str]]:
    """A new venv holding only the wheel; its python and an environment that finds the
    dependencies in this venv's site-packages (offline). An editable install's .pth is not
    read from PYTHONPATH entries, so the package comes from the wheel alone."""
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv.parent)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
        "--quiet", wheel, cwd=venv.parent)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith("AUTHTUNA_")}
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(
        sysconfig.get_paths()[k] for k in ("purelib", "platlib")))
    return python, env
