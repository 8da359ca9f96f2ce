"""History: data vintages, catalog overrides, schedules, the history scenario and the hindcast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import nswn
from nswn import catalog
from nswn.analysis import hindcast
from nswn.cli import app
from nswn.mechanisms.environment import demand_growth as environment_demand_growth
from nswn.scenario import io
from nswn.scenario.build import build_model, to_config
from nswn.scenario.build import growth_paths as build_growth_paths

ROOT = Path(__file__).resolve().parents[1]
SMALL = 1500


@pytest.mark.parametrize("year", catalog.VINTAGES)
def test_every_vintage_loads_and_validates(year: int) -> None:
    techs = catalog.technologies_for(year)
    assert [t.id for t in techs] == list(catalog.technology_ids())
    facts = catalog.macro_for(year)
    assert set(catalog.macro()) <= set(facts)
    assert facts["start_year"].value == year


def test_a_start_year_without_vintage_exits_2_listing_the_vintages() -> None:
    done = CliRunner().invoke(app, ["run", "baseline", "--start-year", "1999", "--end-year", "2030"])
    assert done.exit_code == 2
    assert "available start years: 2006, 2024" in done.output


def test_the_2006_start_reproduces_its_sourced_start_values_exactly() -> None:
    result = nswn.simulate({"base": "baseline", "years": {"start": 2006, "end": 2008}}, seed=0, firms=SMALL)
    start = result.macro_year.set_index("year").loc[2006]
    facts = catalog.macro_for(2006)
    assert start["gdp"] == pytest.approx(facts["gdp"].value, rel=1e-12)
    mva, gdp = facts["manufacturing_value_added"].value, facts["gdp"].value
    assert start["manufacturing_share"] == pytest.approx(mva / gdp, rel=1e-12)  # the closure: MVA / GDP
    assert start["manufacturing_share"] == pytest.approx(facts["manufacturing_share"].value, abs=1e-4)
    assert start["debt_to_gdp"] == pytest.approx(facts["debt_to_gdp"].value, rel=1e-12)
    tech = result.technology_year.set_index(["year", "technology_id"]).loc[2006]
    for t in catalog.technologies_for(2006):
        if t.group == "traditional":
            continue
        assert tech.loc[t.id, "relative_capability"] == pytest.approx(t.rel_capability0, rel=1e-12)
        assert tech.loc[t.id, "demand"] == pytest.approx(max(t.demand0, 1e-6), rel=1e-12)


def test_catalog_and_start_value_overrides_reach_the_engine() -> None:
    scenario = io.from_dict(
        {
            "base": "baseline",
            "years": {"end": 2026},
            "catalog": {"lithography_machines": {"rel_capability0": 0.05, "firms_real": 7}},
            "start_values": {"debt_to_gdp": 2.0},
        }
    )
    model = build_model(to_config(scenario), seed=0)
    tech = model.state.technologies
    t = tech.index("lithography_machines")
    assert tech.rel_capability0[t] == 0.05
    assert (model.state.firms.technology == t).sum() == 7
    assert model.state.macro.debt / model.state.macro.gdp == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"catalog": {"lithograph": {"demand0": 1.0}}}, "unknown technology 'lithograph'"),
        ({"catalog": {"lithography_machines": {"demand": 1.0}}}, "unknown column"),
        ({"catalog": {"lithography_machines": {"emulability": 3.0}}}, "out of range"),
        ({"start_values": {"gdp_growth": 1.0}}, "unknown start value"),
        ({"schedule": {2030: {"levers": {"central_budget": {"share_of_gdp": 0.5}}}}}, "out of range"),
        ({"schedule": {2024: {"levers": {"central_budget": {"share_of_gdp": 0.01}}}}}, "must be after the start"),
        ({"schedule": {2030: {"firms": 500}}}, "a schedule changes only levers, assumptions and catalog growth"),
        ({"schedule": {2030: {"catalog": {"solar_pv": {"rel_capability0": 0.5}}}}}, "only growth rates change by year"),
        ({"schedule": {2030: {"catalog": {"solar_p": {"demand_growth": 0.1}}}}}, "unknown technology 'solar_p'"),
        ({"schedule": {2030: {"catalog": {"solar_pv": {"demand_growth": 5.0}}}}}, "out of range"),
        (  # a change year after the end is checked too (a shorter run must not turn it into a crash)
            {"years": {"end": 2026}, "schedule": {2030: {"catalog": {"solar_pv": {"demand_growth": 9.0}}}}},
            "out of range",
        ),
        ({"schedule": {2030: {"levers": {"priorities": {"mode": "none"}}}}}, "cannot change by year"),
    ],
)
def test_bad_overrides_and_schedules_are_clear_errors(data: dict, fragment: str) -> None:
    with pytest.raises(io.ScenarioError) as error:
        io.from_dict({"base": "baseline", **data})
    assert fragment in str(error.value)


def test_a_bad_scheduled_value_is_reported_once() -> None:
    """Once, at its own year: not again in every later change year it is carried into, and a
    start value in a schedule's catalog is not also called an unknown column."""
    data = {
        "base": "baseline",
        "years": {"end": 2032},
        "schedule": {
            2028: {"catalog": {"solar_pv": {"demand_growth": 5.0, "foo_growth": 0.1}}},
            2030: {"levers": {"central_budget": {"share_of_gdp": 0.006}}},
        },
    }
    with pytest.raises(io.ScenarioError) as error:
        io.from_dict(data)
    problems = error.value.problems
    assert len(problems) == 2, problems
    assert {p.path.split(".")[1] for p in problems} == {"2028"}
    assert sum("only growth rates" in p.message for p in problems) == 1
    assert sum("out of range" in p.message for p in problems) == 1
    assert not any("unknown column" in p.message for p in problems)  # foo_growth: one message, the right list


