"""Fenced Python blocks of the Markdown docs, so tests can run them exactly as written.

A block opens with three backticks and ``python``; ``python skip: <reason>`` marks one of the
few fragments that cannot run alone (the reason is required).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(python[^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Snippet:
    """One fenced block: where it is, under which heading, and whether it runs."""

    path: Path
    line: int
    heading: str
    code: str
    skip: str | None

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def markdown_files() -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def python_snippets(path: Path) -> list[Snippet]:
    """The fenced Python blocks of one Markdown file, in order."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        info = match.group(1).strip()
        before = text[:match.start()]
        headings = re.findall(r"^#+ (.+)$", before, re.MULTILINE)
        skip = None
        if info != "python":
            assert info.startswith("python skip:") and info[12:].strip(), (
                f"{path}: a fence must be `python` or `python skip: <reason>`, not {info!r}")
            skip = info[12:].strip()
        found.append(Snippet(path, before.count("\n") + 1, headings[-1] if headings else "",
                             match.group(2), skip))
    return found


def quick_start_code() -> str:
    """The README's quick-start app, exactly as printed."""
    (snippet,) = [s for s in python_snippets(ROOT / "README.md") if s.heading == "Quick start"]
    return snippet.code
