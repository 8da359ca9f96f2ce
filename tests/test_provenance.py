"""Run ids carry a hash of the model code and catalog (nswn.provenance)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nswn import api, provenance


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of the installed package's source tree."""
    root = tmp_path / "nswn"
    shutil.copytree(provenance.PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_copy_hashes_like_the_package(package_copy: Path) -> None:
    assert provenance.hash_model(package_copy) == provenance.model_hash()
    names = {p.relative_to(package_copy).as_posix() for p in provenance.model_files(package_copy)}
    assert {"catalog/technologies.csv", "mechanisms/markets.py", "core/model.py", "scenario/build.py"} <= names
    assert "instruments/megaprojects.py" in names


@pytest.mark.parametrize(
    "relative",
    [
        "catalog/technologies.csv",
        "catalog/vintages/2006/technologies.csv",
        "catalog/history/macro_series.csv",
        "mechanisms/markets.py",
        "instruments/megaprojects.py",
        "core/state.py",
    ],
)
def test_a_changed_catalog_or_model_file_changes_the_hash(package_copy: Path, relative: str) -> None:
    before = provenance.hash_model(package_copy)
    path = package_copy / relative
    path.write_bytes(path.read_bytes() + b"\n")
    assert provenance.hash_model(package_copy) != before


def test_files_outside_the_model_do_not_enter_the_hash(package_copy: Path) -> None:
    before = provenance.hash_model(package_copy)
    (package_copy / "cli.py").write_text("# edited\n", encoding="utf-8")
    (package_copy / "mechanisms" / "notes.txt").write_text("not source\n", encoding="utf-8")
    assert provenance.hash_model(package_copy) == before


def test_line_endings_do_not_change_the_hash(package_copy: Path) -> None:
    before = provenance.hash_model(package_copy)
    path = package_copy / "catalog" / "macro.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert provenance.hash_model(package_copy) == before


def test_run_ids_change_with_the_model_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    same = api.run_id_for("baseline", "abc", 0)
    assert same == api.run_id_for("baseline", "abc", 0, model=provenance.model_hash())
    assert api.run_id_for("baseline", "abc", 0, model="0" * 16) != same
    # what simulate and ensemble designs use: the process's model hash
    monkeypatch.setattr(provenance, "model_hash", lambda: "f" * 16)
    assert api.run_id_for("baseline", "abc", 0) != same
    assert api.run_id_for("baseline", "abc", 0) == api.run_id_for("baseline", "abc", 0, model="f" * 16)


def test_a_run_records_its_model_hash() -> None:
    result = api.simulate("baseline", seed=0, firms=200, end_year=2025)
    assert result.manifest["model_hash"] == provenance.model_hash()
    assert result.run_id == api.run_id_for("baseline", result.manifest["scenario_hash"], 0)
