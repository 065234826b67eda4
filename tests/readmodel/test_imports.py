"""The read model's modules import one another in one direction: tables and writes at the bottom,
the stores above them, store.py (the ReadModel that holds the stores) on top. No cycle, also not
through an import inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

from settings import ROOT

PACKAGE = "readmodel"


def imports_within_the_package() -> dict[str, set[str]]:
    modules = {f"{PACKAGE}.{p.stem}": p for p in (ROOT / PACKAGE).glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(Path(path).read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name):] + [name]
        if name in done:
            return None
        for dependency in sorted(graph[name]):
            if (cycle := visit(dependency, [*path, name])) is not None:
                return cycle
        done.add(name)
        return None

    return next((c for name in sorted(graph) if (c := visit(name, [])) is not None), None)


def test_the_read_model_modules_form_no_import_cycle() -> None:
    graph = imports_within_the_package()
    assert graph[f"{PACKAGE}.tables"] == set()  # every table, declared on its own
    assert a_cycle(graph) is None
