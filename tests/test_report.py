"""The offline HTML report: contents, ensembles as fans, claims when present, the command."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import nswn
from nswn.cli import app
from nswn.report import build_report
from nswn.report.data import hhi, load
from nswn.storage.store import RUN_COLUMNS, ResultsStore

FIRMS = 300
END = 2030


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seeds of the baseline (an ensemble) and one run of a shortlist scenario."""
    directory = tmp_path_factory.mktemp("results")
    store = ResultsStore(directory)
    for seed in (0, 1):
        store.write(nswn.simulate("baseline", seed=seed, firms=FIRMS, end_year=END))
    store.write(nswn.simulate("shortlist5", seed=0, firms=FIRMS, end_year=END))
    return directory


@pytest.fixture(scope="module")
def report_html(results: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert build_report(results, out) == out
    return out.read_text(encoding="utf-8")


def figure(html: str, div_id: str) -> dict[str, Any]:
    """The data and layout plotly draws in ``div_id``."""
    match = re.search(
        r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{"displaylogo"',
        html,
        re.S,
    )
    assert match, div_id
    return {"data": json.loads(match.group(1)), "layout": json.loads(match.group(2))}


def test_report_is_one_self_contained_file(report_html: str) -> None:
    assert report_html.startswith("<!doctype html>")
    assert re.search(r"<script[^>]+src=", report_html) is None  # nothing loaded from elsewhere
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", report_html, flags=re.S)
    library = max(scripts, key=len)
    assert re.search(r"plotly\.js v\d", library)  # the library itself is embedded
    rest = report_html.replace(library, "")
    assert "cdn.plot.ly" not in rest and "https://" not in rest and "http://" not in rest
    for link in re.findall(r'(?:href|src)="([^"#]+)"', rest):
        pytest.fail(f"the report links to {link}")


def test_report_has_every_section(report_html: str) -> None:
    for section in ("capability", "parity", "markets", "two-layers", "macro", "funding", "manifest"):
        assert f'<section id="{section}">' in report_html, section
    assert '<section id="claims">' not in report_html  # no claims table in these results


def test_capability_grid_draws_every_stranglehold_technology(report_html: str, results: Path) -> None:
    fig = figure(report_html, "fig-capability")
    from nswn import catalog

    stranglehold = [t.name_en for t in catalog.technologies() if t.group == "stranglehold"]
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles == stranglehold
    assert len(fig["layout"]["shapes"]) == len(stranglehold)  # a parity line in each panel
    assert {s["y0"] for s in fig["layout"]["shapes"]} == {0.9}


def test_an_ensemble_is_a_fan_and_a_single_run_a_line(report_html: str) -> None:
    fig = figure(report_html, "fig-capability")
    first_panel = [t for t in fig["data"] if t.get("xaxis") == "x"]
    bands = [t for t in first_panel if t.get("fill") == "tonexty"]
    lines = [t for t in first_panel if t.get("showlegend") is not False or t.get("name")]
    assert [b["legendgroup"] for b in bands] == ["baseline"]
    assert {t["name"] for t in lines if "name" in t} == {"baseline", "shortlist5"}


def test_fan_is_the_median_and_spread_of_seeds(results: Path) -> None:
    store = nswn.open_results(results)
    data = load(store)
    baseline = next(a for a in data.arms if a.name == "baseline")
    assert baseline.ensemble and baseline.seeds == (0, 1)
    tech = store.technology_year()
    runs = store.runs().set_index("run_id")
    tech["hash"] = tech["run_id"].map(runs["scenario_hash"])
    litho = tech[(tech["hash"] == baseline.key) & (tech["technology_id"] == "lithography_machines")]
    expected = litho.groupby("year")["relative_capability"].agg(["min", "median", "max"])
    drawn = data.capability[(data.capability["arm"] == baseline.key)]
    drawn = drawn[drawn["technology_id"] == "lithography_machines"].set_index("year")
    assert drawn["cap_q50"].to_numpy() == pytest.approx(expected["median"].to_numpy())
    assert (drawn["cap_q10"] >= expected["min"] - 1e-12).all() and (drawn["cap_q90"] <= expected["max"] + 1e-12).all()


def test_group_shares_are_demand_weighted(results: Path) -> None:
    store = nswn.open_results(results)
    data = load(store)
    single = next(a for a in data.arms if not a.ensemble)
    tech = store.technology_year()
    run_id = store.runs().set_index("scenario_hash").loc[single.key, "run_id"]
    part = tech[(tech["run_id"] == run_id) & (tech["group"] == "stranglehold") & (tech["year"] == END)]
    expected = (part["china_domestic_share"] * part["demand"]).sum() / part["demand"].sum()
    row = data.groups[(data.groups["arm"] == single.key) & (data.groups["grp"] == "stranglehold")]
    assert row.set_index("year").loc[END, "share_q50"] == pytest.approx(expected)
    assert row.set_index("year").loc[END, "exports_q50"] == pytest.approx(part["china_exports"].sum())


def test_parity_timeline_lists_technologies_that_start_below_parity(report_html: str, results: Path) -> None:
    data = load(nswn.open_results(results))
    fig = figure(report_html, "fig-parity")
    below = data.parity_years[data.parity_years["start_capability"] < data.parity]
    assert len(fig["layout"]["yaxis"]["ticktext"]) == below["technology_id"].nunique()
    assert fig["layout"]["xaxis"]["ticktext"][-1] == f"not by {END}"
    assert {t["name"] for t in fig["data"]} == {"baseline", "shortlist5"}
    shares = data.parity_years["reached_share"]
    assert ((shares >= 0) & (shares <= 1)).all()


def test_funding_and_its_concentration(report_html: str, results: Path) -> None:
    data = load(nswn.open_results(results))
    assert "basic_research" in data.funding_lines
    bars = figure(report_html, "fig-funding-lines")["data"]
    assert all(t["type"] == "bar" for t in bars)
    assert "HHI across technologies" in report_html
    assert hhi([1, 1, 1, 1]) == pytest.approx(0.25)
    assert hhi([5, 0, 0]) == 1.0
    assert hhi([0, 0]) == 0.0


def test_manifest_names_versions_hashes_and_seeds(report_html: str, results: Path) -> None:
    runs = nswn.open_results(results).runs()
    manifest = report_html.split('<section id="manifest">')[1]
    for run in runs.itertuples():
        assert run.scenario_hash in manifest
        assert run.run_id in manifest
    assert nswn.__version__ in manifest
    assert "0, 1" in manifest  # the ensemble's seeds


def test_claims_table_is_rendered_when_the_store_has_one(results: Path, tmp_path: Path) -> None:
    copy = tmp_path / "with-claims"
    shutil.copytree(results, copy)
    claims = pd.DataFrame(
        {
            "claim": ["C1", "C2"],
            "statement": ["Shortlists break bottlenecks <faster>", "Controls backfire"],
            "effect": [3.5, np.nan],
            "verdict": ["supported", "inconclusive"],
        }
    )
    con = duckdb.connect(str(copy / "results.duckdb"))
    con.register("claims_frame", claims)
    con.execute("CREATE TABLE claims AS SELECT * FROM claims_frame")
    con.close()
    html = build_report(copy).read_text(encoding="utf-8")
    section = html.split('<section id="claims">')[1].split("</section>")[0]
    assert "Shortlists break bottlenecks &lt;faster&gt;" in section  # escaped
    assert "inconclusive" in section and "3.5" in section and "—" in section


def test_report_command_writes_the_file_and_prints_its_path(results: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "nested" / "r.html"
    result = runner.invoke(app, ["report", str(results), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out.resolve())
    assert out.stat().st_size > 1_000_000  # plotly.js is inside
    default = runner.invoke(app, ["report", str(results)])
    assert default.exit_code == 0, default.output
    assert default.output.strip() == str((results / "report.html").resolve())


def test_report_command_explains_missing_results(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "no results database" in result.output


def test_report_of_an_empty_store_says_so(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "results.duckdb"))
    con.execute("CREATE TABLE runs (" + ", ".join(f"{k} {v}" for k, v in RUN_COLUMNS.items()) + ")")
    con.close()
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "no runs" in result.output


def test_cli_start_up_stays_light() -> None:
    code = (
        "import sys, nswn, nswn.cli\n"
        "heavy = [m for m in ('plotly', 'jinja2', 'fastapi', 'uvicorn', 'starlette') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == ""


def hindcast_observed() -> dict[int, float]:
    from nswn.analysis import hindcast

    return hindcast.published_manufacturing_share_observed()


def test_the_report_draws_history_runs_against_observations(tmp_path: Path) -> None:
    """Runs of the history scenario get a section: bands, observed points and the targets."""
    from nswn.report.render import build_report
    from nswn.storage.store import ResultsStore

    store = ResultsStore(tmp_path)
    for seed in range(2):
        store.write(nswn.simulate("history", seed=seed, firms=1500, end_year=2021))
    html = build_report(tmp_path, None).read_text(encoding="utf-8")
    assert 'id="history"' in html and "fig-history" in html
    assert "mfg_share_2012" in html  # a target inside the simulated years
    # the manufacturing panel draws the share as published (nominal, census basis), not the real one
    from nswn.report import history

    tables = history.load(store)
    from nswn.analysis import hindcast

    band = tables["bands"].query("column == @history.PUBLISHED").set_index("year")
    nominal = store.query("SELECT year, manufacturing_share_nominal FROM macro_year").groupby("year").median()
    nominal = nominal["manufacturing_share_nominal"]
    assert band.loc[2012, "median"] == pytest.approx(100 * nominal.loc[2012])  # pre-census basis as it is
    assert band.loc[2021, "median"] == pytest.approx(100 * nominal.loc[2021] * hindcast.census_factor())
    observed = tables["observed"].query("column == @history.PUBLISHED")
    assert dict(zip(observed["year"], observed["value"], strict=True)) == hindcast_observed()
    assert observed.set_index("year").loc[2021, "value"] == 26.62  # the revised value, not the first release
    assert "modelled targets lie within their tolerance" in html
