"""The claims machinery (issues: nswn claims; claims as controlled experiments): effect functions,
verdicts, knockouts, "by construction", arms, catalog overrides, SALib, PRIM, calibration."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from nswn import api
from nswn.experiments import claims as cl
from nswn.experiments.calibration import TARGETS, calibrate
from nswn.experiments.claims import arms as arm_defs
from nswn.experiments.sensitivity import analyse_morris
from nswn.scenario.build import build_model, to_config
from nswn.scenario.io import ScenarioError, scenario_hash

SMALL = {"firms": 800, "end_year": 2036}
YEARS = np.arange(2024, 2051)

# ---------------------------------------------------------------------------------------
# synthetic tables: every "good" indicator rises with the arm's strength s


def _synthetic(strength: float) -> cl.Tables:
    """One run's tables in which capability, shares, sales, TFP, exports, the manufacturing
    share, debt, allocation quality and entries all rise with ``strength``."""
    ids = cl.all_ids()
    controlled = set(ids[:3])
    shortlist = set(ids[3:8])
    rows = []
    for tech in ids:
        first = np.nan
        for year in YEARS:
            best = np.log(0.5) + (0.01 + 0.02 * strength) * (year - 2024)
            relative = float(np.exp(best))
            if np.isnan(first) and relative >= 0.9:
                first = year
            rows.append(
                {
                    "technology_id": tech,
                    "year": int(year),
                    "best_capability": best,
                    "gap": -best,
                    "relative_capability": relative,
                    "china_domestic_share": 0.5 + 0.1 * strength,
                    "foreign_china_sales": 100.0 * (1 + strength),
                    "foreign_exports": 50.0 * (1 + strength),
                    "fence_height": 0.7 if tech in controlled and year >= 2022 else 0.0,
                    "priority_weight": 0.2 if tech in shortlist else 0.0,
                }
            )
    tech_table = pd.DataFrame(rows)
    firsts = tech_table.groupby("technology_id")["relative_capability"].transform(
        lambda r: tech_table.loc[r.index, "year"][r >= 0.9].min() if (r >= 0.9).any() else np.nan
    )
    tech_table["first_parity_year"] = firsts
    t = YEARS - 2024
    macro = pd.DataFrame(
        {
            "year": YEARS,
            "publications": 1e5 * 1.03**t,
            "tfp_index": (1.0 + 0.005 + 0.01 * strength) ** t,
            "strategic_exports": 1000.0 * (1 + strength) + 0 * t,
            "manufacturing_share": 0.25 + 0.01 * strength + 0 * t,
            "debt_to_gdp": 3.0 + 0.1 * strength + 0 * t,
            "allocation_quality": 0.2 + 0.1 * strength + 0 * t,
            "entries": 100.0 * (1 + strength) + 0 * t,
        }
    )
    return tech_table, macro


@pytest.fixture(scope="module")
def strong() -> cl.Tables:
    return _synthetic(1.0)


@pytest.fixture(scope="module")
def weak() -> cl.Tables:
    return _synthetic(0.0)


# The arm that is "better" in the brief's sense, per claim (strength 1; the others 0).
BETTER = {
    "C1": ("c1_emulable",),
    "C2": ("c2_private_high_rho",),
    "C3": ("shortlist5",),
    "C4a": ("c4_aligned",),
    "C4b": ("two_layers_fix",),
    "C5a": ("centralised--no_pilot",),
    "C5b": ("centralised--no_pilot",),
    "C6a": ("c6_keep",),
    "C6b": ("c6_keep",),
    "C7a": ("no_controls",),
    "C7b": ("baseline",),
    "C7c": ("no_controls",),
    "C8a": ("centralised--no_pilot",),
    "C8b": ("decentralised",),
    "C8c": ("decentralised",),
}


def test_every_claim_has_a_declared_better_arm() -> None:
    assert set(BETTER) == {c.id for c in cl.CLAIMS}
    for claim in cl.CLAIMS:
        assert set(BETTER[claim.id]) <= set(claim.arms)


@pytest.mark.parametrize("claim", cl.CLAIMS, ids=lambda c: c.id)
def test_effect_sign_follows_the_arm_the_brief_favours(claim: cl.Claim, strong: cl.Tables, weak: cl.Tables) -> None:
    """Sign and arm order: positive when the brief's favoured arm does better, negative when
    another arm does, zero when all arms are alike."""
    favoured = {arm: (strong if arm in BETTER[claim.id] else weak) for arm in claim.arms}
    assert claim.effect(favoured) > 0
    alike = {arm: weak for arm in claim.arms}
    assert claim.effect(alike) == pytest.approx(0.0, abs=1e-12)
    # the favoured arm now does worse than every other arm
    reversed_world = {arm: (weak if arm in BETTER[claim.id] else strong) for arm in claim.arms}
    if claim.id == "C3":
        # |broad − shortlist| − |broad − none| with broad = none strong, shortlist weak: still positive;
        # it is negative when broad and shortlist are alike and none differs
        reversed_world = {"baseline": strong, "shortlist5": strong, "no_priorities": weak}
    if claim.id == "C2":
        # private is worse where ρ is high, equal where ρ is low
        reversed_world = {arm: (strong if arm == "c2_state_high_rho" else weak) for arm in claim.arms}
    assert claim.effect(reversed_world) < 0


def test_c1_effect_is_in_years_to_parity(strong: cl.Tables, weak: cl.Tables) -> None:
    claim = cl.claims_by_id()["C1"]
    effect = claim.effect({"c1_emulable": strong, "c1_not_emulable": weak})
    # strong: log(0.5) → log(0.9) at 0.03 a year = 20 years; weak never reaches parity (26 + 1)
    expected = 27 - np.ceil((np.log(0.9) - np.log(0.5)) / 0.03)
    assert effect == pytest.approx(expected)


def test_c2_is_a_difference_in_differences(strong: cl.Tables, weak: cl.Tables) -> None:
    claim = cl.claims_by_id()["C2"]
    # private better by the same amount whatever ρ: the ownership effect cancels
    same = {"c2_private_high_rho": strong, "c2_state_high_rho": weak, "c2_private_low_rho": strong}
    same["c2_state_low_rho"] = weak
    assert claim.effect(same) == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------------------------------
# verdicts, knockouts, "by construction"


def _claim(effect: Any, arms: tuple[str, ...] = ("a",), knockout: str = "no_pilot", construction: str = "") -> cl.Claim:
    return cl.Claim("T", "t", "t", "t", arms, "t", "t", "t", effect, knockout, construction)


def test_an_effect_lost_in_noise_is_inconclusive() -> None:
    noise = np.array([0.5, -0.4, 0.3, -0.6, 0.2])
    mean, low, high = cl.interval(noise, 0.9)
    assert low < 0 < high
    assert cl.verdict_of(low, high) == "inconclusive"
    assert cl.verdict_of(0.1, 0.3) == "holds" and cl.verdict_of(-0.3, 0.0) == "does not hold"


def test_by_construction_labels_only_a_claim_that_holds_and_declares_its_formula() -> None:
    assert cl.verdict_of(0.1, 0.3, construction="y = 2x") == "by construction"
    assert cl.verdict_of(-0.1, 0.3, construction="y = 2x") == "inconclusive"
    assert cl.verdict_of(-0.3, -0.1, construction="y = 2x") == "does not hold"
    declared = {c.id for c in cl.CLAIMS if c.construction}
    assert declared == {"C6a", "C8b"}
    for claim in cl.CLAIMS:
        if claim.construction:
            assert "=" in claim.construction  # the formula is shown


def test_knockout_passes_when_its_interval_covers_zero() -> None:
    assert cl.knockout_result(-0.2, 0.3) == "passed"
    assert cl.knockout_result(0.0, 0.0) == "passed"  # identical arms: the effect is exactly gone
    assert cl.knockout_result(0.1, 0.3) == "failed"
    assert cl.knockout_result(-0.3, -0.1) == "failed"
    assert cl.knockout_result(float("nan"), float("nan")) == "not run"


def test_evaluate_reads_the_knockout_arms_under_the_main_arms_names() -> None:
    claim = _claim(lambda w: float(w["a"]) - float(w["b"]), arms=("a", "b"), knockout="no_pilot")
    ko_a, ko_b = claim.knockout_arms()
    assert (ko_a, ko_b) == ("a--no_pilot", "b--no_pilot")
    rng = np.random.default_rng(1)
    # effect ≈ 1 in the main arms; lost (noise around 0) in the knockout arms
    lost = {s: {"a": 1.0 + rng.normal(0, 0.1), "b": 0.0, ko_a: rng.normal(0, 0.1), ko_b: 0.0} for s in range(10)}
    [verdict] = cl.evaluate((claim,), lost)  # type: ignore[arg-type]
    assert verdict.verdict == "holds" and verdict.knockout == "passed"
    assert verdict.knockout_low <= 0 <= verdict.knockout_high
    # the knockout keeps the effect: it does not come from the named mechanism
    kept = {s: {"a": 1.0 + rng.normal(0, 0.1), "b": 0.0, ko_a: 1.0 + rng.normal(0, 0.1), ko_b: 0.0} for s in range(10)}
    [verdict] = cl.evaluate((claim,), kept)  # type: ignore[arg-type]
    assert verdict.verdict == "holds" and verdict.knockout == "failed"
    # without knockout arms in the worlds the knockout is reported as not run
    [verdict] = cl.evaluate((claim,), {s: {"a": w["a"], "b": 0.0} for s, w in kept.items()})  # type: ignore[arg-type]
    assert verdict.knockout == "not run"


def test_robustness_is_the_share_of_sampled_worlds_where_the_mean_effect_is_positive() -> None:
    claim = _claim(lambda w: float(w["a"]))
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


# ---------------------------------------------------------------------------------------
# arms: only the named mechanism differs


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flat(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _differences(first: str, second: str) -> set[str]:
    base_a, over_a, _ = cl.resolve(first)
    base_b, over_b, _ = cl.resolve(second)
    flat_a, flat_b = _flat(over_a), _flat(over_b)
    differ = {k for k in flat_a.keys() | flat_b.keys() if flat_a.get(k) != flat_b.get(k)}
    return differ | ({"base"} if base_a != base_b else set())


def test_every_claim_of_the_specification_is_declared_with_resolvable_arms_and_a_knockout() -> None:
    ids = {c.id[:2] for c in cl.CLAIMS}
    assert ids == {f"C{i}" for i in range(1, 9)}
    for claim in cl.CLAIMS:
        assert claim.knockout in cl.knockouts()
        for arm in (*claim.arms, *claim.knockout_arms()):
            cl.resolve(arm)  # raises for an unknown arm or knockout


def test_c1_arms_differ_only_in_the_emulability_of_the_same_technologies() -> None:
    differ = _differences("c1_emulable", "c1_not_emulable")
    assert differ == {f"catalog.{t}.emulability" for t in cl.below_parity()}
    values = arm_defs.contrast_values()
    assert values["e_high"] >= 0.7 and values["e_low"] <= 0.4


def test_c2_arms_hold_budgets_equal_and_vary_ownership_and_rho_only() -> None:
    arms = cl.claims_by_id()["C2"].arms
    allowed = {"assumptions.initial.soe_share_stranglehold", "assumptions.initial.soe_share_other"} | {
        f"catalog.{t}.entrepreneurship" for t in cl.entrepreneurial()
    }
    for first in arms:
        for second in arms:
            assert _differences(first, second) <= allowed  # no lever (budget) differs
    assert _differences("c2_private_high_rho", "c2_private_low_rho") == {
        f"catalog.{t}.entrepreneurship" for t in cl.entrepreneurial()
    }


def test_knockout_arms_add_only_the_knockout_overrides() -> None:
    for claim in cl.CLAIMS:
        switch = set(_flat(cl.knockouts()[claim.knockout].overrides))
        for arm, knocked in zip(claim.arms, claim.knockout_arms(), strict=True):
            assert _differences(arm, knocked) <= switch, (claim.id, arm)


def test_unknown_arms_and_knockouts_are_refused() -> None:
    with pytest.raises(KeyError, match="unknown arm"):
        cl.resolve("nowhere")
    with pytest.raises(KeyError, match="unknown knockout"):
        cl.resolve("baseline--no_such_switch")


# ---------------------------------------------------------------------------------------
# the catalog override the counterfactual arms rely on


def test_a_catalog_override_reaches_the_engine_and_the_hash() -> None:
    plain = api.load_scenario("baseline")
    tech = cl.below_parity()[0]
    data = plain.model_dump(mode="json")
    data["catalog"] = {tech: {"emulability": 0.05}}
    changed = api._as_scenario(data)
    assert scenario_hash(changed) != scenario_hash(plain)
    model = build_model(to_config(api.with_overrides(changed, firms=200)), seed=0)
    index = model.state.technologies.ids.index(tech)
    assert model.state.technologies.emulability[index] == 0.05
    others = np.delete(np.arange(len(model.state.technologies.ids)), index)
    reference = build_model(to_config(api.with_overrides(plain, firms=200)), seed=0)
    np.testing.assert_array_equal(
        model.state.technologies.emulability[others], reference.state.technologies.emulability[others]
    )


def test_an_empty_catalog_override_keeps_existing_hashes() -> None:
    plain = api.load_scenario("baseline")
    data = plain.model_dump(mode="json")
    data["catalog"] = {}
    assert scenario_hash(api._as_scenario(data)) == scenario_hash(plain)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"no_such_tech": {"emulability": 0.5}}, "unknown technology"),
        ({"high_end_chips": {"colour": 0.5}}, "unknown column"),
        ({"high_end_chips": {"emulability": 1.5}}, "out of range; allowed: from 0 to 1"),
    ],
)
def test_bad_catalog_overrides_are_refused_with_the_field(override: dict, message: str) -> None:
    data = api.load_scenario("baseline").model_dump(mode="json")
    data["catalog"] = override
    with pytest.raises(ScenarioError) as info:
        api._as_scenario(data)
    text = str(info.value)
    assert "catalog" in text and message in text


# ---------------------------------------------------------------------------------------
# end to end on tiny settings


def _tables(scenario: str | dict, seed: int) -> cl.Tables:
    loaded = api.load_scenario(scenario) if isinstance(scenario, str) else api._as_scenario(scenario)
    result = api.simulate(api.with_overrides(loaded, **SMALL), seed=seed)
    return result.technology_year, result.macro_year


def test_a_reversed_effect_on_real_runs_is_reported_as_not_holding() -> None:
    keep = {"base": "baseline", "levers": {"keep_manufacturing": {"keep": 1.0}}}
    drop = {"base": "baseline", "levers": {"keep_manufacturing": {"keep": 0.0}}}
    worlds = {seed: {"c6_keep": _tables(keep, seed), "c6_let_decline": _tables(drop, seed)} for seed in range(3)}
    c6a = cl.claims_by_id()["C6a"]
    [verdict] = cl.evaluate((c6a,), worlds)
    assert verdict.verdict == "by construction" and verdict.low > 0 and verdict.seeds == 3
    swapped = {s: {"c6_keep": w["c6_let_decline"], "c6_let_decline": w["c6_keep"]} for s, w in worlds.items()}
    [verdict] = cl.evaluate((c6a,), swapped)
    assert verdict.verdict == "does not hold" and verdict.high < 0


def test_run_claims_end_to_end_stores_a_claims_table_with_knockouts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = cl.ClaimsSettings(seeds=2, robustness=2, robustness_seeds=1, firms=600, end_year=2036)
    report = cl.run_claims(settings, tmp_path, runner="serial", claim_ids=("C6a", "C6b", "C8b"))
    table = report.table()
    assert list(table["id"]) == ["C6a", "C6b", "C8b"]
    assert set(table["verdict"]) <= set(cl.VERDICTS)
    # ε_w = 0 makes keep change nothing: the knockout arms are identical runs, the effect exactly 0
    c6 = table[table["id"].isin(["C6a", "C6b"])]
    assert (c6["knockout"] == "passed").all()
    assert (c6["knockout_effect"] == 0).all()
    assert table.loc[table["id"] == "C6a", "verdict"].item() == "by construction"
    assert table.loc[table["id"] == "C8b", "knockout"].item() in ("passed", "failed")
    assert report.points.shape == (2, len(cl.UNCERTAINTIES))
    # arms: 2 (C6) + 2 (C8) main, 2 (C6) + 2 (C8) knockout; 2 seeds; robustness 4 main arms × 2 points
    assert report.runs == 8 * 2 + 4 * 2
    stored = (
        duckdb.connect(str(tmp_path / "results.duckdb"), read_only=True)
        .execute("SELECT id, verdict, knockout FROM claims ORDER BY id")
        .fetchall()
    )
    assert [row[0] for row in stored] == ["C6a", "C6b", "C8b"]
    # re-running reuses every stored run and gives the same verdicts
    again = cl.run_claims(settings, tmp_path, runner="serial", claim_ids=("C6a", "C6b", "C8b"))
    pd.testing.assert_frame_equal(again.table(), table)
    text = cl.markdown(again, "nswn claims") + cl.experiments_markdown(again)
    assert "| knockout |" in text and "By construction" in text and "c6_keep--no_labour_drag" not in text
    assert "`--no_labour_drag`" in text


def test_metric_text_with_pipes_stays_inside_its_table_cell() -> None:
    c3 = cl.claims_by_id()["C3"]
    assert "|" in c3.metric
    verdict = cl.Verdict(c3, 1.0, 0.5, 1.5, 3, "holds", float("nan"), 0)
    report = cl.ClaimsReport(cl.ClaimsSettings(), [verdict], pd.DataFrame(), pd.DataFrame(), 0, "serial")
    row = cl.markdown(report, "nswn claims").splitlines()[-1]
    header = cl.markdown(report, "nswn claims").splitlines()[2]
    unescaped = row.replace("\\|", "")
    assert unescaped.count("|") == header.count("|")


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