def test_a_schedule_switches_in_its_year_and_not_before() -> None:
    scenario = {
        "base": "baseline",
        "years": {"end": 2030},
        "schedule": {2028: {"levers": {"central_budget": {"share_of_gdp": 0.02}}}},
    }
    result = nswn.simulate(scenario, seed=0, firms=SMALL)
    plain = nswn.simulate({"base": "baseline", "years": {"end": 2030}}, seed=0, firms=SMALL)
    before = plain.macro_year.set_index("year")
    after = result.macro_year.set_index("year")
    # identical up to 2027 (same seed, same levers) ...
    pd.testing.assert_frame_equal(
        before.loc[:2027].drop(columns="run_id"), after.loc[:2027].drop(columns="run_id"), check_exact=True
    )
    # ... and from 2028 the central budget is 2 % of the previous year's GDP
    gdp = after["gdp"]
    assert after.loc[2028, "central_budget"] == pytest.approx(0.02 * gdp.loc[2027], rel=1e-12)
    assert after.loc[2030, "central_budget"] == pytest.approx(0.02 * gdp.loc[2029], rel=1e-12)
    assert after.loc[2027, "central_budget"] < 0.01 * gdp.loc[2026]  # the baseline's 0.5 % before


def test_a_scheduled_growth_rate_applies_from_its_year_and_converges_from_there() -> None:
    """schedule.<year>.catalog changes a market's growth (and a frontier's) from that year on
    (model.md §8): identical runs before it; the new rate in full in its year, then converging
    to the long-run rate at the environment's speed; other markets untouched."""
    years = {"end": 2031}
    changed = {
        "base": "baseline",
        "years": years,
        "schedule": {
            2028: {"catalog": {"solar_pv": {"demand_growth": 0.4}, "lithography_machines": {"frontier_growth": 0.12}}}
        },
    }
    result = nswn.simulate(changed, seed=0, firms=SMALL)
    plain = nswn.simulate({"base": "baseline", "years": years}, seed=0, firms=SMALL)
    pd.testing.assert_frame_equal(
        plain.macro_year.set_index("year").loc[:2027].drop(columns="run_id"),
        result.macro_year.set_index("year").loc[:2027].drop(columns="run_id"),
        check_exact=True,
    )
    env = io.load("baseline").assumptions.environment
    long_run, kappa = env.long_run_demand_growth, env.demand_growth_convergence

    def series(run: nswn.Result, tech: str, column: str) -> pd.Series:
        t = run.technology_year
        return t[t["technology_id"] == tech].set_index("year")[column]

    growth = series(result, "solar_pv", "demand").pct_change()
    assert growth.loc[2028] == pytest.approx(0.4, rel=1e-9)  # in full in its year ...
    for year in (2029, 2030, 2031):  # ... then converging from there, not from the start year
        expected = long_run + (0.4 - long_run) * (1 - kappa) ** (year - 2028)
        assert growth.loc[year] == pytest.approx(expected, rel=1e-9)
    old = series(plain, "solar_pv", "demand").pct_change()
    assert growth.loc[2027] == old.loc[2027] and growth.loc[2029] > old.loc[2029]
    # the frontier moves at the new rate from 2028 (China does not lead in lithography: no foreign learning)
    frontier = series(result, "lithography_machines", "frontier").diff()
    assert frontier.loc[2027] == pytest.approx(series(plain, "lithography_machines", "frontier").diff().loc[2027])
    assert frontier.loc[2028:].to_numpy() == pytest.approx(0.12, rel=1e-9)
    # other markets keep their paths
    for tech in ("electric_vehicles", "lithography_machines"):
        assert series(result, tech, "demand").equals(series(plain, tech, "demand"))


