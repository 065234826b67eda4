"""The one direction of dependency (rules ← workflows ← activities / api / readmodel), read from
every module's imports with ast: at module level, inside functions, and inside
`with workflow.unsafe.imports_passed_through()` alike.

- rules/ are pure Python: no Temporal, HTTP or SQL, and none of the layers above them;
- workflows/ orchestrate: no read model, API, activities, SQL or HTTP;
- no module imports a private name (leading underscore) from another project module;
- no import cycle among project modules at module level (imports inside functions and under
  `if TYPE_CHECKING:` are how a cycle is avoided, so they do not count there).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Production code; tests, benchmarks and ops scripts sit outside the layers.
PACKAGES = ("rules", "workflows", "activities", "api", "readmodel", "notifications", "protection")
TOP_MODULES = ("worker", "settings", "temporal_client")

TEMPORAL = ("temporalio",)
HTTP = ("fastapi", "starlette", "httpx")
SQL = ("sqlalchemy", "sqlmodel", "psycopg", "psycopg2")

FORBIDDEN = {
    "rules": (*TEMPORAL, *HTTP, *SQL, "workflows", "activities", "api", "readmodel", "notifications.senders"),
    "workflows": ("readmodel", "api", "activities", "sqlalchemy", "sqlmodel", "fastapi", "httpx"),
}


@dataclass(frozen=True)
class Import:
    module: str  # the module imported from ("rules.policy"), resolved if relative
    names: tuple[str, ...]  # the names taken from it (`from m import a, b`); () for `import m`
    line: int
    module_level: bool  # run when the importing module is imported (not in a function, not TYPE_CHECKING)


def project_modules() -> dict[str, Path]:
    found = {name: ROOT / f"{name}.py" for name in TOP_MODULES if (ROOT / f"{name}.py").is_file()}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = project_modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer.split(".")
    if MODULES[importer].name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _walk(importer: str, nodes: list[ast.stmt] | list[ast.AST], module_level: bool) -> Iterator[Import]:
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, (), node.lineno, module_level)
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names)
            yield Import(_resolve(importer, node), names, node.lineno, module_level)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from _walk(importer, list(ast.iter_child_nodes(node)), False)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _walk(importer, node.body, False)
            yield from _walk(importer, node.orelse, module_level)
        else:  # with-blocks, try, if, class bodies: run at import time if their parent is
            yield from _walk(importer, list(ast.iter_child_nodes(node)), module_level)


@cache
def imports_of(module: str) -> tuple[Import, ...]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"), str(MODULES[module]))
    return tuple(_walk(module, tree.body, True))


def _within(name: str, prefixes: tuple[str, ...]) -> str | None:
    return next((p for p in prefixes if name == p or name.startswith(p + ".")), None)


def _imported_modules(found: Import) -> list[str]:
    """The modules an import names: `from a import b` is module a.b when b is one, else a."""
    submodules = [f"{found.module}.{n}" for n in found.names if f"{found.module}.{n}" in MODULES]
    return [found.module, *submodules] if len(submodules) < len(found.names) or not found.names else submodules


def _layer_of(module: str) -> str | None:
    return next((layer for layer in FORBIDDEN if module == layer or module.startswith(layer + ".")), None)


Imports = Mapping[str, Sequence[Import]]  # module → its imports


def all_imports() -> Imports:
    return {module: imports_of(module) for module in MODULES}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def layer_violations(imports: Imports) -> list[str]:
    problems = []
    for module, found_in in imports.items():
        layer = _layer_of(module)
        for found in found_in if layer is not None else ():
            for target in _imported_modules(found):
                if banned := _within(target, FORBIDDEN[layer]):  # type: ignore[index]
                    problems.append(f"{module}:{found.line} imports {target} ({layer} must not use {banned})")
    return problems


def private_name_imports(imports: Imports) -> list[str]:
    problems = []
    for module, found_in in imports.items():
        for found in found_in:
            if found.module == module or _within(found.module, (*PACKAGES, *TOP_MODULES)) is None:
                continue
            problems += [f"{module}:{found.line} imports {n} from {found.module}" for n in found.names if _private(n)]
            if any(_private(part) for part in found.module.split(".")):
                problems.append(f"{module}:{found.line} imports from the private module {found.module}")
    return problems


def module_level_graph(imports: Imports) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {module: set() for module in imports}
    for module, found_in in imports.items():
        for found in found_in:
            if found.module_level:
                graph[module] |= {t for t in _imported_modules(found) if t in imports and t != module}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for following in sorted(graph[node]):
            if following not in index:
                visit(following)
                low[node] = min(low[node], low[following])
            elif following in on_stack:
                low[node] = min(low[node], index[following])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


# -- the rules of the layers ---------------------------------------------------------------------


def test_every_layer_is_read() -> None:
    assert {"rules.policy", "rules.org_chart", "workflows.complaint", "activities.calendar", "api.main",
            "readmodel.store", "notifications.senders", "worker"} <= set(MODULES)
    assert any(i.module.startswith("rules.") for i in imports_of("workflows.complaint"))


def test_rules_import_no_temporal_http_or_sql_and_no_layer_above_them() -> None:
    problems = [p for p in layer_violations(all_imports()) if p.startswith("rules.")]
    assert not problems, "rules/ reach past the pure layer:\n" + "\n".join(problems)


def test_workflows_import_no_read_model_api_activities_sql_or_http() -> None:
    problems = [p for p in layer_violations(all_imports()) if p.startswith("workflows.")]
    assert not problems, "workflows/ reach into the I/O layer:\n" + "\n".join(problems)


def test_no_module_imports_a_private_name_from_another() -> None:
    problems = private_name_imports(all_imports())
    assert not problems, "private names imported across modules:\n" + "\n".join(problems)


def test_no_import_cycle_among_project_modules() -> None:
    cycles = import_cycles(module_level_graph(all_imports()))
    assert not cycles, "import cycles at module level:\n" + "\n".join(" ↔ ".join(c) for c in cycles)


# -- the checker itself, on made-up modules ------------------------------------------------------


def test_the_checker_sees_imports_in_functions_in_the_sandbox_block_and_under_type_checking(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from temporalio import workflow\n"
        "with workflow.unsafe.imports_passed_through():\n"
        "    from readmodel.store import ReadModel\n"
        "if TYPE_CHECKING:\n"
        "    from api.main import create_app\n"
        "def later():\n"
        "    import sqlmodel\n"
    )
    found = list(_walk("workflows.example", ast.parse(source).body, True))
    where = {i.module: i.module_level for i in found}
    assert where == {"typing": True, "temporalio": True, "readmodel.store": True, "api.main": False, "sqlmodel": False}


def test_the_checker_finds_a_cycle_and_ignores_a_chain() -> None:
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_the_checker_names_a_banned_import_and_a_private_name() -> None:
    made_up = {
        "rules.example": [Import("sqlmodel", (), 3, True), Import("notifications.senders", ("SmsSender",), 4, False),
                          Import("notifications.directory", ("Directory",), 5, True)],
        "workflows.example": [Import("activities", ("calendar",), 6, True), Import("rules.example", ("_hidden",), 7, True)],
        "api.example": [Import("sqlmodel", (), 8, True), Import("rules.example", ("__doc__",), 9, True)],
    }
    assert layer_violations(made_up) == [
        "rules.example:3 imports sqlmodel (rules must not use sqlmodel)",
        "rules.example:4 imports notifications.senders (rules must not use notifications.senders)",
        "workflows.example:6 imports activities.calendar (workflows must not use activities)",
    ]
    assert private_name_imports(made_up) == ["workflows.example:7 imports _hidden from rules.example"]
