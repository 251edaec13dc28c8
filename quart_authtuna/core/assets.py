"""Locate the bundled page templates and static files, in a wheel or a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_SOURCE_ROOT = _PACKAGE_DIR.parent


def _bundled(name: str) -> Path:
    """``<package>/<name>`` when installed from a wheel, else ``<repo>/<name>``."""
    inside = _PACKAGE_DIR / name
    if inside.is_dir():
        return inside
    return _SOURCE_ROOT / name


def templates_dir() -> Path:
    """Folder holding the ``authtuna/*.html`` Jinja templates."""
    return _bundled("templates")


def static_dir() -> Path:
    """Folder holding the ``authtuna/`` static files (CSS, JS)."""
    return _bundled("static")
