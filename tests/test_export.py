"""Issue 15 items 3–5: one definition of a broken bottleneck, reports for any store, getting data out."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import nswn
from nswn import cli
from nswn.analysis.parity import counts_by_group, parity_status
from nswn.cli import app
from nswn.experiments.design import design_from_dict
from nswn.experiments.sweep import sweep
from nswn.mechanisms.indicators import finalise, lasting_parity
from nswn.report.data import ReportError, load
from nswn.storage.store import ResultsStore
from nswn.summary import parity_by_group

ROOT = Path(__file__).resolve().parents[1]
FIRMS = 300
END = 2027


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 300)
    monkeypatch.setattr(cli.errors, "width", 300)


# ---------------------------------------------------------------------------------------
# item 3: broken = crossed parity after the start and stayed there through the end

SERIES = {
    # technology: at parity in 2024 … 2028
    "falls_from_start": [True, True, False, False, False],  # lidar-like: at parity at start, falls below
    "recovers_from_start": [True, False, False, True, True],  # at start, dips, climbs back: still "at start"
    "crosses_and_stays": [False, False, True, True, True],  # broken in 2026
    "crosses_dips_stays": [False, True, False, True, True],  # the lasting spell starts in 2027
    "crosses_then_falls": [False, True, True, True, False],  # not at parity at the end: not broken
    "never": [False] * 5,
}
YEARS = list(range(2024, 2029))


def synthetic_table() -> pd.DataFrame:
    rows = [
        {"technology_id": tech, "group": "stranglehold", "year": year, "parity_reached": hit}
        for year_index, year in enumerate(YEARS)
        for tech, hits in SERIES.items()
        for hit in [hits[year_index]]
    ]
    return pd.DataFrame(rows)


def test_broken_means_crossed_after_the_start_and_held_to_the_end() -> None:
    status = parity_status(synthetic_table(), by=()).set_index("technology_id")
    assert status["parity_at_start"].to_dict() == {
        "falls_from_start": True,
        "recovers_from_start": True,
        "crosses_and_stays": False,
        "crosses_dips_stays": False,
        "crosses_then_falls": False,
        "never": False,
    }
    broken = status["broken_year"]
    assert broken["crosses_and_stays"] == 2026
    assert broken["crosses_dips_stays"] == 2027
    for tech in ("falls_from_start", "recovers_from_start", "crosses_then_falls", "never"):
        assert np.isnan(broken[tech]), tech


def test_the_run_summary_counts_at_start_apart_from_broken() -> None:
    row = parity_by_group(synthetic_table()).iloc[0]
    assert row["technologies"] == 6
    assert row["at_parity_at_start"] == 2
    assert row["broken"] == 2
    assert row["median_broken_year"] == 2026.5
    assert row["at_parity_last_year"] == 3  # the last year's status counts the one that recovered


def test_counts_by_group_per_run_and_year() -> None:
    one = synthetic_table()
    two = pd.concat([one.assign(run_id="r1"), one.assign(run_id="r2", parity_reached=False)])
    counts = counts_by_group(two, years=(2026, 2027)).set_index("run_id")
    assert counts.loc["r1", ["parity_at_start", "broken_by_2026", "broken_by_2027", "broken"]].tolist() == [2, 1, 2, 2]
    assert counts.loc["r2", ["parity_at_start", "broken"]].tolist() == [0, 0]


def test_finalise_records_the_same_status_as_the_analysis() -> None:
    table = synthetic_table()
    relative = np.where(table["parity_reached"], 0.95, 0.5)
    technology = {
        "technology_id": table["technology_id"].to_numpy(dtype=object),
        "year": table["year"].to_numpy(),
        "relative_capability": relative,
    }
    macro = {name: np.ones(len(YEARS)) for name in ("publications", "patents", "gdp")}
    finalise(technology, macro, parity=0.9)
    recorded = pd.DataFrame(technology).drop_duplicates("technology_id").set_index("technology_id")
    expected = parity_status(table, by=()).set_index("technology_id")
    assert (recorded["parity_at_start"] == expected["parity_at_start"]).all()
    pd.testing.assert_series_equal(recorded["broken_year"], expected["broken_year"], check_names=False)


def test_lasting_parity_of_an_empty_table() -> None:
    at_start, broken = lasting_parity(np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0, dtype=bool))
    assert at_start.shape == broken.shape == (0,)


def test_compare_counts_broken_and_at_start_with_the_same_definition() -> None:
    from nswn.analysis.compare import KEY_INDICATORS

    tech = synthetic_table()
    by_name = {k.name: k for k in KEY_INDICATORS}
    assert by_name["stranglehold_parity_at_start"].compute(tech, pd.DataFrame(), ()) == 2
    assert np.isnan(by_name["stranglehold_broken_2035"].compute(tech, pd.DataFrame(), ()))  # the run ends in 2028
    longer = pd.concat([tech, tech[tech["year"] == 2028].assign(year=2035)])
    assert by_name["stranglehold_broken_2035"].compute(longer, pd.DataFrame(), ()) == 2


# ---------------------------------------------------------------------------------------
# item 5: province and ownership tables, recorded with group sums


@pytest.fixture(scope="module")
def run_result() -> Any:
    return nswn.simulate("baseline", seed=3, firms=FIRMS, end_year=END)


def test_province_table_adds_up_to_the_economy(run_result: Any) -> None:
    prov = run_result.province_year
    macro = run_result.macro_year.set_index("year")
    firms = prov.groupby("year")["firms"].sum()
    np.testing.assert_allclose(firms.to_numpy(), macro.loc[firms.index, "firms"].to_numpy())
    assert (prov["soe_firms"] <= prov["firms"]).all()
    assert prov["province_id"].nunique() == len(nswn.catalog.provinces())
    assert prov[prov["year"] > prov["year"].min()]["subsidies"].sum() > 0


def test_ownership_split_adds_up_to_the_technology_outputs(run_result: Any) -> None:
    own = run_result.ownership_year
    tech = run_result.technology_year.set_index(["technology_id", "year"])
    assert set(own["ownership"]) == {"private", "soe"}
    sums = own.groupby(["technology_id", "year"])[["firms", "domestic_share"]].sum()
    np.testing.assert_allclose(sums["firms"].to_numpy(), tech.loc[sums.index, "firms"].to_numpy())
    np.testing.assert_allclose(
        sums["domestic_share"].to_numpy(), tech.loc[sums.index, "china_domestic_share"].to_numpy(), atol=1e-12
    )
    best = own.groupby(["technology_id", "year"])["best_capability"].max()
    np.testing.assert_allclose(best.to_numpy(), tech.loc[best.index, "best_capability"].to_numpy())
    # provinces and ownership see the same subsidies
    prov_total = run_result.province_year.groupby("year")["subsidies"].sum()
    own_total = own.groupby("year")["subsidies"].sum()
    np.testing.assert_allclose(prov_total.to_numpy(), own_total.to_numpy(), rtol=1e-9)


# ---------------------------------------------------------------------------------------
# a tiny sweep of the example design (item 4 and the export)


@pytest.fixture(scope="module")
def sweep_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = yaml.safe_load((ROOT / "designs" / "example.yaml").read_text(encoding="utf-8"))
    data.update({"seeds": 2, "firms": FIRMS, "years": {"end": END}})
    data["uncertainties"]["samples"] = 2
    out = tmp_path_factory.mktemp("sweep")
    assert sweep(design_from_dict(data, source="example.yaml"), out, "serial").complete
    return out


def test_report_labels_sweep_arms_by_lever_values_and_folds_worlds(sweep_store: Path) -> None:
    data = load(nswn.open_results(sweep_store))
    assert [a.label for a in data.arms] == ["baseline: priorities.mode=broad", "baseline: priorities.mode=shortlist"]
    for arm in data.arms:
        assert arm.runs == 4 and arm.worlds == 2 and len(arm.seeds) == 2 and arm.ensemble
    assert set(data.capability["arm"]) == {a.key for a in data.arms}


def test_report_command_selects_arms(sweep_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    done = CliRunner().invoke(
        app, ["report", str(sweep_store), "--out", str(out), "--arms", "baseline: priorities.mode=shortlist"]
    )
    assert done.exit_code == 0, done.output
    html = out.read_text(encoding="utf-8")
    assert "priorities.mode=shortlist" in html and "priorities.mode=broad" not in html
    bad = CliRunner().invoke(app, ["report", str(sweep_store), "--out", str(tmp_path / "x.html"), "--arms", "nope"])
    assert bad.exit_code == 2 and "no arm 'nope'" in bad.output
    assert not (tmp_path / "x.html").exists()
    bad = CliRunner().invoke(app, ["report", str(sweep_store), "--scenarios", "shortlist5"])
    assert bad.exit_code == 2 and "no runs of 'shortlist5'" in bad.output


def test_report_keeps_a_python_scenario_name_and_shows_what_differs(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.write(nswn.simulate("baseline", seed=0, firms=FIRMS, end_year=END))
    changed = {"base": "baseline", "levers": {"priorities": {"mode": "shortlist"}}}  # still named "baseline"
    store.write(nswn.simulate(changed, seed=0, firms=FIRMS, end_year=END))
    store.write(nswn.simulate({**changed, "name": "mine"}, seed=0, firms=FIRMS, end_year=END))
    labels = [a.label for a in load(store).arms]
    assert labels == ["baseline", "baseline: priorities.mode=shortlist", "mine: priorities.mode=shortlist"]
    chosen = load(store, scenarios=["mine"])
    assert [a.name for a in chosen.arms] == ["mine"]
    with pytest.raises(ReportError, match="no runs of 'other'"):
        load(store, scenarios=["other"])


def test_export_round_trips_to_pandas(sweep_store: Path, tmp_path: Path) -> None:
    store = nswn.open_results(sweep_store)
    for fmt in ("parquet", "csv"):
        out = tmp_path / fmt
        done = CliRunner().invoke(app, ["export", str(sweep_store), "--format", fmt, "--out", str(out)])
        assert done.exit_code == 0, done.output
        names = {p.name for p in out.iterdir()}
        assert {f"{t}.{fmt}" for t in store.tables()} | {"units.csv"} == names
        for table in ("technology_year", "province_year", "technology_ownership_year", "macro_year", "runs"):
            path = out / f"{table}.{fmt}"
            read = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
            stored = store.query(f"SELECT * FROM {table}")
            assert list(read.columns) == list(stored.columns)
            assert len(read) == len(stored)
            keys = [c for c in ("run_id", "technology_id", "province_id", "ownership", "year") if c in stored]
            a = read.sort_values(keys).reset_index(drop=True)
            b = stored.sort_values(keys).reset_index(drop=True)
            numeric = [c for c in b.columns if pd.api.types.is_float_dtype(b[c])]
            np.testing.assert_allclose(a[numeric].to_numpy(float), b[numeric].to_numpy(float), rtol=1e-12)
        units = pd.read_csv(out / "units.csv").set_index(["table", "column"])["unit"]
        assert units[("macro_year", "gdp")] == "bn CNY, 2024 prices"
        assert units[("macro_year", "debt_to_gdp")] == "ratio"


def test_export_of_chosen_tables_and_bad_input(sweep_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "some"
    done = CliRunner().invoke(app, ["export", str(sweep_store), "--tables", "macro_year,runs", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert {p.name for p in out.iterdir()} == {"macro_year.parquet", "runs.parquet", "units.csv"}
    for options, message in (
        (["--tables", "nope"], "no table(s) 'nope'"),
        (["--format", "xlsx"], "--format must be one of csv, parquet"),
    ):
        target = tmp_path / "bad"
        bad = CliRunner().invoke(app, ["export", str(sweep_store), "--out", str(target), *options])
        assert bad.exit_code == 2 and message in bad.output
        assert not target.exists() or not any(target.iterdir())
    missing = CliRunner().invoke(app, ["export", str(tmp_path / "none")])
    assert missing.exit_code == 2 and "no results database" in missing.output


# ---------------------------------------------------------------------------------------
# item 5: --format table | csv | json


@pytest.mark.parametrize("command", [["catalog"], ["params"], ["scenarios"]])
def test_listing_commands_write_json_and_csv(command: list[str]) -> None:
    as_json = CliRunner().invoke(app, [*command, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert isinstance(rows, list) and len(rows) > 3
    as_csv = CliRunner().invoke(app, [*command, "--format", "csv"])
    frame = pd.read_csv(io.StringIO(as_csv.stdout))
    assert len(frame) == len(rows) and list(frame.columns) == list(rows[0])
    bad = CliRunner().invoke(app, [*command, "--format", "xml"])
    assert bad.exit_code == 2 and "--format must be one of table, csv, json" in bad.output


def test_catalog_csv_names_the_unit_of_money() -> None:
    frame = pd.read_csv(io.StringIO(CliRunner().invoke(app, ["catalog", "--format", "csv"]).stdout))
    assert "demand0_bn_cny" in frame.columns and "demand0" not in frame.columns
    assert len(frame[frame["group"] == "stranglehold"]) == 35


def test_summarize_json_parses(sweep_store: Path) -> None:
    done = CliRunner().invoke(app, ["summarize", str(sweep_store), "--format", "json"])
    assert done.exit_code == 0, done.output
    payload = json.loads(done.stdout)
    assert payload["year"] == END
    bands = pd.DataFrame(payload["bands"])
    assert set(bands["arm"]) == {"baseline/priorities.mode=broad", "baseline/priorities.mode=shortlist"}
    assert bands.set_index("indicator").loc["gdp", "unit"].iloc[0] == "bn CNY, 2024 prices"
    assert {"differences", "broken_by_group", "parity_probability"} <= set(payload)
    as_csv = pd.read_csv(
        io.StringIO(CliRunner().invoke(app, ["summarize", str(sweep_store), "--format", "csv"]).stdout)
    )
    assert {"bands", "differences", "broken_by_group", "parity_probability"} == set(as_csv["table"])


def test_compare_json_and_stored_runs(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    args = ["compare", "baseline", "shortlist5", "--seeds", "2", "--firms", str(FIRMS), "--end-year", "2026"]
    done = CliRunner().invoke(app, [*args, "--format", "json", "--out", str(out)])
    assert done.exit_code == 0, done.output
    payload = json.loads(done.stdout)
    assert payload["info"]["a"] == "baseline" and payload["info"]["seeds"] == 2
    rows = {r["indicator"]: r for r in payload["indicators"]}
    assert rows["stranglehold_broken_2035"]["a"] is None  # the runs end in 2026: no value, not zero
    runs = nswn.open_results(out).runs()
    assert sorted(runs["scenario_name"]) == ["baseline", "baseline", "shortlist5", "shortlist5"]
    assert sorted(runs["seed"]) == [0, 0, 1, 1]


def test_run_summary_states_units_in_headers(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app, ["run", "baseline", "--firms", str(FIRMS), "--end-year", "2030", "--out", str(tmp_path)]
    )
    assert done.exit_code == 0, done.output
    assert "GDP (bn CNY, 2024 prices)" in done.output and "debt/GDP (ratio)" in done.output
    assert re.search(r"at parity at start", done.output) and "broken by 2030" in done.output
    assert "%" not in done.output.split("Macro")[1]  # ratios, not percentages


def test_a_store_written_before_the_new_tables_takes_new_runs(run_result: Any, tmp_path: Path) -> None:
    from dataclasses import replace

    old = replace(
        run_result,
        technology_year=run_result.technology_year.drop(columns=["parity_at_start", "broken_year"]),
        breakdowns={},
        manifest={**run_result.manifest, "run_id": "old-run"},
    )
    store = ResultsStore(tmp_path)
    store.write(old)
    store.write(run_result)
    tech = store.technology_year()
    assert tech.loc[tech["run_id"] == "old-run", "broken_year"].isna().all()
    assert len(store.query("SELECT * FROM province_year")) == len(run_result.province_year)
    store.write(run_result)  # a re-write replaces the run in every table
    assert len(store.query("SELECT * FROM technology_ownership_year")) == len(run_result.ownership_year)


def test_a_breakdown_with_ragged_columns_is_refused() -> None:
    from nswn.core.record import Breakdown, Recorder

    bad = Breakdown(name="bad", keys=("k",), columns=lambda s: {"k": np.zeros(3), "x": np.zeros(2)})
    recorder = Recorder({}, {}, (bad,))
    scenario = nswn.api.with_overrides(nswn.load_scenario("baseline"), firms=200)
    state = nswn.api.build_model(nswn.api.to_config(scenario), 0).state
    with pytest.raises(ValueError, match="bad columns have shapes"):
        recorder.record(state)
