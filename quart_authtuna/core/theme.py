"""The THEME setting: light and dark palettes rendered as CSS custom properties."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_COLOUR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]+|(rgb|hsl)a?\([0-9.,%\s/]+\))$")

LIGHT: Mapping[str, str] = MappingProxyType({
    "background": "#f6f7fb", "surface": "#ffffff", "surface_alt": "#f1f3f9",
    "border": "#dde1ea", "text": "#1b2130", "text_muted": "#5b6478",
    "primary": "#2f5bea", "primary_hover": "#2349c4", "primary_text": "#ffffff",
    "secondary": "#e8ecf6", "secondary_text": "#1b2130", "accent": "#0f9d8a",
    "success": "#17803d", "success_bg": "#e6f5ec", "warning": "#9a6700",
    "warning_bg": "#fff4d6", "danger": "#c62828", "danger_bg": "#fdecec",
    "focus_ring": "#9db4ff", "shadow": "rgba(20, 30, 60, 0.08)",
})
DARK: Mapping[str, str] = MappingProxyType({
    "background": "#0f1320", "surface": "#171c2c", "surface_alt": "#1e2438",
    "border": "#2c3450", "text": "#e7eaf3", "text_muted": "#9aa3ba",
    "primary": "#6d8dff", "primary_hover": "#88a2ff", "primary_text": "#0b1020",
    "secondary": "#262d45", "secondary_text": "#e7eaf3", "accent": "#2bc4ae",
    "success": "#4cc27a", "success_bg": "#13301f", "warning": "#e0b341",
    "warning_bg": "#33290f", "danger": "#ff6b6b", "danger_bg": "#3a1717",
    "focus_ring": "#4a63c9", "shadow": "rgba(0, 0, 0, 0.4)",
})
MODES = ("system", "multi", "single")


@dataclass(frozen=True, slots=True)
class Theme:
    """Colour palettes; ``mode`` is system (prefers-color-scheme), multi (.dark class) or single."""

    mode: str = "system"
    light: Mapping[str, str] = field(default_factory=lambda: LIGHT)
    dark: Mapping[str, str] = field(default_factory=lambda: DARK)

    @classmethod
    def from_value(cls, value: Any) -> Theme:
        """Build a theme from a Theme, or a mapping with optional mode/light/dark keys."""
        if isinstance(value, Theme):
            return value
        if not isinstance(value, Mapping):
            raise ValueError("THEME must be a mapping with mode, light and dark keys")
        return cls(
            mode=str(value.get("mode", "system")),
            light=MappingProxyType({**LIGHT, **dict(value.get("light", {}))}),
            dark=MappingProxyType({**DARK, **dict(value.get("dark", {}))}),
        )

    def problems(self) -> list[str]:
        """Every reason this theme cannot be rendered safely."""
        found = [] if self.mode in MODES else [f"THEME mode must be one of {', '.join(MODES)}"]
        for name, palette in (("light", self.light), ("dark", self.dark)):
            for key, colour in palette.items():
                if not re.fullmatch(r"[a-z_]+", key) or not _COLOUR.match(colour):
                    found.append(f"THEME {name}.{key} is not a plain CSS colour")
        return found

    def css(self) -> str:
        """CSS custom properties for both palettes, following ``mode``."""

        def block(selector: str, palette: Mapping[str, str]) -> str:
            body = "".join(f"--at-{k.replace('_', '-')}:{v};" for k, v in palette.items())
            return f"{selector}{{{body}}}"

        out = [block(":root", self.light)]
        if self.mode == "system":
            out.append("@media (prefers-color-scheme: dark){" + block(":root", self.dark) + "}")
        elif self.mode == "multi":
            out.append(block(":root.dark", self.dark))
        return "\n".join(out)
