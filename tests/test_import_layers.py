"""The edge's dependencies run one way: no module of ``edge/`` imports, directly or through others, a
module that imports it back, and no part of the edge (``edge.call``, ``edge.engines``, ``edge.app``…)
depends on a part that depends on it.

Imports are read from the source with :mod:`ast`, so nothing is imported. Every import counts, those
inside functions included (a function-level import is a cycle deferred to run time, not one removed);
only imports under ``if TYPE_CHECKING:`` are left out, as they never run and exist for annotations.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "edge"


def module_name(path: Path) -> str:
    """``edge/call/session.py`` → ``edge.call.session``; a package's ``__init__.py`` → the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The edge modules that the module at ``path`` imports (at any depth of its code)."""
    this = module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            for alias in node.names:  # ``from edge.call import session`` imports a module
                found.add(f"{target}.{alias.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    edges = set()
    for name in found:
        # ``import edge.call.session`` also runs ``edge`` and ``edge.call``; their ``__init__`` files are
        # empty of imports here, so only the named module counts.
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != this and name != PACKAGE:
            edges.add(name)
    return edges


def import_graph() -> dict[str, set[str]]:
    """Edge module → the edge modules it imports."""
    paths = sorted((ROOT / PACKAGE).rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imported_modules(p, modules) for p in paths}


def part(module: str) -> str:
    """The part of the edge a module belongs to: ``edge.call.session`` → ``edge.call``, ``edge.app`` → itself."""
    return ".".join(module.split(".")[:2])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one node (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return groups


def test_no_edge_module_imports_itself_back_through_others():
    assert cycles(import_graph()) == []


def test_no_part_of_the_edge_depends_on_a_part_that_depends_on_it():
    parts: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        parts.setdefault(part(module), set()).update(part(t) for t in targets if part(t) != part(module))
    assert cycles(parts) == []


def test_the_core_imports_nothing_of_the_edge_outside_it():
    """``edge.core`` (frames, call state, context, the clock) is what every layer may use, so it uses none."""
    outside = {module: sorted(t for t in targets if part(t) != "edge.core")
               for module, targets in import_graph().items() if part(module) == "edge.core"}
    assert {module: targets for module, targets in outside.items() if targets} == {}


def test_the_checker_finds_a_cycle_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
