"""No module imports another that leads back to it, lazy imports inside functions included.

A circle between journeys (find needing groups needing find) is what made imports hide inside
functions; the shared parts live in modules of their own instead (handlers.base, menus, places,
questions), each imported by the journeys and importing none of them.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("handlers", "bot", "storage")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project's modules that ``path`` imports, anywhere in it (also inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found.update(name for name in names if name in known)
    return found


def import_graph() -> dict[str, set[str]]:
    """Each module of the project's packages and the project's modules it imports."""
    paths = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    known = set(paths) - set(PACKAGES)
    return {name: _imports(path, known) - {name} for name, path in paths.items()}


def test_no_module_imports_itself_through_others() -> None:
    graph = import_graph()
    assert {"handlers.find", "handlers.places", "handlers.questions", "bot.app"} <= set(graph)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"modules import each other in a circle: {exc.args[1]}") from None
    assert order.index("handlers.base") < order.index("handlers.places")


def test_find_groups_and_privacy_do_not_import_one_another() -> None:
    """They share the place dispatch (handlers.places) instead, which imports none of them."""
    graph = import_graph()
    journeys = {"handlers.find", "handlers.groups", "handlers.privacy"}
    for journey in journeys:
        assert not graph[journey] & journeys, journey
        assert "handlers.places" in graph[journey], journey
    assert not graph["handlers.places"] & (journeys | {"handlers.questions"})
