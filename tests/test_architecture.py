"""Import hygiene: a light package import and the dependency direction of ``core`` and mechanisms."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import nswn

SOURCE = Path(nswn.__file__).resolve().parent
HEAVY = ("pandas", "duckdb", "typer", "pydantic", "rich", "yaml")


def test_importing_nswn_loads_nothing_heavy() -> None:
    code = f"import sys, nswn; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
    assert done.stderr == ""  # nothing printed at import


def test_the_public_names_load_lazily() -> None:
    assert callable(nswn.simulate) and callable(nswn.load_scenario) and callable(nswn.open_results)
    assert issubclass(nswn.ScenarioError, ValueError)
    with pytest.raises(AttributeError):
        nswn.no_such_name  # noqa: B018


def imported_modules(path: Path) -> set[str]:
    """Module names imported by a file (relative imports keep their leading dots)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def allowed(name: str, packages: tuple[str, ...]) -> bool:
    top = name.split(".")[0]
    if (
        (name.startswith(".") and not name.startswith(".."))
        or top in sys.stdlib_module_names
        or top == "__future__"
        or top == "numpy"
    ):
        return True
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_core_imports_only_numpy_and_the_standard_library() -> None:
    files = sorted((SOURCE / "core").glob("*.py"))
    assert files
    offending = {f.name: sorted(n for n in imported_modules(f) if not allowed(n, ("nswn.core",))) for f in files}
    assert {k: v for k, v in offending.items() if v} == {}


def test_mechanisms_and_instruments_depend_only_on_core_kernels_and_each_other() -> None:
    layers = ("nswn.core", "nswn.kernels", "nswn.mechanisms", "nswn.instruments")
    files = sorted((SOURCE / "mechanisms").glob("*.py")) + sorted((SOURCE / "instruments").glob("*.py"))
    offending = {
        f"{f.parent.name}/{f.name}": sorted(n for n in imported_modules(f) if not allowed(n, layers)) for f in files
    }
    assert {k: v for k, v in offending.items() if v} == {}


def test_kernels_depend_only_on_core_numpy_and_numba() -> None:
    files = sorted((SOURCE / "kernels").glob("*.py"))
    assert files
    offending = {
        f.name: sorted(n for n in imported_modules(f) if not allowed(n, ("nswn.core", "nswn.kernels", "numba")))
        for f in files
    }
    assert {k: v for k, v in offending.items() if v} == {}


def test_the_import_checker_would_catch_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import numpy as np\nfrom pydantic import BaseModel\nfrom nswn.scenario import io\n"
        "from .state import State\nfrom ..api import simulate\nimport json\n"
    )
    found = sorted(n for n in imported_modules(bad) if not allowed(n, ("nswn.core",)))
    assert found == ["..api", "nswn.scenario", "pydantic"]
