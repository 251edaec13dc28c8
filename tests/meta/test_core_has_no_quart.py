"""The async core stays framework-agnostic: no Quart, werkzeug, WTForms or web-layer imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "quart_authtuna" / "core"
BANNED = ("quart", "werkzeug", "wtforms", "quart_schema")
BANNED_PREFIXES = ("quart_authtuna.web", "quart_authtuna.extension")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(source: str, package: list[str], filename: str = "<string>") -> set[str]:
    """Absolute names of every module ``source`` imports, relative imports resolved."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _imports_of_file(path: Path) -> set[str]:
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    return _imports(path.read_text(encoding="utf-8"), package, str(path))


def _is_banned(name: str) -> bool:
    top = name.split(".")[0]
    return top in BANNED or any(
        name == prefix or name.startswith(prefix + ".") for prefix in BANNED_PREFIXES
    )


def test_core_sources_import_nothing_from_the_web_stack() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert files, f"no modules found under {CORE}"
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in sorted(_imports_of_file(path))
        if _is_banned(name)
    ]
    assert not offenders, "core imports the web stack:\n" + "\n".join(offenders)


def test_the_import_scan_catches_relative_and_nested_imports() -> None:
    source = (
        "from ...web import views\n"
        "from . import scopes\n"
        "def f():\n"
        "    import quart\n"
        "    from werkzeug.http import parse_date\n"
    )
    names = _imports(source, ["quart_authtuna", "core", "rbac"])
    assert "quart_authtuna.web" in names
    assert "quart_authtuna.core.rbac.scopes" in names
    banned = sorted(n for n in names if _is_banned(n))
    assert banned == [
        "quart",
        "quart_authtuna.web",
        "quart_authtuna.web.views",
        "werkzeug.http",
        "werkzeug.http.parse_date",
    ]
    assert not _is_banned("quart_authtuna.webauthn_helpers")
    assert not _is_banned("quartz")


def test_importing_core_loads_no_web_framework() -> None:
    script = (
        "import importlib, importlib.util, sys\n"
        "import quart_authtuna.core\n"
        "if importlib.util.find_spec('quart_authtuna.core.service') is not None:\n"
        "    importlib.import_module('quart_authtuna.core.service')\n"
        f"banned = {BANNED!r}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in banned)\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"importing the core loaded: {result.stdout.strip()}"