def test_growth_paths_date_each_rate_from_its_own_change() -> None:
    """Each changed rate converges from the year before its change; unchanged rates from the start."""
    scenario = io.from_dict(
        {
            "base": "baseline",
            "years": {"end": 2040},
            "schedule": {
                2026: {"levers": {"central_budget": {"share_of_gdp": 0.006}}},  # no rate changes yet
                2028: {"catalog": {"solar_pv": {"demand_growth": 0.4}}},
                2031: {"catalog": {"solar_pv": {"world_demand_growth": 0.2}, "lidar": {"demand_growth": 0.31}}},
            },
        }
    )
    config = to_config(scenario)
    paths = build_growth_paths(config)
    assert sorted(paths) == [2028, 2031]  # 2026 changes no rate: the catalog's, as without a schedule
    ids = list(catalog.technology_ids())
    solar, lidar, evs = ids.index("solar_pv"), ids.index("lidar"), ids.index("electric_vehicles")
    first, second = paths[2028], paths[2031]
    assert first.demand_growth[solar] == 0.4 and first.demand_since[solar] == 2027
    assert first.world_demand_since[solar] == 2024 and first.demand_since[evs] == 2024
    assert second.demand_growth[solar] == 0.4 and second.demand_since[solar] == 2027  # kept, not re-dated
    assert second.world_demand_growth[solar] == 0.2 and second.world_demand_since[solar] == 2030
    assert second.demand_growth[lidar] == 0.31 and second.demand_since[lidar] == 2030


def test_market_growth_years_per_technology_agree_with_the_scalar_rule() -> None:
    env = io.load("baseline").assumptions.environment
    params = to_config(io.load("baseline")).assumptions["environment"]
    rates = np.array([0.3, 0.1, -0.05])
    for years in (0, 1, 2, 7):
        per_tech = environment_demand_growth(params, rates, np.full(3, float(years)))
        assert np.array_equal(per_tech, environment_demand_growth(params, rates, years))
    mixed = environment_demand_growth(params, rates, np.array([1.0, 3.0, 5.0]))
    k = 1 - env.demand_growth_convergence
    lr = env.long_run_demand_growth
    assert mixed == pytest.approx([0.3, lr + (0.1 - lr) * k**2, lr + (-0.05 - lr) * k**4], rel=1e-12)


def test_history_scenario_uses_the_derived_paths() -> None:
    data = yaml.safe_load((ROOT / "scenarios" / "history.yaml").read_text(encoding="utf-8"))
    overrides, macro = hindcast.derived_inputs()
    constant, yearly = hindcast.ev_market_paths()
    assert data["catalog"] == {**overrides, "electric_vehicles": constant}  # EVs: to 2011, then yearly
    assert {year: entry["assumptions"]["macro"] for year, entry in data["schedule"].items()} == macro
    scheduled = {
        year: entry["catalog"]["electric_vehicles"] for year, entry in data["schedule"].items() if "catalog" in entry
    }
    assert scheduled == yearly
    # foreign trade defence, one measure a year per market segment (catalog/history/trade_defence.csv)
    assert data["levers"]["trade_defence"]["measures"] == hindcast.trade_defence_inputs()
    # baseline starts where history ends: 2024's day-weighted rates, then those in force on 31 Dec 2024
    base = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text(encoding="utf-8"))
    assert base["levers"]["trade_defence"]["measures"] == hindcast.trade_defence_inputs(2024, 2024, carry_on=True)
    scenario = io.load("history")
    assert (scenario.years.start, scenario.years.end) == (2006, 2024)


