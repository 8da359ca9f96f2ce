"""nswn derisk: the optimiser wrapper, design validation, objective signs, decoding, reproducibility."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nswn.analysis import derisk
from nswn.analysis.derisk_space import DeriskError, from_dict, load
from nswn.cli import app
from nswn.experiments.runners import make_runner

ROOT = Path(__file__).resolve().parents[1]

SPACE: dict[str, Any] = {
    "yard": ["lithography_machines", "photoresist", "sector:software"],
    "fence": {"range": [0.3, 1.0]},
    "announcement_year": {"range": [2025, 2027]},
    "effective_lag": {"range": [0, 2]},
    "coverage": {"range": [0.5, 1.0]},
    "duration": {"range": [3, 10]},
}


def _design(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "t", "seeds": 2, "root_seed": 3, "max_yard": 3, "controls_space": SPACE}
    data.update(changes)
    return data


# --------------------------------------------------------------------------- optimiser


def _zdt1(x: np.ndarray) -> np.ndarray:
    f1 = x[:, 0]
    g = 1.0 + 9.0 * x[:, 1:].mean(axis=1)
    return np.column_stack([f1, g * (1.0 - np.sqrt(f1 / g))])


def test_optimiser_recovers_the_zdt1_front() -> None:
    def evaluate(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _zdt1(x), np.full((len(x), 1), -1.0)

    _, f = derisk.optimise(evaluate, n_var=5, n_obj=2, population=40, generations=120, seed=1)
    assert len(f) >= 20
    # every point close to the true front f2 = 1 − √f1, and the front spread over f1
    assert np.max(np.abs(f[:, 1] - (1.0 - np.sqrt(f[:, 0])))) < 0.05
    assert f[:, 0].min() < 0.05 and f[:, 0].max() > 0.9


def test_optimiser_respects_the_constraint() -> None:
    def evaluate(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _zdt1(x), (x[:, :1] - 0.5)  # feasible only for f1 = x0 ≤ 0.5

    x, f = derisk.optimise(evaluate, n_var=5, n_obj=2, population=30, generations=60, seed=2)
    assert len(f) > 5
    assert np.all(x[:, 0] <= 0.5 + 1e-12)


def test_non_dominated_on_a_known_set() -> None:
    f = np.array([[1.0, 1.0], [0.0, 2.0], [2.0, 0.0], [1.5, 1.5], [1.0, 1.0]])
    assert list(derisk.non_dominated(f)) == [0, 1, 2, 4]  # (1.5, 1.5) dominated by (1, 1); ties kept


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"seeds": 0}, "seeds", "1 to"),
        ({"quantile": 0.8}, "quantile", "(0, 0.5]"),
        ({"objectives": ["delay"]}, "objectives", "two or more"),
        ({"objectives": ["delay", "happiness"]}, "objectives", "gdp_cost"),
        ({"max_yard": 0}, "max_yard", "integer from 1"),
        ({"bogus": 1}, "bogus", "unknown key"),
        ({"search": {"population": 2}}, "search.population", "from 4"),
        ({"controls_space": {**SPACE, "yard": ["lithography_machine"]}}, "controls_space.yard.0", "did you mean"),
        ({"controls_space": {**SPACE, "yard": ["sector:cooking"]}}, "controls_space.yard.0", "semiconductors"),
        ({"controls_space": {**SPACE, "fence": {"range": [0.3, 1.5]}}}, "controls_space.fence.range", "0 to 1"),
        ({"controls_space": {**SPACE, "fence": {"range": [0.3, 0.9], "per": "x"}}}, "controls_space.fence.per", "yard"),
        ({"controls_space": {**SPACE, "coverage": {"value": -0.1}}}, "controls_space.coverage.value", "0 to 1"),
        (
            {"controls_space": {**SPACE, "announcement_year": {"range": [2025.5, 2027]}}},
            "controls_space.announcement_year.range",
            "integer",
        ),
        ({"controls_space": {**SPACE, "duration": {"range": [0, 5]}}}, "controls_space.duration.range", "1 to 200"),
        ({"controls_space": {**SPACE, "when": 1}}, "controls_space.when", "unknown key"),
        ({"controls_space": None}, "controls_space", "mapping"),
    ],
)
def test_design_errors_name_field_value_and_range(changes: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(DeriskError) as info:
        from_dict(_design(**changes), source="d.yaml")
    problems = info.value.problems
    assert any(p.path == path and words in p.message and p.file == "d.yaml" for p in problems), problems


def test_an_unknown_scenario_is_an_error() -> None:
    with pytest.raises(DeriskError) as info:
        from_dict(_design(base="no_such_scenario", shipped=["broad_controls", "nor_this"]), source="d.yaml")
    paths = {p.path for p in info.value.problems}
    assert {"base", "shipped.1"} <= paths and "shipped.0" not in paths


def test_a_missing_space_is_an_error() -> None:
    data = _design()
    del data["controls_space"]
    with pytest.raises(DeriskError, match="controls_space"):
        from_dict(data)


def test_cli_reports_a_bad_design_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("controls_space:\n  yard: [nothing_like_this]\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["derisk", str(bad), "--out", str(out)])
    assert result.exit_code == 2
    assert "controls_space.yard.0" in result.output and "nothing_like_this" in result.output
    assert not out.exists()


def test_the_shipped_example_validates() -> None:
    design = load(ROOT / "designs" / "derisk_example.yaml")
    quick = design.quick_version()
    assert quick.firms == 2000 and len(quick.seeds) == 3 and quick.horizon == 2050
    assert quick.seeds == design.seeds[:3]  # quick seeds are the first replicates of the full design


# --------------------------------------------------------------------------- decoding


def test_decode_maps_the_unit_cube_to_a_design() -> None:
    design = from_dict(_design())
    names = design.space.variables()
    assert names == [
        "in:lithography_machines",
        "in:photoresist",
        "in:sector:software",
        "fence",
        "announcement_year",
        "effective_lag",
        "coverage",
        "duration",
    ]
    x = np.array([1.0, 0.0, 0.9, 1.0, 0.5, 1.0, 0.0, 0.0])
    c = derisk.decode(x, design)
    assert c.technologies == ("database_management_systems", "lithography_machines", "operating_systems")
    assert c.fence == (1.0, 1.0, 1.0)
    assert (c.announcement_year, c.effective_year, c.coverage, c.duration) == (2026, 2028, 0.5, 3)
    (batch,) = c.batches()
    assert batch == {
        "technologies": list(c.technologies),
        "year": 2028,
        "announced": 2026,
        "fence_height": 1.0,
        "coverage": 0.5,
        "duration": 3,
    }
    assert derisk.yard_size(x, design) == 3


def test_fence_per_technology_gives_one_batch_per_height() -> None:
    space = {**SPACE, "fence": {"per": "technology", "range": [0.0, 1.0]}, "yard": ["photoresist", "group:future"]}
    design = from_dict(_design(controls_space=space, max_yard=20))
    switches = ["in:photoresist", "in:group:future"]
    assert design.space.variables()[:4] == [*switches, "fence:photoresist", "fence:group:future"]
    c = derisk.decode(np.array([1.0, 1.0, 0.25, 0.75, 0.0, 0.0, 0.0, 0.0]), design)
    assert len(c.technologies) == 9 and dict(zip(c.technologies, c.fence, strict=True))["photoresist"] == 0.25
    heights = [b["fence_height"] for b in c.batches()]
    assert heights == [0.25, 0.75] and c.batches()[0]["technologies"] == ["photoresist"]


def test_fixed_dimensions_are_not_searched() -> None:
    space = {**SPACE, "duration": {"value": None}, "effective_lag": {"value": 0}, "fence": {"value": 0.8}}
    design = from_dict(_design(controls_space=space))
    assert design.space.variables() == [
        "in:lithography_machines",
        "in:photoresist",
        "in:sector:software",
        "announcement_year",
        "coverage",
    ]
    c = derisk.decode(np.array([1.0, 1.0, 0.0, 0.0, 1.0]), design)
    assert (c.fence, c.effective_year, c.duration, c.coverage) == ((0.8, 0.8), 2025, None, 1.0)
    assert "announced" not in c.batches()[0]  # no window when effective = announced


# --------------------------------------------------------------------------- objectives


def _tables(parity: list[float], sales: float, share: float, gdp: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for year in (2024, 2025, 2026):
        for i, tech in enumerate(("a", "b")):
            rows.append(
                {
                    "technology_id": tech,
                    "year": year,
                    "first_parity_year": parity[i],
                    "foreign_china_sales": sales,
                    "china_domestic_share": share,
                    "fence_height": 0.5 if tech == "a" else 0.0,
                }
            )
    macro = pd.DataFrame({"year": [2024, 2025, 2026], "gdp": [gdp] * 3})
    return pd.DataFrame(rows), macro


def test_objective_signs_on_synthetic_tables() -> None:
    reference = _tables([2025.0, 2025.0], sales=10.0, share=0.4, gdp=100.0)
    design = _tables([float("nan"), 2025.0], sales=8.0, share=0.5, gdp=99.0)
    yard = derisk.yard_of(design[0])
    assert yard == ("a",)
    out = derisk.objectives_of(design, reference, yard, horizon=2026)
    assert out["delay"] == pytest.approx(2.0)  # never reached → horizon + 1 = 2027, against 2025
    assert out["lost_sales"] == pytest.approx(2.0 * 2 * 2)  # 2 bn CNY a year less, 2025–2026, on both technologies
    assert out["share_gain"] == pytest.approx(10.0)  # +0.1 share on a, in points
    assert out["gdp_cost"] == pytest.approx(2.0)
    # the other way round every sign flips
    back = derisk.objectives_of(reference, design, yard, horizon=2026)
    assert back["delay"] < 0 and back["lost_sales"] < 0 and back["share_gain"] < 0 and back["gdp_cost"] < 0


def test_parity_after_the_horizon_counts_as_not_reached() -> None:
    reference = _tables([2040.0, 2025.0], sales=1.0, share=0.4, gdp=1.0)
    design = _tables([2045.0, 2025.0], sales=1.0, share=0.4, gdp=1.0)
    assert derisk.objectives_of(design, reference, ("a",), horizon=2030)["delay"] == 0.0
    assert derisk.objectives_of(design, reference, ("a",), horizon=2050)["delay"] == 5.0


def test_robust_value_takes_the_unfavourable_side() -> None:
    values = np.array([0.0, 10.0, 20.0, 30.0, 40.0])
    assert derisk.robust(values, "delay", 0.5) == 20.0
    assert derisk.robust(values, "delay", 0.25) == 10.0  # maximised: a low quantile is cautious
    assert derisk.robust(values, "lost_sales", 0.25) == 30.0  # minimised: a high one
    assert list(derisk.to_minimise({"delay": 3.0, "lost_sales": 2.0}, ("delay", "lost_sales"))) == [-3.0, 2.0]


# --------------------------------------------------------------------------- end to end


TINY = {
    "name": "tiny",
    "seeds": 1,
    "root_seed": 11,
    "firms": 200,
    "institutions": 40,
    "horizon": 2027,
    "max_yard": 4,
    "shipped": ["small_yard_high_fence"],
    "controls_space": SPACE,
    "search": {"population": 4, "generations": 2},
}


def _search(out: Path, seed: int = 5) -> derisk.SearchResult:
    runner = make_runner("serial")
    return derisk.search(from_dict(TINY), out, runner, seed=seed)


@pytest.mark.slow
def test_same_seed_same_table_and_a_rerun_reuses_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _search(tmp_path / "a")
    second = _search(tmp_path / "b")
    pd.testing.assert_frame_equal(first.evaluations, second.evaluations)
    pd.testing.assert_frame_equal(first.pareto, second.pareto)
    assert first.runs_done > 0 and not first.pareto.empty
    again = _search(tmp_path / "a")
    assert again.runs_done == 0 and again.runs_reused > 0
    pd.testing.assert_frame_equal(first.pareto, again.pareto)
    from nswn.storage.store import ResultsStore

    stored = ResultsStore(tmp_path / "a").query(f"SELECT * FROM {derisk.PARETO_TABLE}")
    assert len(stored) == len(first.pareto)
    assert set(first.shipped["scenario"]) == {"baseline", "small_yard_high_fence"}
    # the command line on the same store: every run reused, the same Pareto designs printed
    import yaml

    design_file = tmp_path / "tiny.yaml"
    design_file.write_text(yaml.safe_dump(TINY), encoding="utf-8")
    from nswn import cli as cli_module

    monkeypatch.setattr(cli_module.console, "width", cli_module.DEFAULT_WIDTH)  # what a pipe gets
    cli = CliRunner().invoke(app, ["derisk", str(design_file), "--out", str(tmp_path / "a"), "--seed", "5", "-q"])
    assert cli.exit_code == 0, cli.output
    assert "runs: 0 new" in cli.output and f"{len(first.pareto)} non-dominated" in cli.output
    # the printed frontier fits the console: no cell cut to "…", every yard name whole on a line
    assert "…" not in cli.output
    for yard in first.pareto["yard"]:
        for name in yard.split(", "):
            assert any(name in line for line in cli.output.splitlines()), name
    assert (tmp_path / "a" / "derisk_pareto.csv").is_file()
    from nswn.report.render import build_report

    html = build_report(tmp_path / "a").read_text(encoding="utf-8")
    assert "De-risking frontier" in html and "shipped: small_yard_high_fence" in html and "Knee " in html


def test_the_printed_frontier_fits_a_pipe_and_keeps_every_yard_name_whole(tmp_path: Path) -> None:
    """At the 120 columns a pipe gets, a dozen-name yard and three interval cells print uncut."""
    from types import SimpleNamespace

    from rich.console import Console

    from nswn.analysis.derisk_commands import _print
    from nswn.cli import DEFAULT_WIDTH

    objectives = ("delay", "lost_sales", "share_gain")
    yard = [
        "lithography_machines",
        "photoresist",
        "mobile_rf_components",
        "sector:software",
        "aircraft_design_software",
        "aero_engines",
        "aero_engine_nacelles",
        "heavy_duty_gas_turbines",
        "sector:scientific_instruments",
        "humanoid_robots",
    ]
    row = {
        "design": "6fc9528e07f03e82",
        "yard": ", ".join(yard),
        "technologies": 12,
        "fence_min": 0.95,
        "fence_max": 0.95,
        "announced": 2025,
        "effective": 2026,
        "coverage": 0.83,
        "duration": 15.0,
    }
    for o, (m, lo, hi) in zip(
        objectives, [(36.0, 25.2, 43.2), (-11795.8, -21957.1, -10711.3), (-248.8, -290.5, -224.8)], strict=True
    ):
        row.update({o: m, f"{o}_low": lo, f"{o}_high": hi})
    pareto = pd.DataFrame([row, {**row, "design": "b1844aa0aaaaaaaa", "yard": ", ".join(reversed(yard))}])
    result = SimpleNamespace(
        pareto=pareto,
        evaluations=pareto,
        runs_done=0,
        runs_reused=4,
        shipped=pd.DataFrame([{"scenario": "baseline", **{o: 0.0 for o in objectives}}]),
        knees=[],
        dominance=[],
    )
    spec = SimpleNamespace(objectives=objectives, quantile=0.5, seeds=(1, 2), firms=200, horizon=2050)
    console = Console(width=DEFAULT_WIDTH, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    _print(console, spec, result, tmp_path)
    text = console.export_text()
    assert "…" not in text
    lines = text.splitlines()
    for name in yard:  # never folded across lines
        assert any(name in line for line in lines), name
    for cell in ("36.0 [25.2, 43.2]", "-11,795.8 [-21,957.1, -10,711.3]", "-248.8 [-290.5, -224.8]"):
        assert any(cell in line for line in lines), cell
    assert max(len(line) for line in lines) <= DEFAULT_WIDTH
