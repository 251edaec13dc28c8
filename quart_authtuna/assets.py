"""Locate the bundled page templates and static files (see :mod:`quart_authtuna.core.assets`)."""

from __future__ import annotations

from .core.assets import static_dir, templates_dir

__all__ = ["static_dir", "templates_dir"]