def test_hindcast_compares_with_tolerance_and_lists_what_is_not_modelled() -> None:
    years = list(range(2006, 2025))
    macro = pd.DataFrame(
        {
            "year": years,
            "gdp": np.linspace(100, 300, len(years)),
            # on the pre-census basis: the hindcast converts it from 2020 (census_factor), to 25 % in 2024
            "manufacturing_share": np.linspace(0.32, 0.25, len(years))
            / np.where(np.array(years) >= hindcast.CENSUS_BASIS_FROM, hindcast.census_factor(), 1.0),
            "debt_to_gdp": np.linspace(1.4, 2.9, len(years)),
            "firm_rd": 1.0,
            "institution_funding": 1.0,
            "publications": 1.0,
            "patents": 1.0,
        }
    )
    technology = pd.DataFrame(
        {"year": years, "technology_id": "x", "funding_basic_research": 0.1, "relative_capability": 0.2}
    )
    targets = [
        hindcast.Target("a", "manufacturing_share", "", 2024, 25.0, 0.5, "", "test", ""),
        hindcast.Target("b", "manufacturing_share", "", 2024, 26.0, 0.5, "", "test", ""),
        hindcast.Target("c", "gdp_current", "", 2024, 1.0, 0.1, "", "test", ""),
        hindcast.Target("d", "relative_capability", "x", 2024, 0.15, 0.1, "", "test", ""),
    ]
    table = hindcast.compare([(technology, macro)] * 3, targets).set_index("target_id")
    assert table.loc["a", "status"] == "within" and table.loc["a", "median"] == pytest.approx(25.0)
    assert table.loc["b", "status"] == "missed"
    # the median 25.0 against 26.0 ± 0.5: two tolerances below, signed
    assert table.loc["b", "deviation"] == pytest.approx(-2.0)
    assert table.loc["a", "deviation"] == pytest.approx(0.0, abs=1e-9)
    assert hindcast.status_text("missed", -2.0) == "missed (-2.0)"
    assert hindcast.status_text("within", -0.04) == "within (0.0)"
    assert table.loc["c", "status"] == "not modelled" and np.isnan(table.loc["c", "deviation"])
    assert hindcast.status_text("not modelled", float("nan")) == "not modelled"
    assert table.loc["d", "status"] == "within"


@pytest.mark.slow
def test_hindcast_command_prints_the_target_table() -> None:
    done = CliRunner().invoke(app, ["hindcast", "--seeds", "1", "--firms", "3000", "--workers", "1"])
    assert done.exit_code == 0, done.output
    assert "mfg_share_2024" in done.output and "modelled targets within tolerance" in done.output


@pytest.mark.parametrize("start", catalog.VINTAGES)
def test_rd_is_compared_like_with_like(start: int) -> None:
    """GERD = the modelled industries' R&D + the rest of the economy's at its start intensity;
    basic research = the statistically counted share of block grants (closures at the start)."""
    scenario = {"base": "baseline", "years": {"start": start, "end": start + 3}}
    result = nswn.simulate(scenario, seed=0, firms=SMALL)
    macro = result.macro_year.set_index("year")
    facts = catalog.macro_for(start)
    # closures on the start year's own flows: the sourced values are reproduced exactly
    assert macro.loc[start, "gerd_share"] == pytest.approx(facts["gerd_share"].value, rel=1e-12)
    assert macro.loc[start, "basic_research_share"] == pytest.approx(facts["basic_research_share"].value, rel=1e-12)
    modelled = macro["firm_rd"] + macro["institution_funding"]
    assert (macro["gerd"] > modelled).all()
    # more central money from the next year raises GERD (the modelled part moves, the rest's
    # intensity does not)
    more = {start + 1: {"levers": {"central_budget": {"share_of_gdp": 0.02}}}}
    richer = nswn.simulate({**scenario, "schedule": more}, seed=0, firms=SMALL).macro_year.set_index("year")
    assert richer.loc[start + 2, "gerd_share"] > macro.loc[start + 2, "gerd_share"]


def test_the_labour_cost_path_is_anchored_in_2024_whatever_the_start() -> None:
    """w(y) = w0 + g_w (y − 2024): a 2006 start has the larger cost edge of 2006."""
    for start in catalog.VINTAGES:
        model = build_model(to_config(io.from_dict({"base": "baseline", "years": {"start": start, "end": 2030}})), 0)
        assert model.state.macro.labour_cost == pytest.approx(-0.5 + 0.02 * (start - 2024))


