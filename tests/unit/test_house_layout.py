"""The house rules, read from the source: which room may import which, where tables are bound, where systems
are named, and that every package ships. A change that breaks one fails here, not in a review."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers/foureyes/python/foureyes"


def _modules(base: Path) -> list[Path]:
    return sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _room(path: Path) -> str:
    return path.relative_to(LAYER).parts[0].removesuffix(".py")


def test_the_domain_never_imports_a_handler_or_a_dev_tool() -> None:
    offenders = {str(p.relative_to(ROOT)): sorted(i for i in _imports(p) if i.split(".")[0] in
                                                  {"functions", "foureyes_local", "foureyes_cli", "foureyes_eval"})
                 for p in _modules(LAYER)}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_local_cloud_never_imports_the_cli() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in _modules(ROOT / "foureyes_local")
                 if any(i.split(".")[0] == "foureyes_cli" for i in _imports(p))]
    assert offenders == []


# The store sits below every room: it may know models, errors, settings and retention, nothing that uses it.
STORE_MAY_IMPORT = {"foureyes.store", "foureyes.model", "foureyes.errors", "foureyes.settings",
                    "foureyes.retention"}


def _allowed_in_store(name: str) -> bool:
    return not name.startswith("foureyes.") or any(name == a or name.startswith(a + ".") for a in STORE_MAY_IMPORT)


def test_the_store_imports_no_room_above_it() -> None:
    offenders = {str(p.relative_to(ROOT)): sorted(i for i in _imports(p) if not _allowed_in_store(i))
                 for p in _modules(LAYER / "store")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_tables_are_bound_only_in_the_store() -> None:
    assert [str(p.relative_to(LAYER)) for p in _modules(LAYER)
            if "bound(" in p.read_text() and _room(p) != "store"] == []


def test_conditional_write_failures_are_read_in_one_place() -> None:
    assert [str(p.relative_to(LAYER)) for p in _modules(LAYER)
            if "ConditionalCheckFailedException" in p.read_text()] == ["store/conditional.py"]


def test_no_module_outside_the_ats_room_names_a_system() -> None:
    named = [str(p.relative_to(LAYER)) for p in _modules(LAYER)
             if _room(p) != "ats" and re.search(r"bullhorn|otys|carerix", p.read_text(), re.IGNORECASE)]
    assert named == []


@pytest.mark.parametrize("base", ["layers/foureyes/python/foureyes", "foureyes_local", "foureyes_cli", "foureyes_eval"])
def test_every_package_is_listed_for_installation(base: str) -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    top = "foureyes" if base.startswith("layers") else base
    packages = {".".join((top, *p.parent.relative_to(ROOT / base).parts)) for p in (ROOT / base).rglob("__init__.py")
                if "__pycache__" not in p.parts}
    assert packages - listed == set()
