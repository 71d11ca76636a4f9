"""The code's shape, checked: imports point config → models → tasks → flows with web and cli on
top, no two modules import each other (directly or round a circle), nothing in the product
imports bench, docs or tests, and no product module grows past about 300 lines."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"config": 0, "models": 1, "tasks": 2, "flows": 3, "web": 4, "cli": 5}
MAX_LINES = 300


def product_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.relative_to(ROOT).parts[1:2]:
                continue  # Alembic revisions are history, not rooms
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules `path` imports, at any depth of the file (lazy imports count)."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {t for t in targets if t in known or t.split(".")[0] in ("bench", "tests", "docs")}


def graph() -> dict[str, set[str]]:
    modules = product_modules()
    known = set(modules)
    return {name: imported(path, name, known) - {name} for name, path in modules.items()}


def test_imports_point_one_way() -> None:
    wrong = []
    for name, targets in graph().items():
        layer = LAYERS[name.split(".")[0]]
        for target in targets:
            top = target.split(".")[0]
            if top not in LAYERS or LAYERS[top] > layer:
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_no_import_circles() -> None:
    # A package imports its own modules (`__init__` re-exports); that edge is not a circle.
    edges = {
        name: {t for t in targets if not name.startswith(t + ".")}
        for name, targets in graph().items()
    }
    try:
        tuple(graphlib.TopologicalSorter(edges).static_order())
    except graphlib.CycleError as circle:
        raise AssertionError(f"import circle: {' → '.join(circle.args[1])}") from None


def test_rooms_stay_small() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in product_modules().items()
    }
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