def test_hindcast_markdown_replaces_only_the_marked_block(tmp_path):
    """`nswn hindcast --markdown` rewrites the table between its markers and keeps the prose."""
    import pandas as pd

    from nswn.analysis import hindcast as hc
    from nswn.analysis.hindcast_commands import BEGIN, END, write_markdown

    table = pd.DataFrame(
        [
            dict(
                target_id="a",
                indicator="x",
                technology="",
                year=2010,
                window="train",
                observed=1.0,
                tolerance=0.1,
                median=1.05,
                p05=1.0,
                p95=1.1,
                status="within",
                deviation=0.5,
            ),
            dict(
                target_id="b",
                indicator="x",
                technology="solar_pv",
                year=2020,
                window="test",
                observed=2.0,
                tolerance=0.1,
                median=3.0,
                p05=2.9,
                p95=3.1,
                status="missed",
                deviation=10.0,
            ),
        ]
    )
    text = hc.markdown_table(table, seeds=3, firms=None)
    assert "| b (solar_pv) | test | 2020 |" in text
    assert "**1 of 2**" in text and "train window: 1 of 1" in text and "test window: 0 of 1" in text
    doc = tmp_path / "history.md"
    doc.write_text(f"intro\n{BEGIN}\nold table\n{END}\noutro\n", encoding="utf-8")
    write_markdown(doc, text)
    written = doc.read_text(encoding="utf-8")
    assert written.startswith("intro\n") and written.endswith(f"{END}\noutro\n")
    assert "old table" not in written and "| a | train | 2010 |" in written


def test_scheduled_world_demand_and_later_lever_years_keep_the_paths() -> None:
    """World demand follows its own scheduled rate and date; a later lever-only change year keeps
    the paths; the demand scale applies to a scheduled rate as to the catalog's."""
    env = io.load("baseline").assumptions.environment
    long_run, kappa = env.long_run_demand_growth, env.demand_growth_convergence
    scenario = {
        "base": "baseline",
        "years": {"end": 2031},
        "assumptions": {"environment": {"demand_growth_scale": 1.5}},
        "schedule": {
            2028: {"catalog": {"solar_pv": {"demand_growth": 0.2}, "electric_vehicles": {"world_demand_growth": 0.3}}},
            2030: {"levers": {"central_budget": {"share_of_gdp": 0.006}}},
        },
    }
    t = nswn.simulate(scenario, seed=0, firms=SMALL).technology_year
    t = t.assign(world_demand=t["china_exports"] + t["foreign_exports"])

    def growth(tech: str, column: str) -> pd.Series:
        return t[t["technology_id"] == tech].set_index("year")[column].pct_change()

    for year in (2028, 2029, 2030, 2031):
        decay = (1 - kappa) ** (year - 2028)
        assert growth("solar_pv", "demand").loc[year] == pytest.approx(long_run + (1.5 * 0.2 - long_run) * decay)
        assert growth("electric_vehicles", "world_demand").loc[year] == pytest.approx(
            long_run + (1.5 * 0.3 - long_run) * decay
        )
    # solar's world demand was not changed: it keeps converging from the start year
    g0 = catalog.technologies_for(2024)[list(catalog.technology_ids()).index("solar_pv")].world_demand_growth
    for year in (2028, 2031):
        expected = long_run + (1.5 * g0 - long_run) * (1 - kappa) ** (year - 2024 - 1)
        assert growth("solar_pv", "world_demand").loc[year] == pytest.approx(expected)


def test_market_series_rows_carry_source_basis_and_plausible_values() -> None:
    """catalog/history/market_series.csv (sourced yearly market volumes, not read by a run yet):
    every row has a source, a unit and a basis; years lie in the hindcast window; values are positive."""
    path = Path(nswn.__file__).parent / "catalog" / "history" / "market_series.csv"
    table = pd.read_csv(path)
    assert list(table.columns) == ["series", "region", "year", "value", "unit", "basis", "source", "note"]
    assert table["source"].str.strip().str.len().gt(0).all() and table["unit"].str.len().gt(0).all()
    assert set(table["basis"]) <= {"sourced", "derived"}
    assert table["year"].between(2006, 2024).all() and (table["value"] > 0).all()
    assert not table.duplicated(["series", "region", "year", "unit"]).any()  # one value per unit
    # China's electric-car sales never exceed the world's in the same series and year
    cars = table[table["series"] == "ev_car_sales_iea"].pivot(index="year", columns="region", values="value")
    assert (cars["China"] <= cars["World"]).all()


