"""Runners agree bit for bit; sweeps store every run once, skip stored runs, report failures."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from nswn import cli
from nswn.cli import app
from nswn.experiments.design import design_from_dict
from nswn.experiments.runners import ProcessRunner, RunnerError, make_runner, run_batch
from nswn.experiments.sweep import sweep
from nswn.storage.store import ResultsStore

DESIGN = {
    "name": "agree",
    "scenarios": ["baseline"],
    "seeds": 2,
    "root_seed": 11,
    "firms": 1000,
    "years": {"end": 2030},
    "levers": {"parameters": {"levers.priorities.mode": {"values": ["broad", "shortlist"]}}},
    "uncertainties": {
        "sampler": "latin_hypercube",
        "samples": 2,
        "parameters": {"assumptions.innovation.emulation_rate": {"range": [0.05, 0.2]}},
    },
}


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 300)
    monkeypatch.setattr(cli.errors, "width", 300)


@pytest.fixture(scope="module")
def design() -> Any:
    return design_from_dict(DESIGN, source="agree.yaml")


@pytest.fixture(scope="module")
def serial_tables(design: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("serial")
    report = sweep(design, out, "serial")
    assert report.complete and report.completed == 8
    return ResultsStore(out).snapshot()


def assert_identical(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    """Same tables, same rows, same bits (floats compared by their hashes, NaN included)."""
    assert a.keys() == b.keys()
    for table in a:
        pd.testing.assert_frame_equal(a[table], b[table], check_exact=True, obj=table)
        assert pd.util.hash_pandas_object(a[table], index=False).equals(
            pd.util.hash_pandas_object(b[table], index=False)
        ), table


def test_a_sweep_stores_every_planned_run_once(serial_tables: dict[str, pd.DataFrame], design: Any) -> None:
    assert set(serial_tables) == {
        "runs",
        "technology_year",
        "macro_year",
        "province_year",
        "technology_ownership_year",
        "technology_attribution_year",
        "designs",
        "design_runs",
    }
    runs = serial_tables["runs"]
    assert sorted(runs["run_id"]) == sorted(s.run_id for s in design.runs)
    assert serial_tables["macro_year"].groupby("run_id").size().eq(7).all()
    plan = serial_tables["design_runs"]
    assert len(plan) == 8 and set(plan["arm"]) == set(design.arms)
    # common random numbers: each world has one seed across the arms
    assert plan.groupby(["uncertainty_point", "replicate"])["seed"].nunique().eq(1).all()
    assert serial_tables["designs"]["runs_planned"].tolist() == [8]


def test_processes_give_the_same_tables_as_serial(
    design: Any, serial_tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    runner = ProcessRunner(workers=2)
    try:
        # batches of three runs: how runs are grouped into tasks must not matter either
        report = sweep(design, tmp_path, runner, batch_size=3)
    finally:
        runner.close()
    assert report.complete and report.tasks == 3
    assert_identical(serial_tables, ResultsStore(tmp_path).snapshot())


@pytest.mark.dask
def test_a_dask_local_cluster_gives_the_same_tables_as_serial(
    design: Any, serial_tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    report = sweep(design, tmp_path, "dask", dask_local=2)
    assert report.complete and report.runner.startswith("dask (LocalCluster × 2")
    assert_identical(serial_tables, ResultsStore(tmp_path).snapshot())


def test_a_second_sweep_skips_stored_runs_and_more_seeds_reuse_the_first(design: Any, tmp_path: Path) -> None:
    first = sweep(design, tmp_path, "serial")
    again = sweep(design, tmp_path, "serial")
    assert (again.skipped, again.completed, again.tasks) == (8, 0, 0)
    assert again.complete
    wider = design_from_dict({**DESIGN, "seeds": 3}, source="agree.yaml")
    grown = sweep(wider, tmp_path, "serial")
    assert (grown.skipped, grown.completed) == (first.completed, 4)
    store = ResultsStore(tmp_path)
    assert len(store.runs()) == 12
    assert store.designs()["completed_at"].notna().all()
    assert len(store.designs()) == 2
    written = store.export_parquet(tmp_path / "parquet")
    assert sorted(p.name for p in written) == [
        "design_runs.parquet",
        "designs.parquet",
        "macro_year.parquet",
        "province_year.parquet",
        "runs.parquet",
        "technology_attribution_year.parquet",
        "technology_ownership_year.parquet",
        "technology_year.parquet",
    ]
    assert len(pd.read_parquet(tmp_path / "parquet" / "macro_year.parquet")) == 12 * 7


def test_a_failing_run_is_reported_and_the_others_are_stored(design: Any, tmp_path: Path) -> None:
    broken = dataclasses.replace(design.runs[0], version="0.0.0")
    outcome = run_batch([broken, design.runs[1]])
    assert len(outcome.results) == 1 and len(outcome.failures) == 1
    assert "install the same version on every worker" in outcome.failures[0].message
    patched = dataclasses.replace(design, runs=(broken, *design.runs[1:]))
    report = sweep(patched, tmp_path, "serial")
    assert report.completed == 7 and len(report.failures) == 1 and not report.complete
    assert ResultsStore(tmp_path).designs()["completed_at"].isna().all()


def test_the_cli_sweep_then_summarize(tmp_path: Path) -> None:
    design_file = tmp_path / "d.yaml"
    import yaml

    design_file.write_text(yaml.safe_dump(DESIGN), encoding="utf-8")
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["sweep", str(design_file), "--runner", "serial", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "8 runs stored" in done.output and f"Next: nswn summarize {out}" in done.output
    again = CliRunner().invoke(app, ["sweep", str(design_file), "--runner", "serial", "--out", str(out), "-q"])
    assert again.exit_code == 0 and again.output == ""
    summary = CliRunner().invoke(app, ["summarize", str(out)])
    assert summary.exit_code == 0, summary.output
    for title in ("Bands in 2030", "Paired differences from baseline/priorities.mode=broad", "Probability of parity"):
        assert title in summary.output


def test_runner_options_are_checked() -> None:
    assert make_runner("serial").describe() == "serial"
    with pytest.raises(RunnerError, match="unknown runner"):
        make_runner("gpu")
    with pytest.raises(RunnerError, match="need --runner dask"):
        make_runner("processes", scheduler="tcp://127.0.0.1:1")


@pytest.mark.parametrize("seeds", [[7], 1])
def test_a_design_of_one_run_equals_nswn_run(tmp_path: Path, seeds: Any) -> None:
    import yaml

    one = {"name": "one", "scenarios": ["baseline"], "seeds": seeds, "firms": 1000, "years": {"end": 2030}}
    design_file = tmp_path / "one.yaml"
    design_file.write_text(yaml.safe_dump(one), encoding="utf-8")
    seed = design_from_dict(one).seeds[0]
    swept = CliRunner().invoke(app, ["sweep", str(design_file), "--runner", "serial", "--out", str(tmp_path / "a")])
    assert swept.exit_code == 0, swept.output
    options = ["--seed", str(seed), "--firms", "1000", "--end-year", "2030", "--out", str(tmp_path / "b"), "-q"]
    ran = CliRunner().invoke(app, ["run", "baseline", *options])
    assert ran.exit_code == 0, ran.output
    from_sweep, from_run = ResultsStore(tmp_path / "a").snapshot(), ResultsStore(tmp_path / "b").snapshot()
    assert set(from_sweep) - set(from_run) == {"designs", "design_runs"}
    assert_identical({k: from_sweep[k] for k in from_run}, from_run)
    assert from_run["runs"]["seed"].tolist() == [seed]
