"""Screenshots of a page at desktop and phone width, checked for sideways scrolling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: tests/artifacts/screenshots/ (ignored by git).
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
WIDTHS = (1280, 390)


async def screenshots(page: Any, name: str, directory: Path = SHOTS) -> None:
    """Save ``<name>-<width>.png`` full-page at each width; the page must not scroll
    sideways at any of them. The viewport ends at desktop width again."""
    directory.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=str(directory / f"{name}-{width}.png"), full_page=True)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
    await page.set_viewport_size({"width": WIDTHS[0], "height": 900})