def test_the_ev_markets_of_history_follow_car_sales_and_reach_the_2024_catalog() -> None:
    """hindcast.ev_market_paths: from 2012 the EV markets grow as IEA's electric-car sales (China;
    the world less China), and the simulated markets of ``history`` reach the 2024 catalog."""
    constant, yearly = hindcast.ev_market_paths()
    china = hindcast._market_units("ev_car_sales_iea", "China")
    world = hindcast._market_units("ev_car_sales_iea", "World")
    assert sorted(yearly) == list(range(hindcast.EV_FIRST_YEARLY, 2025))
    assert yearly[2014]["demand_growth"] == pytest.approx(china[2014] / china[2013] - 1, abs=1e-5)  # 4.6-fold
    rest = {y: world[y] - china[y] for y in china}
    assert yearly[2021]["world_demand_growth"] == pytest.approx(rest[2021] / rest[2020] - 1, abs=1e-5)
    result = nswn.simulate("history", seed=0, firms=SMALL)
    ev = result.technology_year.query("technology_id == 'electric_vehicles'").set_index("year")
    outside = ev["china_exports"] + ev["foreign_exports"]
    now = {t.id: t for t in catalog.technologies_for(2024)}["electric_vehicles"]
    assert ev.loc[2024, "demand"] == pytest.approx(now.demand0, rel=1e-3)  # rates rounded to 5 decimals
    assert outside.loc[2024] == pytest.approx(now.world_demand0, rel=1e-3)
    assert ev.loc[2014, "demand"] / ev.loc[2013, "demand"] == pytest.approx(1 + yearly[2014]["demand_growth"])
    assert ev.loc[2011, "demand"] / ev.loc[2010, "demand"] == pytest.approx(1 + constant["demand_growth"])


def _market_paths_script() -> Any:
    """benchmarks/history_market_paths.py, loaded by path (nothing added to ``sys.path``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "nswn_bench_market_paths", ROOT / "benchmarks" / "history_market_paths.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_market_paths_comparison_puts_evs_back_on_their_constant_rates() -> None:
    """The comparison arm is history with the EV markets on derived_inputs' constant rates and no
    yearly EV steps, everything else as shipped; its table lists a target that lost its median."""
    script = _market_paths_script()
    data = script.constant_variant()
    shipped = yaml.safe_load((ROOT / "scenarios" / "history.yaml").read_text(encoding="utf-8"))
    overrides, _ = hindcast.derived_inputs()
    assert data["catalog"] == overrides
    assert not any("catalog" in entry for entry in data["schedule"].values())
    assert data["levers"] == shipped["levers"] and data["assumptions"] == shipped["assumptions"]
    assert {y: e.get("assumptions") for y, e in data["schedule"].items()} == {
        y: e.get("assumptions") for y, e in shipped["schedule"].items()
    }
    io.from_dict(data)  # a valid scenario on the shipped base
    row = {"observed": 2011.0, "tolerance": 1.0, "status": "missed"}
    a = pd.DataFrame([{"target_id": "hsr_parity", **row, "median": 2018.0, "deviation": 7.0}])
    b = pd.DataFrame([{"target_id": "hsr_parity", **row, "median": np.nan, "deviation": np.nan}])
    text = script.markdown({"constant": a, "yearly": b}, seeds=2, seconds=1.0)
    assert "| hsr_parity | 2011 ± 1 | 2018 (missed (+7.0)) | — (missed) |" in text


_all_targets = hindcast.targets


def _parity_runs(years: list[float]) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    return [
        (
            pd.DataFrame({"technology_id": ["high_speed_rail"], "year": [2011], "first_parity_year": [year]}),
            pd.DataFrame({"year": [2011]}),
        )
        for year in years
    ]


def test_a_parity_year_some_runs_never_reach_is_censored_not_dropped() -> None:
    """A run that never reaches parity counts as +inf: the median exists while fewer than half of
    the runs are censored, and the band's upper end reads "never"."""
    target = [t for t in hindcast.targets() if t.target_id == "hsr_parity"]
    nine = [2015.0, 2016.0, 2017.0, 2018.0, 2019.0, 2020.0, 2015.0, 2016.0, 2018.0]
    row = hindcast.compare(_parity_runs([*nine, np.nan]), target).iloc[0]
    assert row["median"] == pytest.approx(2017.5)  # the 5th and 6th of ten, the never-run last
    assert row["p05"] == 2015.0 and row["p95"] == np.inf
    assert row["status"] == "missed" and row["deviation"] == pytest.approx(6.5)
    text = hindcast.markdown_table(hindcast.compare(_parity_runs([*nine, np.nan]), target), seeds=10, firms=None)
    assert "| 2017.5 [2015, after 2011] | missed (+6.5) |" in text  # censored at the runs' last year
    # censoring moves the median up: the same nine years with a tenth run at 2015 give a lower one
    assert hindcast.compare(_parity_runs([*nine, 2015.0]), target).iloc[0]["median"] == pytest.approx(2016.5)
    # a censored run can still leave the target within
    within = hindcast.compare(_parity_runs([2011.0] * 9 + [np.nan]), target).iloc[0]
    assert within["status"] == "within" and within["median"] == 2011.0
    # half the runs censored: no median, missed
    half = hindcast.compare(_parity_runs([np.nan] * 5 + [2012.0] * 5), target).iloc[0]
    assert np.isnan(half["median"]) and half["status"] == "missed"


