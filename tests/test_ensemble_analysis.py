"""Ensemble analysis: bands, paired differences, parity probability, sensitivity, ``nswn summarize``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nswn import cli
from nswn.analysis import ensemble as ens
from nswn.cli import app
from nswn.experiments.design import design_from_dict
from nswn.experiments.sweep import sweep

TWO_ARMS = {
    "name": "two-arms",
    "scenarios": ["baseline"],
    "seeds": 3,
    "firms": 500,
    "years": {"end": 2028},
    "levers": {"parameters": {"levers.priorities.mode": {"values": ["broad", "shortlist"]}}},
}


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 300)
    monkeypatch.setattr(cli.errors, "width", 300)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("two-arms")
    assert sweep(design_from_dict(TWO_ARMS, source="two-arms.yaml"), out, "serial").complete
    return out


def synthetic(worlds: int = 20, shift: float = 1.0) -> pd.DataFrame:
    """Two arms in the same worlds; arm b is arm a plus ``shift`` plus nothing else."""
    rng = np.random.default_rng(0)
    base = rng.normal(10.0, 5.0, size=worlds)  # large shared noise: only pairing removes it
    a = pd.DataFrame({"arm": "a", "world": [f"w{i}" for i in range(worlds)], "year": 2030, "x": base})
    b = a.assign(arm="b", x=base + shift)
    # shuffled rows: pairing must go by world, never by position
    return pd.concat([a, b.sample(frac=1.0, random_state=1)], ignore_index=True)


def test_bands_are_the_quantiles_across_runs() -> None:
    frame = pd.DataFrame({"arm": "a", "year": 2030, "x": np.arange(101, dtype=float)})
    row = ens.bands(frame, ["x"]).iloc[0]
    assert (row["runs"], row["p5"], row["p50"], row["p95"], row["mean"]) == (101, 5.0, 50.0, 95.0, 50.0)


def test_paired_differences_remove_the_shared_noise() -> None:
    table = ens.paired_differences(synthetic(), ["x"], reference="a")
    row = table.iloc[0]
    assert (row.arm, row.pairs) == ("b", 20)
    assert row.difference == pytest.approx(1.0) and row.low == pytest.approx(1.0) and row.high == pytest.approx(1.0)
    assert row.share_positive == 1.0


def test_paired_differences_have_an_interval_that_covers_a_noisy_effect() -> None:
    frame = synthetic(worlds=200)
    noise = np.random.default_rng(2).normal(0.0, 0.5, size=(frame["arm"] == "b").sum())
    frame.loc[frame["arm"] == "b", "x"] += noise
    row = ens.paired_differences(frame, ["x"], reference="a").iloc[0]
    assert row.low < 1.0 < row.high
    assert row.high - row.low < 0.2  # far narrower than the shared noise (sd 5) would allow unpaired
    with pytest.raises(ens.EnsembleError, match="no arm 'c'"):
        ens.paired_differences(frame, ["x"], reference="c")


def test_parity_probability_counts_runs_reaching_parity_by_the_year() -> None:
    first = [2030.0, 2032.0, np.nan, 2040.0]
    frame = pd.DataFrame(
        {"run_id": list("abcd"), "arm": "x", "technology_id": "t", "group": "g", "first_parity_year": first}
    )
    by_2032 = ens.parity_probability(frame, 2032).iloc[0]
    assert (by_2032.runs, by_2032.reached, by_2032.probability) == (4, 2, 0.5)
    assert 0.0 < by_2032.low < 0.5 < by_2032.high < 1.0
    assert ens.parity_probability(frame, 2029).iloc[0].probability == 0.0
    assert ens.parity_probability(frame, 2050).iloc[0].probability == 0.75


def test_an_ensemble_reads_arms_and_worlds_of_a_design(results: Path) -> None:
    loaded = ens.load_ensemble(results)
    assert loaded.arms == ["baseline/priorities.mode=broad", "baseline/priorities.mode=shortlist"]
    assert loaded.complete and loaded.planned == 6
    macro = loaded.macro_year(["gdp", "year"])
    assert len(macro) == 6 * 5 and set(macro.columns) == {"run_id", "arm", "world", "gdp", "year"}
    diffs = ens.paired_differences(macro, ["gdp"], loaded.arms[0])
    assert diffs["pairs"].eq(3).all()
    # in the first year, before any policy acts, both arms are the same world
    assert diffs.loc[diffs["year"] == 2024, "difference"].iloc[0] == 0.0


def test_plain_runs_form_one_arm_per_scenario(tmp_path: Path) -> None:
    for seed in ("1", "2"):
        done = CliRunner().invoke(
            app,
            ["run", "baseline", "--seed", seed, "--firms", "500", "--end-year", "2027", "--out", str(tmp_path), "-q"],
        )
        assert done.exit_code == 0, done.output
    loaded = ens.load_ensemble(tmp_path)
    assert loaded.design is None and loaded.arms == ["baseline"]
    assert sorted(loaded.runs["world"]) == ["seed:1", "seed:2"]
    summary = CliRunner().invoke(app, ["summarize", str(tmp_path)])
    assert summary.exit_code == 0, summary.output
    assert "no design recorded" in summary.output and "Bands in 2027" in summary.output


def test_summarize_prints_bands_differences_and_parity_and_writes_csv(results: Path, tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["summarize", str(results), "--year", "2027", "--csv", str(tmp_path / "csv")])
    assert done.exit_code == 0, done.output
    for text in (
        "Design two-arms",
        "6 of 6 runs stored",
        "Bands in 2027",
        "Paired differences from baseline/priorities.mode=broad in 2027",
        "Bottlenecks broken by 2027",
    ):
        assert text in done.output
    written = sorted(p.name for p in (tmp_path / "csv").iterdir())
    assert written == [
        "bands_macro.csv",
        "bands_technology.csv",
        "differences_macro.csv",
        "differences_technology.csv",
        "parity_by_year.csv",
    ]
    parity = pd.read_csv(tmp_path / "csv" / "parity_by_year.csv")
    assert parity["probability"].between(0, 1).all()
    assert (parity.groupby(["arm", "technology_id"])["probability"].apply(lambda p: p.is_monotonic_increasing)).all()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--year", "2099"], "--year 2099 is not a simulated year; the runs cover 2024–2028"),
        (["--indicator", "gpd"], "unknown macro indicator(s) gpd"),
        (["--reference", "nope"], "--reference 'nope' is not an arm"),
        (["--design", "nope"], "no design 'nope'; recorded: two-arms"),
    ],
)
def test_summarize_rejects_bad_options_with_exit_2(results: Path, options: list[str], message: str) -> None:
    done = CliRunner().invoke(app, ["summarize", str(results), *options])
    assert done.exit_code == 2
    assert message in done.output


def test_summarize_without_results_exits_2(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["summarize", str(tmp_path)])
    assert done.exit_code == 2
    assert "no results database here" in done.output


def test_morris_sensitivity_ranks_the_sampled_assumptions(tmp_path: Path) -> None:
    data: dict[str, Any] = {
        "name": "morris",
        "scenarios": ["baseline"],
        "seeds": 1,
        "firms": 500,
        "years": {"end": 2027},
        "uncertainties": {
            "sampler": "morris",
            "samples": 2,
            "parameters": {
                "assumptions.innovation.emulation_rate": {"range": [0.05, 0.3]},
                "assumptions.macro.traditional_growth": {"range": [0.0, 0.06]},
            },
        },
    }
    assert sweep(design_from_dict(data, source="morris.yaml"), tmp_path, "serial").complete
    loaded = ens.load_ensemble(tmp_path)
    table = ens.sensitivity(loaded, "gdp", 2027)
    assert list(table["parameter"]) == list(data["uncertainties"]["parameters"])
    assert np.isfinite(table["mu_star"]).all()
    # GDP in 2027 is driven by the growth of the traditional sector far more than by emulation
    growth, emulation = table.set_index("parameter")["mu_star"].loc[
        ["assumptions.macro.traditional_growth", "assumptions.innovation.emulation_rate"]
    ]
    assert growth > emulation
    done = CliRunner().invoke(app, ["summarize", str(tmp_path), "--indicator", "gdp"])
    assert done.exit_code == 0, done.output
    assert "Morris sensitivity of gdp in 2027 to the uncertainties" in done.output
