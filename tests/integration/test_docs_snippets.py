"""Every fenced Python block of README.md and docs/ runs, exactly as printed, in a fresh
folder (its own SQLite file and instance folder) with no AUTHTUNA_* environment."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from tests._support.snippets import Snippet, markdown_files, python_snippets

SNIPPETS = [s for path in markdown_files() for s in python_snippets(path)]


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.name for s in SNIPPETS])
async def test_snippet_runs(snippet: Snippet, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    if snippet.skip:
        pytest.skip(snippet.skip)
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("AUTHTUNA_"):
            monkeypatch.delenv(name)
    code = compile(snippet.code, snippet.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace = {"__name__": "docs_snippet"}
    result = eval(code, namespace)  # noqa: S307 - our own documentation, run on purpose
    if result is not None:
        await result