def test_only_event_years_are_censored() -> None:
    """Other targets keep the rule: no median unless every run gives a value."""
    target = [t for t in hindcast.targets() if t.target_id == "litho_2024"]
    runs = [
        (
            pd.DataFrame({"technology_id": ["lithography_machines"], "year": [2024], "relative_capability": [v]}),
            pd.DataFrame({"year": [2024]}),
        )
        for v in (0.1, 0.2, np.nan)
    ]
    row = hindcast.compare(runs, target).iloc[0]
    assert np.isnan(row["median"]) and row["p95"] == pytest.approx(0.195)


def test_a_run_that_stopped_before_the_others_is_not_censored() -> None:
    """Not having reached parity by an earlier last year says nothing about later years."""
    target = [t for t in hindcast.targets() if t.target_id == "hsr_parity"]
    short = (
        pd.DataFrame({"technology_id": ["high_speed_rail"], "year": [2011], "first_parity_year": [np.nan]}),
        pd.DataFrame({"year": [2010, 2011]}),
    )
    longer = [
        (tech.assign(year=2014), pd.DataFrame({"year": [2011, 2014]}))
        for tech, _ in _parity_runs([2012.0, 2012.0, 2013.0, np.nan])
    ]
    alone = hindcast.compare(longer, target).iloc[0]
    mixed = hindcast.compare([*longer, short, short], target).iloc[0]
    assert alone["median"] == mixed["median"] == 2012.5 and mixed["horizon"] == 2014
    assert mixed["p95"] == np.inf
    assert hindcast.censored_text(np.inf, 2014) == "after 2014" and hindcast.censored_text(2012.0, 2014) is None


def test_parity_bands_are_years_and_a_median_on_the_tolerance_is_within() -> None:
    target = [t for t in hindcast.targets() if t.target_id == "hsr_parity"]
    # no run censored: still order statistics, never a fractional year from interpolation
    row = hindcast.compare(_parity_runs([2010.0, 2011.0, 2012.0, 2013.0, 2014.0, 2015.0, 2016.0]), target).iloc[0]
    assert (row["p05"], row["p95"]) == (2010.0, 2016.0)
    edge = hindcast.compare(_parity_runs([2012.0, 2012.0, 2012.0, np.nan]), target).iloc[0]
    assert edge["median"] == 2012.0 and edge["status"] == "within"  # 2011 ± 1: the edge is inside


def test_the_cli_prints_a_censored_band_as_after_the_last_year(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from nswn.cli import app

    runs = _parity_runs([2015.0, 2016.0, 2017.0, 2018.0, 2019.0, np.nan])
    monkeypatch.setattr(hindcast, "run_history", lambda *args, **kwargs: runs)
    monkeypatch.setattr(hindcast, "targets", lambda: [t for t in _all_targets() if t.target_id == "hsr_parity"])
    result = CliRunner().invoke(app, ["hindcast", "--seeds", "5"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2017.5 [2015, after 2011]" in result.output and "inf" not in result.output  # the half kept
