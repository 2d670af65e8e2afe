"""STYLE.md's checks, run with the tests: ruff (lint) and mypy (types) on the Python sources."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        pytest.skip(f"{name} is not installed (pip install '.[test]' brings it)")
    return path


def test_ruff_lint_is_clean():
    result = subprocess.run([_tool("ruff"), "check", "runtime", "backends", "tests", "bench"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean():
    result = subprocess.run([_tool("mypy"), "runtime", "backends"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# STYLE.md's size budget: a file over ~600 lines is a smell, over 1,000 a split. Hand-written
# sources (Python, C++, shell) fail the suite past 800 lines; generated docs and data do not count.
_SOURCE_SUFFIXES = {".py", ".cc", ".h", ".cpp", ".hpp", ".sh"}
_SIZE_BUDGET_LINES = 800


def test_no_hand_written_source_passes_the_size_budget():
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the size budget is checked on tracked files")
    over = []
    for name in listed.stdout.splitlines():
        path = ROOT / name
        if path.suffix in _SOURCE_SUFFIXES and path.is_file():
            lines = path.read_text(encoding="utf-8", errors="replace").count("\n")
            if lines > _SIZE_BUDGET_LINES:
                over.append(f"{name}: {lines} lines")
    assert not over, f"split these files (budget {_SIZE_BUDGET_LINES} lines): {over}"


# Issue 18: no import loops in runtime/ (package `xinrt`) and backends/ (`xinrt.backends`).
# Every import statement counts: at module level, under `if TYPE_CHECKING:` and inside
# functions, since a lazy import only hides a loop (both modules still need each other). An edge
# goes to the module an import names (`from .pkg import mod` -> pkg.mod when mod is a module,
# else -> pkg); a parent package's `__init__`, which Python runs first, is not an edge of its own.
_PACKAGES = {"runtime": "xinrt", "backends": "xinrt.backends"}


def _module_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder, package in _PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def _imported_names(path: Path, module: str) -> list[tuple[str, str | None]]:
    """(module, imported name or None) for every import statement in the file."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names += [(source, alias.name) for alias in node.names]
    return names


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of runtime/ and backends/ it imports."""
    files = _module_files()
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for source, imported in _imported_names(path, name):
            target = f"{source}.{imported}" if f"{source}.{imported}" in files else source
            if target in files and target != name:
                graph[name].add(target)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_the_cycle_finder_finds_a_planted_loop():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_sees_relative_absolute_and_lazy_imports():
    graph = import_graph()
    assert "xinrt.ort_compat.api" in graph["xinrt"]  # relative, module level
    assert "xinrt.backend" in graph["xinrt.backends.ort.backend"]  # absolute
    assert "xinrt.ort_compat.drop_in" in graph["xinrt"]  # inside a function


def test_runtime_and_backends_have_no_import_loops():
    cycles = import_cycles(import_graph())
    assert not cycles, f"import loops (each a set of modules that import each other): {cycles}"


def test_the_front_end_imports_no_backend_module():
    """DESIGN.md: the front end reaches backends through the registry (entry points) only."""
    graph = import_graph()
    reaching = {
        name: sorted(t for t in targets if t.startswith("xinrt.backends"))
        for name, targets in graph.items()
        if not name.startswith("xinrt.backends")
    }
    assert not {k: v for k, v in reaching.items() if v}
