"""The core's shape: no import cycles (type-checking imports too), one place drops caches."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "quart_authtuna"
CORE = PACKAGE / "core"
#: Methods that drop in-process cache entries; only the revocation module may call them.
DROPS = frozenset({"drop", "drop_user", "drop_users", "drop_key", "invalidate"})
ALLOWED_TO_DROP = {CORE / "revocation.py"}


def _module(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the package's modules it imports (relative and absolute, any block)."""
    files = {_module(root, p): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for mod, path in files.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.removeprefix(f"{root.parent.name}.") for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                else:
                    base = (node.module or "").removeprefix(f"{root.parent.name}.")
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names)
        graph[mod] = {m for m in found if m in files and m != mod}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_core_has_no_import_cycle() -> None:
    assert cycles(import_graph(CORE)) == []


def test_the_cycle_check_finds_a_type_only_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import B\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from .a import A\n")
    assert cycles(import_graph(pkg)) == [["pkg.a", "pkg.b"]]


def cache_drops(path: Path) -> list[int]:
    """Lines of ``path`` that call a cache-dropping method on another object."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in DROPS
                and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "self")):
            lines.append(node.lineno)
    return lines


def test_only_the_revocation_module_drops_cache_entries() -> None:
    offenders = {str(p.relative_to(ROOT)): cache_drops(p) for p in PACKAGE.rglob("*.py")
                 if p not in ALLOWED_TO_DROP}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_drop_check_sees_a_drop(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("def f(svc):\n    svc.session_cache.drop_user('u')\n")
    assert cache_drops(path) == [2]
