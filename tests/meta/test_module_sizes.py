"""House rules for the package: small modules, no grab-bag names, a docstring on every module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "quart_authtuna"
MAX_LINES = 400
GRAB_BAG_NAMES = {"utils.py", "helpers.py", "misc.py", "common.py"}


def _modules() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert files, f"no modules found under {PACKAGE}"
    return files


def test_every_module_is_at_most_400_lines() -> None:
    too_long = []
    for path in _modules():
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES and path.parent.name != "versions":  # generated Alembic revisions
            too_long.append(f"{path.relative_to(ROOT)}: {count} lines")
    assert not too_long, f"modules over {MAX_LINES} lines:\n" + "\n".join(too_long)


def test_no_grab_bag_module_names() -> None:
    found = [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*") if p.name in GRAB_BAG_NAMES]
    assert not found, "name modules after what they do, not utils/helpers/misc/common:\n" + (
        "\n".join(sorted(found))
    )


def test_every_module_starts_with_a_docstring() -> None:
    missing = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        if ast.get_docstring(tree) is None:
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, "modules without a docstring:\n" + "\n".join(missing)
