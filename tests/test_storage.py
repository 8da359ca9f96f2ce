"""The DuckDB results store: one transaction per run, idempotent rewrites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import nswn
from nswn.storage.store import ResultsStore, StoreError


@pytest.fixture(scope="module")
def two_runs() -> tuple[Any, Any]:
    return (
        nswn.simulate("baseline", seed=1, firms=1000, end_year=2027),
        nswn.simulate("baseline", seed=2, firms=1000, end_year=2027),
    )


class FailingConnection:
    """A DuckDB connection that fails on the macro insert, as a full disk or a kill would."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.lstrip().upper().startswith("INSERT INTO MACRO_YEAR"):
            raise OSError("simulated failure while writing macro_year")
        return self._connection.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def fail_macro_inserts(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = ResultsStore._connect

    def connect(self: ResultsStore, read_only: bool = False) -> Any:
        connection = real_connect(self, read_only=read_only)
        return connection if read_only else FailingConnection(connection)

    monkeypatch.setattr(ResultsStore, "_connect", connect)


def row_counts(store: ResultsStore, run_id: str) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        int(store.query(f"SELECT count(*) AS n FROM {table} WHERE run_id = ?", [run_id])["n"].iloc[0])
        for table in ("runs", "technology_year", "macro_year")
    )


def test_a_run_is_stored_with_its_keys(tmp_path: Path, two_runs: tuple[Any, Any]) -> None:
    first, _ = two_runs
    store = ResultsStore(tmp_path)
    store.write(first)
    assert row_counts(store, first.run_id) == (1, len(first.technology_year), len(first.macro_year))
    stored = store.technology_year(first.run_id)
    assert not stored.duplicated(["run_id", "technology_id", "year"]).any()
    assert store.runs()["seed"].tolist() == [1]
    assert store.macro_year(first.run_id)["year"].tolist() == first.macro_year["year"].tolist()


def test_rewriting_a_run_replaces_it(tmp_path: Path, two_runs: tuple[Any, Any]) -> None:
    first, second = two_runs
    store = ResultsStore(tmp_path)
    store.write(first)
    store.write(second)
    store.write(first)
    assert len(store.runs()) == 2
    assert row_counts(store, first.run_id) == (1, len(first.technology_year), len(first.macro_year))


def test_a_failure_mid_write_leaves_no_partial_run(
    tmp_path: Path, two_runs: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_runs
    store = ResultsStore(tmp_path)
    store.write(first)
    with monkeypatch.context() as patch:
        fail_macro_inserts(patch)
        with pytest.raises(OSError, match="simulated failure"):
            store.write(second)
    assert row_counts(store, second.run_id) == (0, 0, 0)
    assert row_counts(store, first.run_id) == (1, len(first.technology_year), len(first.macro_year))


def test_a_failed_rewrite_keeps_the_previous_copy(
    tmp_path: Path, two_runs: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = two_runs
    store = ResultsStore(tmp_path)
    store.write(first)
    with monkeypatch.context() as patch:
        fail_macro_inserts(patch)
        with pytest.raises(OSError):
            store.write(first)
    assert row_counts(store, first.run_id) == (1, len(first.technology_year), len(first.macro_year))


def test_the_store_can_be_written_again_after_a_failure(
    tmp_path: Path, two_runs: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_runs
    store = ResultsStore(tmp_path)
    store.write(first)
    with monkeypatch.context() as patch:
        fail_macro_inserts(patch)
        with pytest.raises(OSError):
            store.write(second)
    store.write(second)
    assert row_counts(store, second.run_id) == (1, len(second.technology_year), len(second.macro_year))


def test_opening_a_directory_without_results_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no results database"):
        nswn.open_results(tmp_path / "empty")
    assert not (tmp_path / "empty").exists()


def test_open_results_reads_what_was_written(tmp_path: Path, two_runs: tuple[Any, Any]) -> None:
    first, _ = two_runs
    ResultsStore(tmp_path).write(first)
    store = nswn.open_results(tmp_path)
    assert store.runs()["run_id"].tolist() == [first.run_id]
