"""Batched store writes: several runs in one transaction (all or none), the same tables as
writing runs one by one, and a sweep that stores finished runs in batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import nswn
from nswn.experiments import sweep as sweep_module
from nswn.experiments.design import load_design
from nswn.storage.store import ResultsStore, RunWriter


def fail_macro_inserts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every write connection fail on the macro insert, as a full disk would."""
    real_connect = ResultsStore._connect

    class Failing:
        def __init__(self, connection: Any) -> None:
            self._connection = connection

        def execute(self, sql: str, *args: Any) -> Any:
            if sql.lstrip().upper().startswith("INSERT INTO MACRO_YEAR"):
                raise OSError("simulated failure while writing macro_year")
            return self._connection.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._connection, name)

    def connect(self: ResultsStore, read_only: bool = False) -> Any:
        connection = real_connect(self, read_only=read_only)
        return connection if read_only else Failing(connection)

    monkeypatch.setattr(ResultsStore, "_connect", connect)


@pytest.fixture(scope="module")
def three_runs() -> list[Any]:
    return [nswn.simulate("baseline", seed=seed, firms=600, end_year=2027) for seed in (1, 2, 3)]


def test_a_batch_equals_runs_written_one_by_one(tmp_path: Path, three_runs: list[Any]) -> None:
    one_by_one = ResultsStore(tmp_path / "single")
    for result in three_runs:
        one_by_one.write(result)
    batched = ResultsStore(tmp_path / "batch")
    with batched.writer() as writer:
        writer.write_many(three_runs[:2])
        writer.write_many(three_runs[1:])  # a run written again is replaced, not duplicated
    for table, frame in one_by_one.snapshot().items():
        pd.testing.assert_frame_equal(batched.snapshot()[table], frame)


def test_a_failed_batch_stores_none_of_its_runs(
    tmp_path: Path, three_runs: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ResultsStore(tmp_path)
    store.write(three_runs[0])
    fail_macro_inserts(monkeypatch)
    with pytest.raises(OSError, match="simulated failure"), store.writer() as writer:
        writer.write_many(three_runs)
    monkeypatch.undo()
    assert store.finished_run_ids() == {three_runs[0].run_id}
    assert set(store.query("SELECT DISTINCT run_id FROM technology_year")["run_id"]) == {three_runs[0].run_id}


def test_a_sweep_stores_finished_runs_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    design_file = tmp_path / "d.yaml"
    design = {"name": "batches", "scenarios": ["baseline"], "seeds": 7, "root_seed": 2, "firms": 300}
    design_file.write_text(yaml.safe_dump({**design, "years": {"end": 2026}}), encoding="utf-8")
    sizes: list[int] = []
    real = RunWriter.write_many

    def counting(self: RunWriter, results: Any) -> None:
        sizes.append(len(results))
        real(self, results)

    monkeypatch.setattr(RunWriter, "write_many", counting)
    monkeypatch.setattr(sweep_module, "STORE_RUNS", 3)
    monkeypatch.setattr(sweep_module, "STORE_SECONDS", 1e9)
    report = sweep_module.sweep(load_design(design_file), tmp_path / "out", "serial")
    assert report.complete and report.completed == 7
    assert sizes == [1, 3, 3]  # the first run at once, then batches of STORE_RUNS
    assert len(ResultsStore(tmp_path / "out").finished_run_ids()) == 7
