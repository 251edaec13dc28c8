"""The generated reference pages of docs/ match the code, and the hand-written pages name
every signal and CLI command that exists."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

from quart_authtuna.cli import cli
from quart_authtuna.core import signals
from tests._support.snippets import ROOT, markdown_files, python_snippets


def gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "tools" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_pages_are_fresh() -> None:
    assert gen_docs().stale() == [], "run: python tools/gen_docs.py"


def test_every_signal_and_command_is_documented() -> None:
    signal_page = (ROOT / "docs" / "signals.md").read_text()
    for signal in signals.ALL:
        assert f"`{signal.name}`" in signal_page, signal.name
    cli_page = (ROOT / "docs" / "cli.md").read_text()
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        assert f"authtuna {name}" in cli_page, name


def test_readme_links_the_docs_and_every_page_is_reachable() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docs/README.md" in readme
    index = (ROOT / "docs" / "README.md").read_text()
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name != "README.md":
            assert f"({page.name}" in index, f"docs/README.md does not link {page.name}"


def test_skipped_snippets_are_few_and_say_why() -> None:
    snippets = [s for path in markdown_files() for s in python_snippets(path)]
    skipped = [s for s in snippets if s.skip]
    assert len(snippets) >= 10
    assert len(skipped) <= 3, [s.name for s in skipped]


def test_readme_keeps_its_first_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first = text.index("```sh\n") + len("```sh\n")
    assert text[first:].startswith(
        "make demo   # creates .venv, installs the project, serves the example app on SQLite "
        "at http://localhost:5000\nmake test   # creates .venv, installs the project, runs "
        "the whole test suite\n")


def test_paths_named_in_docs_exist() -> None:
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for link in re.findall(r"\]\(((?!https?:|#)[^)#]+)", page.read_text()):
            assert (page.parent / link).exists(), f"{page.name}: broken link {link}"


