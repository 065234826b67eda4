"""docs/DOMAIN.md says where each rule is implemented (→ `module.py` `name`): every such reference
must name a module of this repository and a class, function, method or constant defined in it, so
the rule index cannot drift from the code as things move."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = re.compile(r"→ `([^`]+\.py)` `([^`]+)`")


def defined_names(path: Path) -> set[str]:
    """Top-level names and `Class.method` / `Class.attribute` names of one module."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(f"{node.name}.{member.name}")
                elif isinstance(member, ast.Assign):
                    names |= {f"{node.name}.{t.id}" for t in member.targets if isinstance(t, ast.Name)}
                elif isinstance(member, ast.AnnAssign) and isinstance(member.target, ast.Name):
                    names.add(f"{node.name}.{member.target.id}")
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_every_rule_reference_names_code_that_exists() -> None:
    text = (ROOT / "docs" / "DOMAIN.md").read_text(encoding="utf-8")
    references = set(REFERENCE.findall(text))
    assert len(references) > 50, "the rule index lost its references"
    broken = []
    for module, name in sorted(references):
        path = ROOT / module
        if not path.is_file():
            broken.append(f"{module} (no such module) for {name}")
        elif name not in defined_names(path):
            broken.append(f"{module} has no {name}")
    assert not broken, "docs/DOMAIN.md points at code that is not there:\n" + "\n".join(broken)


def test_the_code_cites_sections_that_the_domain_page_has() -> None:
    """`DOMAIN §N` in a comment or docstring points to section N of docs/DOMAIN.md."""
    sections = set(re.findall(r"^## §(\d+)\b", (ROOT / "docs" / "DOMAIN.md").read_text(encoding="utf-8"), re.M))
    cited: set[str] = set()
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts:
            continue
        cited |= set(re.findall(r"DOMAIN §(\d+)", path.read_text(encoding="utf-8")))
    assert cited, "no code cites the domain page"
    assert cited <= sections, f"sections cited but missing from docs/DOMAIN.md: {sorted(cited - sections)}"
