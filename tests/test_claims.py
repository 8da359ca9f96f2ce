"""The claims machinery (issue: nswn claims): verdicts, honesty, SALib, PRIM, calibration."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from nswn import api
from nswn.experiments import claims as cl
from nswn.experiments.calibration import TARGETS, calibrate
from nswn.experiments.sensitivity import analyse_morris

SMALL = {"firms": 800, "end_year": 2036}


def _tables(scenario: str | dict, seed: int) -> cl.Tables:
    loaded = api.load_scenario(scenario) if isinstance(scenario, str) else api._as_scenario(scenario)
    result = api.simulate(api.with_overrides(loaded, **SMALL), seed=seed)
    return result.technology_year, result.macro_year


def _keep(value: float) -> dict:
    return {"base": "baseline", "levers": {"keep_manufacturing": {"keep": value}}}


@pytest.fixture(scope="module")
def keep_worlds() -> dict[int, dict[str, cl.Tables]]:
    """Three seeds of 'keep everything' and 'keep nothing' (common random numbers)."""
    return {seed: {"high": _tables(_keep(1.0), seed), "low": _tables(_keep(0.0), seed)} for seed in range(3)}


def _share_claim(holding: str, declining: str) -> cl.Claim:
    """C6a with chosen arms: positive when the 'holding' arm has the higher 2035 share."""
    return cl.Claim(
        "T6a",
        "test",
        "test",
        (holding, declining),
        "test",
        "manufacturing share 2035",
        "share",
        lambda w: (
            cl._macro(w[holding][1], "manufacturing_share", 2035)
            - cl._macro(w[declining][1], "manufacturing_share", 2035)
        ),
    )


def test_a_claim_that_holds_is_reported_as_holding(keep_worlds) -> None:  # type: ignore[no-untyped-def]
    [verdict] = cl.evaluate((_share_claim("high", "low"),), keep_worlds)
    assert verdict.verdict == "holds"
    assert verdict.low > 0 and verdict.seeds == 3


def test_a_reversed_effect_is_reported_as_not_holding(keep_worlds) -> None:  # type: ignore[no-untyped-def]
    # the same machinery on arms swapped so that the effect is reversed
    [verdict] = cl.evaluate((_share_claim("low", "high"),), keep_worlds)
    assert verdict.verdict == "does not hold"
    assert verdict.high < 0


def test_an_effect_lost_in_noise_is_inconclusive() -> None:
    noise = np.array([0.5, -0.4, 0.3, -0.6, 0.2])
    mean, low, high = cl.interval(noise, 0.9)
    assert low < 0 < high
    assert cl.verdict_of(low, high) == "inconclusive"
    assert cl.verdict_of(0.1, 0.3) == "holds" and cl.verdict_of(-0.3, 0.0) == "does not hold"


def test_robustness_is_the_share_of_sampled_worlds_where_the_mean_effect_is_positive() -> None:
    claim = cl.Claim("T", "t", "t", ("a",), "t", "t", "t", lambda w: float(w["a"]))
    sampled = {
        (0, 0): {"a": 1.0},
        (0, 1): {"a": -0.5},
        (1, 0): {"a": -2.0},
        (1, 1): {"a": 1.0},
        (2, 0): {"a": 0.2},
        (2, 1): {"a": 0.1},
    }
    [verdict] = cl.evaluate((claim,), {0: {"a": 1.0}, 1: {"a": 2.0}}, sampled)  # type: ignore[dict-item]
    # point means: 0.25 (yes), -0.5 (no), 0.15 (yes)
    assert verdict.robustness == pytest.approx(2 / 3)
    assert verdict.worlds == 3


def test_every_claim_of_the_specification_is_declared() -> None:
    ids = {c.id[:2] for c in cl.CLAIMS}
    assert ids == {f"C{i}" for i in range(1, 9)}
    for claim in cl.CLAIMS:
        assert set(claim.arms) <= set(cl.SHIPPED_ARMS) | set(cl.DERIVED_ARMS)


def test_run_claims_end_to_end_stores_a_claims_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = cl.ClaimsSettings(seeds=2, robustness=2, robustness_seeds=1, firms=600, end_year=2032)
    report = cl.run_claims(settings, tmp_path, runner="serial", claim_ids=("C6a", "C6b"))
    table = report.table()
    assert list(table["id"]) == ["C6a", "C6b"]
    assert set(table["verdict"]) <= {"holds", "does not hold", "inconclusive"}
    assert report.points.shape == (2, len(cl.UNCERTAINTIES))
    stored = (
        duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True)
        .execute("SELECT id, verdict FROM claims ORDER BY id")
        .fetchall()
    )
    assert [row[0] for row in stored] == ["C6a", "C6b"]
    # re-running reuses every stored run and gives the same verdicts
    again = cl.run_claims(settings, tmp_path, runner="serial", claim_ids=("C6a", "C6b"))
    pd.testing.assert_frame_equal(again.table(), table)


def test_morris_ranks_a_known_analytic_function() -> None:
    from SALib.sample import morris

    problem = {"num_vars": 3, "names": ["strong", "weak", "inert"], "bounds": [[0, 1]] * 3}
    x = morris.sample(problem, 20, num_levels=4, seed=3)
    y = 10 * x[:, 0] + 1 * x[:, 1] + 0 * x[:, 2]
    ranked = analyse_morris(problem, x, y).sort_values("mu_star", ascending=False)
    assert list(ranked["assumption"]) == ["strong", "weak", "inert"]
    assert ranked["mu_star"].iloc[0] == pytest.approx(10, rel=1e-6)
    assert ranked["mu_star"].iloc[2] == pytest.approx(0, abs=1e-12)


def test_prim_finds_the_box_where_a_claim_fails() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.random(400), "b": rng.random(400)})
    fails = (x["a"] > 0.7).to_numpy().astype(float)
    box = cl.best_box(cl.prim(x, fails, alpha=0.05, min_mass=0.05))
    low, high = box.limits["a"]
    assert 0.6 < low <= 0.75 and high == pytest.approx(x["a"].max())
    assert box.density >= 0.95 and box.coverage >= 0.8
    assert box.limits["b"][1] - box.limits["b"][0] > 0.8  # the irrelevant assumption stays (almost) unrestricted


def test_calibration_reports_every_target_with_its_miss() -> None:
    table = calibrate(seeds=2, firms=800)
    ids = set(table["id"])
    # model.md §11: 2024 manufacturing share, its slope, GERD/GDP, basic-research share
    assert {"manufacturing_share_2024", "manufacturing_share_slope", "gerd_share", "basic_research_share"} <= ids
    assert ids == {t.id for t in TARGETS}
    assert table[["model_p5", "model_median", "model_p95"]].notna().all().all()
    np.testing.assert_allclose(table["miss"], table["model_median"] - table["observed"])
    assert (table["source"].str.len() > 10).all()
