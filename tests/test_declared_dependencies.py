"""The dependencies pyproject.toml declares are the ones the code imports, no more, no fewer."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _imported(folder: str) -> set[str]:
    """Top-level modules imported by the .py files under ``folder`` (absolute imports only)."""
    found: set[str] = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def _distributions(modules: set[str]) -> set[str]:
    """The installed distributions providing ``modules`` (stdlib and the repo's own left out)."""
    owners = packages_distributions()
    local = {p.stem for p in (ROOT / "tests").glob("*.py")} | {p.name for p in (ROOT / "tests").iterdir() if p.is_dir()}
    local |= {p.stem for p in (ROOT / "benchmarks").glob("*.py")}  # a benchmark may import a sibling
    out = set()
    for module in modules - set(sys.stdlib_module_names) - local - {"zoo"}:
        assert module in owners, f"{module} is imported but no installed distribution provides it"
        out |= {name.lower().replace("_", "-") for name in owners[module]}
    return out


def test_declared_dependencies_match_imports() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    test_only = {_name(r) for r in project["optional-dependencies"]["test"]}
    used_by_zoo = _distributions(_imported("zoo"))
    used_anywhere = used_by_zoo | _distributions(_imported("tests") | _imported("benchmarks"))
    assert used_by_zoo - runtime == set(), "imported by zoo/ but not declared in dependencies"
    assert used_anywhere - runtime - test_only == set(), "imported by tests or benchmarks but not declared"
    assert runtime - used_anywhere == set(), "declared in dependencies but imported nowhere"
    assert test_only - used_anywhere == set(), "declared as a test dependency but imported nowhere"
