"""Priority inference (issue 18): panel validation, the observation model and summaries, recovery, seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nswn.analysis import panel as panels
from nswn.analysis import priorities_inference as pi
from nswn.analysis import priorities_recovery as rec
from nswn.cli import app

SOURCE = "test fixture"


def write_panel(path: Path, rows: list[tuple], header: str = "area,year,indicator,value,source") -> Path:
    lines = [header] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sector_rows(years=(2020, 2021), indicators=("funding",), value=1.0) -> list[tuple]:
    return [
        (s, y, i, value, SOURCE) for s in ("aerospace", "energy", "semiconductors") for y in years for i in indicators
    ]


# ----------------------------------------------------------------------------- validation


def test_a_valid_panel_loads_with_sector_areas_and_drops_missing_values(tmp_path):
    rows = sector_rows()
    rows[0] = ("aerospace", 2020, "funding", "", SOURCE)
    panel = panels.load_panel(write_panel(tmp_path / "p.csv", rows))
    assert panel.areas == ("aerospace", "energy", "semiconductors")
    assert panel.years == (2020, 2021)
    assert panel.missing == 1
    cube = panel.cube()
    assert cube.shape == (1, 2, 3)
    assert np.isnan(cube[0, 0, 0]) and np.isfinite(cube[0, 1, 0])
    # each sector area carries its own catalog technologies, each technology counted once
    assert set(panel.weights.sum(axis=0)) <= {0.0, 1.0}
    semis = panel.weights[2] > 0
    assert "high_end_chips" in np.array(panel.technology_ids)[semis]


@pytest.mark.parametrize(
    ("row", "field", "allowed"),
    [
        (("energy", 2020, "funds", 1.0, SOURCE), "field indicator: 'funds'", "funding, investment"),
        (("energy", 2020, "funding", -3, SOURCE), "field value: '-3'", "finite number ≥ 0"),
        (("energy", 2020, "funding", "abc", SOURCE), "field value: 'abc'", "finite number ≥ 0"),
        (("energy", "20x0", "funding", 1.0, SOURCE), "field year: '20x0'", "integer from 1950 to 2100"),
        (("energy", 2020, "funding", 1.0, ""), "field source: empty", "publication or table"),
        (("atlantis", 2020, "funding", 1.0, SOURCE), "field area: 'atlantis'", "neither a catalog technology"),
    ],
)
def test_a_bad_row_is_named_with_file_row_field_value_and_what_is_allowed(tmp_path, row, field, allowed):
    rows = sector_rows()
    rows.append(row)
    path = write_panel(tmp_path / "p.csv", rows)
    with pytest.raises(panels.PanelError) as err:
        panels.load_panel(path)
    message = str(err.value)
    assert f"{path}: row {len(rows) + 1}" in message
    assert field in message and allowed in message


def test_duplicates_missing_columns_and_too_few_areas_are_errors(tmp_path):
    rows = sector_rows()
    rows.append(rows[0])
    with pytest.raises(panels.PanelError, match="duplicate of row 2"):
        panels.load_panel(write_panel(tmp_path / "dup.csv", rows))
    with pytest.raises(panels.PanelError, match="missing column.*source"):
        panels.load_panel(
            write_panel(tmp_path / "cols.csv", [("energy", 2020, "funding", 1)], "area,year,indicator,value")
        )
    two = [r for r in sector_rows() if r[0] != "energy"]
    with pytest.raises(panels.PanelError, match="2 area"):
        panels.load_panel(write_panel(tmp_path / "two.csv", two))


def test_the_mapping_file_is_validated_and_splits_shared_technologies(tmp_path):
    rows = [(a, 2020, "funding", 1.0, SOURCE) for a in ("A", "B", "C")]
    panel_path = write_panel(tmp_path / "p.csv", rows)
    mapping = tmp_path / "p.mapping.csv"
    mapping.write_text(
        "area,technology,basis,note\nA,high_end_chips,judged,x\nB,high_end_chips,sourced,x\nC,solar_pv,judged,x\n",
        encoding="utf-8",
    )
    panel = panels.load_panel(panel_path)  # the sidecar is found by name
    chips = panel.technology_ids.index("high_end_chips")
    assert panel.weights[0, chips] == pytest.approx(0.5) and panel.weights[1, chips] == pytest.approx(0.5)
    assert panel.judged_areas == ("A", "C")
    mapping.write_text("area,technology,basis\nA,high_end_chip,judged\nB,solar_pv,guessed\n", encoding="utf-8")
    with pytest.raises(panels.PanelError) as err:
        panels.load_panel(panel_path)
    text = str(err.value)
    assert "row 2, field technology: 'high_end_chip'" in text and "did you mean 'high_end_chips'" in text
    assert "row 3, field basis: 'guessed'; allowed: sourced, judged" in text
    assert "field area: 'C' is not in the mapping file" in text


def test_the_command_prints_every_problem_and_exits_2_without_a_traceback(tmp_path):
    rows = sector_rows()
    rows += [("energy", 2020, "funds", 1.0, SOURCE), ("energy", 2022, "funding", -1, SOURCE)]
    path = write_panel(tmp_path / "p.csv", rows)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["infer-priorities", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "field indicator: 'funds'" in result.output and "field value: '-1'" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    missing = CliRunner().invoke(app, ["infer-priorities", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_help_documents_the_panel_format():
    result = CliRunner().invoke(app, ["infer-priorities", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for word in ("area, year, indicator, value, source", "firm_entries", "mapping", "--quick", "--budget"):
        assert word in result.output


# ----------------------------------------------------------------------------- summaries, observation model


def test_concentration_statistics_rank_a_shortlist_above_an_even_spread():
    attrs = pi.AreaAttributes(*(np.arange(10.0) for _ in range(4)))
    areas = [f"a{i}" for i in range(10)]
    even = np.ones((1, 3, 10))
    top = np.full((1, 3, 10), 0.01)
    top[0, :, 7:] = 10.0  # three areas take nearly everything, the highest-score ones
    s_even, s_top = pi.summaries(even, ["funding"], areas, attrs), pi.summaries(top, ["funding"], areas, attrs)
    assert s_even["funding:hhi"] == pytest.approx(0.0) and s_even["funding:gini"] == pytest.approx(0.0)
    assert s_top["funding:hhi"] > 0.2 and s_top["funding:gini"] > 0.6 and s_top["funding:top"] > 0.3
    assert s_top["funding:rho_score"] > 0.7
    assert s_top["share:a9"] > 0.3 and s_top["share:a0"] < 0.01
    assert pi.gini(np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx(0.75)


def test_observation_model_sums_technologies_into_areas_and_keeps_missing_cells_missing(tmp_path):
    rows = sector_rows(years=(2020, 2021))
    rows[1] = ("aerospace", 2021, "funding", "", SOURCE)
    panel = panels.load_panel(write_panel(tmp_path / "p.csv", rows))
    simulator = pi.PanelSimulator.__new__(pi.PanelSimulator)
    simulator.panel = panel
    simulator._mask = np.isfinite(panel.cube())
    series = np.ones((1, 2, len(panel.technology_ids)))
    cube = simulator.observe(series, 0.0, np.random.default_rng(0))
    members = (panel.weights > 0).sum(axis=1)
    assert np.isnan(cube[0, 1, 0])
    assert cube[0, 0, :] == pytest.approx(members)  # no noise: the sum of the area's technologies
    noisy = simulator.observe(series, 0.5, np.random.default_rng(0))
    ratio = np.log(noisy[0, 0] / cube[0, 0])
    assert np.all(ratio != 0) and np.all(np.abs(ratio) < 5 * 0.5)


def test_membership_jitter_changes_only_the_ranking_input_within_the_catalog_range():
    rng = np.random.default_rng(1)
    assert "catalog" not in pi.mode_overrides("shortlist", {"k": 5.9, "jitter": 0.0, "noise": 0.1}, rng)
    changes = pi.mode_overrides("shortlist", {"k": 5.9, "jitter": 0.8, "noise": 0.1}, rng)
    assert changes["priorities"] == {"mode": "shortlist", "shortlist_size": 5}
    weights = np.array([c["strategic_weight"] for c in changes["catalog"].values()])
    assert weights.max() == pytest.approx(1.0) and weights.min() >= 0.0


# ----------------------------------------------------------------------------- recovery


@pytest.fixture(scope="module")
def tiny_bank():
    # 5 prior draws per mode and 3 shortlists of 5; 3 simulated years (the span is cut below)
    old = rec.SPAN
    rec.SPAN = 3
    try:
        return rec.build_bank(per_mode=5, extra_k5=3, seed=7, workers=1)
    finally:
        rec.SPAN = old


def test_recovery_detects_a_strong_shortlist_and_does_not_mistake_none_or_broad_for_one(tiny_bank):
    design = rec.Design("sectors", 3, 0.1)
    ref = np.flatnonzero(tiny_bank.reference)
    modes = [tiny_bank.modes[i] for i in ref]
    table = rec.design_summaries(tiny_bank, design, 1).iloc[ref]
    truths = rec.design_summaries(tiny_bank, design, 2, noise_override=0.1)
    conc = [pi.MODES.index(m) for m in pi.CONCENTRATED]
    k5 = np.flatnonzero(~tiny_bank.reference)
    p_k5 = rec.mode_posteriors(truths.iloc[k5].set_axis([-1, -2, -3]), table, modes, accept=0.2)
    assert (p_k5[:, conc].sum(axis=1) >= 0.6).all()
    flat = [i for i in ref if tiny_bank.modes[i] in ("none", "broad")]
    p_flat = rec.mode_posteriors(truths.iloc[flat], table, modes, accept=0.2)
    assert (p_flat[:, conc].sum(axis=1) <= 0.4).all()


def test_confusion_and_calibration_tables_count_every_truth(tiny_bank):
    probs = np.eye(5)[[0, 1, 2, 2, 4]]
    truths = ["none", "broad", "shortlist", "adaptive", "adaptive"]
    table = rec.confusion(probs, truths)
    assert table.loc["adaptive", "shortlist"] == 1 and table.loc["adaptive", "adaptive"] == 1
    assert int(table.to_numpy().sum()) == 5
    cal = rec.calibration(probs, truths)
    assert cal["n"].sum() == 25
    top = cal.iloc[-1]
    assert top["observed_frequency"] == pytest.approx(4 / 5)


# ----------------------------------------------------------------------------- ABC-SMC, seeds


def tiny_panel(tmp_path: Path, mode: str, seed: int) -> panels.Panel:
    """A 2-year sector panel simulated from ``mode`` with little noise."""
    skeleton = panels.load_panel(
        write_panel(
            tmp_path / "skeleton.csv",
            [
                (s, y, "funding", 1.0, SOURCE)
                for s in (
                    "aerospace",
                    "energy",
                    "semiconductors",
                    "telecom",
                    "software",
                    "materials",
                    "machinery",
                    "electronics",
                )
                for y in (2020, 2021)
            ],
        )
    )
    simulator = pi.PanelSimulator(skeleton)
    params = {"noise": 0.05, "k": 3.0, "jitter": 0.0} if mode == "shortlist" else {"noise": 0.05}
    rng = np.random.default_rng(seed)
    series, _ = simulator.technology_series(mode, params, rng)
    cube = simulator.observe(series, params["noise"], rng)
    rows = [
        (a, y, "funding", f"{cube[0, j, i]:.6g}", SOURCE)
        for j, y in enumerate(skeleton.years)
        for i, a in enumerate(skeleton.areas)
    ]
    return panels.load_panel(write_panel(tmp_path / f"{mode}.csv", rows))


TINY = pi.Settings(firms=1000, population=20, generations=2, budget=150, repeats=1, checks=5)


def test_abc_runs_are_reproducible_by_seed(tmp_path):
    panel = tiny_panel(tmp_path, "shortlist", 3)
    simulator = pi.PanelSimulator(panel)
    observed = simulator.summarise(panel.cube())
    small = pi.Settings(firms=1000, population=10, generations=2, budget=80, repeats=1, checks=2)
    a = pi.run_abc(simulator, observed, small, seed=5, workers=1)
    b = pi.run_abc(simulator, observed, small, seed=5, workers=1)
    c = pi.run_abc(simulator, observed, small, seed=6, workers=1)
    assert a.probabilities == b.probabilities
    pd.testing.assert_frame_equal(a.particles, b.particles)
    assert not a.particles[["noise"]].equals(c.particles[["noise"]])


@pytest.mark.slow
def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    panel = tiny_panel(tmp_path, "broad", 4)
    simulator = pi.PanelSimulator(panel)
    observed = simulator.summarise(panel.cube())
    small = pi.Settings(firms=1000, population=10, generations=2, budget=80, repeats=1, checks=2)
    one = pi.run_abc(simulator, observed, small, seed=9, workers=1)
    two = pi.run_abc(simulator, observed, small, seed=9, workers=2)
    assert one.probabilities == two.probabilities
    pd.testing.assert_frame_equal(one.particles, two.particles)


@pytest.mark.slow
def test_abc_smc_names_a_strong_shortlist_and_not_a_broad_allocation(tmp_path):
    short = pi.infer(tiny_panel(tmp_path, "shortlist", 11), TINY, seed=1)
    broad = pi.infer(tiny_panel(tmp_path, "broad", 12), TINY, seed=1)
    assert short.info["p_concentrated"] >= 0.6
    assert broad.info["p_concentrated"] <= 0.4
    assert set(short.checks["statistic"]) >= {"funding:hhi", "funding:rho_score"}
    files = short.write(tmp_path / "out")
    assert {f.name for f in files} >= {"modes.csv", "membership.csv", "inference.json"}
