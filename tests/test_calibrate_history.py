"""`nswn calibrate --history` (issue 12): recovery of known parameters from synthetic history,
the posterior as a stored object, calibrated worlds in designs and claims, and bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from nswn.cli import app
from nswn.experiments import calibrate_history as ch
from nswn.experiments import posterior as post
from nswn.experiments.design import DesignError, design_from_dict
from nswn.storage.store import ResultsStore

LABOUR = "assumptions.markets.labour_cost_growth"
EMULATION = "assumptions.innovation.emulation_rate"
CREDIT = "assumptions.macro.credit_growth"


def _posterior(seed: int = 0, n: int = 50) -> post.Posterior:
    rng = np.random.default_rng(seed)
    values = np.column_stack([rng.uniform(0.0, 0.04, n), rng.uniform(0.05, 0.3, n)])
    return post.Posterior(
        parameters=(LABOUR, EMULATION),
        values=values,
        weights=rng.uniform(0.1, 1.0, n),
        prior={LABOUR: (0.0, 0.04), EMULATION: (0.05, 0.3)},
        provenance={"model_hash": "x", "simulations": 10, "firms": 100, "data_vintage": {"start_vintage": "2006"}},
    )


# ---------------------------------------------------------------------------------------
# the posterior object


def test_weighted_quantile_and_interval_follow_the_weights() -> None:
    values = np.array([0.0, 1.0, 2.0, 3.0])
    heavy_top = post.Posterior(
        ("assumptions.innovation.emulation_rate",),
        values[:, None],
        [0.01, 0.01, 0.01, 10],
        {"assumptions.innovation.emulation_rate": (0.0, 3.0)},
    )
    assert heavy_top.median("assumptions.innovation.emulation_rate") == pytest.approx(3.0, abs=0.01)
    even = post.weighted_quantile(values, np.ones(4), 0.5)
    assert float(even) == pytest.approx(1.5)


def test_identified_means_narrower_than_the_prior() -> None:
    n = 400
    rng = np.random.default_rng(1)
    values = np.column_stack([rng.normal(0.02, 0.001, n), rng.uniform(0.05, 0.3, n)])
    p = post.Posterior((LABOUR, EMULATION), values, np.ones(n), {LABOUR: (0.0, 0.04), EMULATION: (0.05, 0.3)})
    assert p.identified(LABOUR)
    assert not p.identified(EMULATION)


def test_posterior_round_trips_through_json_and_the_results_store(tmp_path: Path) -> None:
    p = _posterior()
    path = post.write(p, tmp_path / "p.json")
    back = post.read(path)
    assert back.posterior_id == p.posterior_id
    np.testing.assert_array_equal(back.values, p.values)
    np.testing.assert_array_equal(back.weights, p.weights)
    store = ResultsStore(tmp_path / "store")
    store.write_posterior(p)
    store.write_posterior(p)  # idempotent: replaces, does not duplicate
    again = post.read(tmp_path / "store")
    assert again.posterior_id == p.posterior_id
    assert again.prior == p.prior and again.provenance == p.provenance
    np.testing.assert_array_equal(again.values, p.values)
    assert len(store.posteriors()) == 1


def test_sampling_particles_is_reproducible_by_seed_and_follows_weights() -> None:
    p = _posterior()
    assert p.sample(20, 7) == p.sample(20, 7)
    assert p.sample(20, 7) != p.sample(20, 8)
    one = post.Posterior((LABOUR,), np.array([[0.01], [0.03]]), [0.0, 1.0], {LABOUR: (0.0, 0.04)})
    assert {d[LABOUR] for d in one.sample(30, 1)} == {0.03}


def test_malformed_posteriors_are_refused(tmp_path: Path) -> None:
    with pytest.raises(post.PosteriorError, match="no prior range"):
        post.Posterior((LABOUR,), np.ones((2, 1)), [1, 1], {})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "something else"}), encoding="utf-8")
    with pytest.raises(post.PosteriorError, match="not an nswn posterior"):
        post.read(bad)
    with pytest.raises(post.PosteriorError, match="no such"):
        post.read(tmp_path / "missing.json")


# ---------------------------------------------------------------------------------------
# worlds: calibrated in designs and claims


def _design(tmp_path: Path, source: Path, root_seed: int = 3, **extra: object) -> dict[str, object]:
    return {
        "name": "w",
        "scenarios": ["baseline"],
        "seeds": 1,
        "root_seed": root_seed,
        "firms": 200,
        "years": {"end": 2026},
        "worlds": {"calibrated": 5},
        "posterior": str(source),
        **extra,
    }


def test_calibrated_worlds_draw_posterior_particles_reproducibly(tmp_path: Path) -> None:
    p = _posterior()
    path = post.write(p, tmp_path / "p.json")
    a = design_from_dict(_design(tmp_path, path))
    b = design_from_dict(_design(tmp_path, path))
    points = [dict(x) for x in a.uncertainties.points]
    assert len(points) == 5 and points == [dict(x) for x in b.uncertainties.points]
    particles = {tuple(row) for row in p.values.tolist()}
    assert all((pt[LABOUR], pt[EMULATION]) in particles for pt in points)
    assert dict(a.settings)["posterior_id"] == p.posterior_id
    other = design_from_dict(_design(tmp_path, path, root_seed=4))
    assert [dict(x) for x in other.uncertainties.points] != points
    # the runs carry the drawn values
    spec = a.runs[0]
    scenario = json.loads(spec.scenario_json)
    assert scenario["assumptions"]["markets"]["labour_cost_growth"] == points[0][LABOUR]


def test_calibrated_worlds_keep_the_other_judged_uncertainties(tmp_path: Path) -> None:
    path = post.write(_posterior(), tmp_path / "p.json")
    data = _design(tmp_path, path)
    data["worlds"] = "calibrated"
    data["uncertainties"] = {
        "sampler": "latin_hypercube",
        "samples": 4,
        "parameters": {CREDIT: {"range": [0.05, 0.2]}, LABOUR: {"range": [0.0, 0.04]}},
    }
    d = design_from_dict(data)
    assert [f.path for f in d.uncertainties.factors] == [CREDIT, LABOUR, EMULATION]
    particles = {round(x, 12) for x in _posterior().values[:, 0]}
    for point in d.uncertainties.points:
        values = dict(point)
        assert 0.05 <= values[CREDIT] <= 0.2
        assert round(values[LABOUR], 12) in particles


def test_calibrated_worlds_without_a_posterior_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(post, "shipped", lambda: None)
    data = _design(tmp_path, tmp_path)
    del data["posterior"]
    with pytest.raises(DesignError, match="no calibrated posterior"):
        design_from_dict(data)
    data["posterior"] = str(tmp_path / "nothing.json")
    with pytest.raises(DesignError, match="no such posterior"):
        design_from_dict(data)
    data["worlds"] = "everything"
    with pytest.raises(DesignError, match="judged, calibrated"):
        design_from_dict(data)


def test_sweep_with_a_missing_posterior_exits_2(tmp_path: Path) -> None:
    file = tmp_path / "d.yaml"
    file.write_text(yaml.safe_dump(_design(tmp_path, tmp_path / "missing.json")), encoding="utf-8")
    result = CliRunner().invoke(app, ["sweep", str(file), "--dry-run"])
    assert result.exit_code == 2
    assert "posterior" in result.output and "missing.json" in result.output


def test_claims_robustness_worlds_from_the_posterior_are_reproducible(tmp_path: Path) -> None:
    from nswn.experiments import claims as cl
    from nswn.experiments.claims.orchestration import designs

    path = post.write(_posterior(), tmp_path / "p.json")
    settings = cl.ClaimsSettings(
        seeds=2, robustness=4, robustness_seeds=1, firms=200, end_year=2026, worlds="calibrated", posterior=str(path)
    )
    first = designs(settings, ["baseline"], tmp_path)[1]
    second = designs(settings, ["baseline"], tmp_path)[1]
    assert first.uncertainties.points == second.uncertainties.points
    assert first.design_hash == second.design_hash
    values = cl.sampled_points(first)
    assert set(values[LABOUR]) <= set(_posterior().values[:, 0])
    judged = designs(replace(settings, worlds="judged"), ["baseline"], tmp_path)[1]
    assert judged.design_hash != first.design_hash
    moved = designs(replace(settings, root_seed=99), ["baseline"], tmp_path)[1]
    assert moved.uncertainties.points != first.uncertainties.points


def test_claims_with_a_missing_posterior_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "claims",
            "--worlds",
            "calibrated",
            "--posterior",
            str(tmp_path / "none.json"),
            "--only",
            "C1",
            "--seeds",
            "2",
            "--robustness",
            "2",
            "--firms",
            "200",
            "--out",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "none.json" in result.output


def test_claims_default_to_calibrated_worlds_only_for_a_current_full_resolution_posterior(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nswn.experiments.claims.orchestration import default_worlds
    from nswn.provenance import model_hash

    def shipped(**provenance: object) -> post.Posterior:
        return replace(_posterior(), provenance=provenance)

    monkeypatch.setattr(post, "shipped", lambda: None)
    assert default_worlds()[0] == "judged"
    monkeypatch.setattr(post, "shipped", lambda: shipped(model_hash=model_hash(), firms=None))
    assert default_worlds()[0] == "calibrated"
    monkeypatch.setattr(post, "shipped", lambda: shipped(model_hash="0" * 16, firms=None))
    assert default_worlds() == ("judged", default_worlds()[1]) and "another model" in default_worlds()[1]
    monkeypatch.setattr(post, "shipped", lambda: shipped(model_hash=model_hash(), firms=2000))
    assert default_worlds()[0] == "judged" and "coarser" in default_worlds()[1]


# ---------------------------------------------------------------------------------------
# params and the page


def test_params_label_the_calibrated_assumptions(monkeypatch: pytest.MonkeyPatch) -> None:
    from nswn.scenario import reference

    monkeypatch.setattr(post, "shipped", lambda: _posterior())
    rows = {r["path"]: r for r in reference.rows()}
    lo, hi = _posterior().interval(LABOUR)
    assert rows[LABOUR]["basis"].startswith(f"calibrated 90 % [{lo:.3g}, {hi:.3g}]")
    assert not rows[CREDIT]["basis"].startswith("calibrated")  # not in the posterior: its declared basis
    monkeypatch.setattr(post, "shipped", lambda: None)
    assert {r["path"]: r for r in reference.rows()}[LABOUR]["basis"] == "judged"


def test_sliders_show_the_posterior_beside_the_judged_range(monkeypatch: pytest.MonkeyPatch) -> None:
    from nswn.serve import controls

    monkeypatch.setattr(post, "shipped", lambda: _posterior())
    ranges = controls.calibration_ranges()
    judged, posterior = ranges[LABOUR]
    assert judged == [0.0, 0.04] and posterior == list(_posterior().interval(LABOUR))
    assert ranges["assumptions.environment.frontier_growth_scale"][1] is None
    assert "calibrated to 2006–2018" in controls.range_note(judged, posterior, "en")


# ---------------------------------------------------------------------------------------
# bad input


def test_bad_calibration_input_exits_2_with_the_field() -> None:
    runner = CliRunner()
    cases = [
        (["--history", "--budget", "0"], "--budget"),
        (["--history", "--budget", "-5"], "--budget"),
        (["--history", "--parameters", "assumptions.markets.no_such"], "unknown parameter"),
        (["--history", "--parameters", "levers.central_budget.share_of_gdp=0:1"], "not a numeric assumption"),
        (["--history", "--parameters", f"{CREDIT}=0.5"], "malformed"),
        (["--history", "--parameters", f"{CREDIT}=-1:0.5"], "outside its allowed"),
        (["--history", "--targets"], "not both"),
        (["--quick"], "--history only"),
    ]
    for args, words in cases:
        result = runner.invoke(app, ["calibrate", *args])
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_settings_check_names_the_problem() -> None:
    with pytest.raises(ch.CalibrationError, match="budget"):
        ch.HistorySettings(budget=0).check()
    with pytest.raises(ch.CalibrationError, match="not a numeric assumption"):
        ch.HistorySettings(
            parameters=("assumptions.markets.share_dynamics",),
            ranges=(("assumptions.markets.share_dynamics", 0.0, 1.0),),
        ).check()
    ch.HistorySettings().check()  # the shipped prior is valid against the schema


def test_a_stored_calibration_is_not_overwritten_without_resume(tmp_path: Path) -> None:
    (tmp_path / ch.ABC_DB).write_text("", encoding="utf-8")
    with pytest.raises(ch.CalibrationError, match="--resume"):
        ch.run(ch.HistorySettings(budget=10, firms=100, end_year=2008), tmp_path)


def test_distance_is_the_rms_of_tolerance_scaled_misses() -> None:
    d = ch.TargetDistance((("a", 1.0), ("b", 2.0)))
    assert d({"a": 1.0, "b": 4.0}, {"a": 0.0, "b": 0.0}) == pytest.approx(np.sqrt((1 + 4) / 2))
    assert d({"a": float("nan"), "b": 0.0}, {"a": 0.0, "b": 0.0}) == pytest.approx(ch.MISSING_Z / np.sqrt(2))


def test_coverage_counts_observations_inside_the_band() -> None:
    import pandas as pd

    settings = ch.HistorySettings(end_year=2008, targets=(("debt_2008", 150.0, 5.0), ("mfg_share_2006", 32.0, 1.0)))
    rows = []
    for i in range(20):
        rows.append({"kind": "posterior", "draw": i, "target_id": "debt_2008", "value": 140.0 + i})
        rows.append({"kind": "prior", "draw": i, "target_id": "debt_2008", "value": 100.0 + i})
        rows.append({"kind": "posterior", "draw": i, "target_id": "mfg_share_2006", "value": 32.0})
        rows.append({"kind": "prior", "draw": i, "target_id": "mfg_share_2006", "value": float("nan")})
    table = ch.coverage_table(settings, pd.DataFrame(rows)).set_index("target_id")
    assert table.loc["debt_2008", "posterior_inside"] and not table.loc["debt_2008", "prior_inside"]
    assert table.loc["mfg_share_2006", "posterior_inside"]
    assert not table.loc["mfg_share_2006", "prior_inside"]  # no draw produced it: outside


def test_coverage_censors_a_parity_year_a_draw_does_not_reach() -> None:
    """As in the hindcast: a draw without parity by the end year counts as later than every
    year, not as missing; the band is order statistics and prints without thousands separators."""
    import pandas as pd

    from nswn.experiments import calibration_doc

    settings = ch.HistorySettings(end_year=2024, targets=(("hsr_parity", 2011.0, 1.0),))
    years = [2010.0, 2011.0, 2012.0, 2013.0] + [float("nan")] * 6  # six of ten never reach it
    rows = [
        {"kind": kind, "draw": i, "target_id": "hsr_parity", "value": v}
        for kind in ("posterior", "prior")
        for i, v in enumerate(years if kind == "posterior" else years[:4] * 2 + [float("nan")] * 2)
    ]
    table = ch.coverage_table(settings, pd.DataFrame(rows)).set_index("target_id")
    post, prior = table.loc["hsr_parity"], table.loc["hsr_parity"]
    assert np.isnan(post["posterior_median"]) and post["posterior_p95"] == np.inf  # most never reach it
    assert post["posterior_p05"] == 2010.0 and post["posterior_inside"]
    assert prior["prior_median"] == 2012.0 and prior["prior_p95"] == np.inf
    assert calibration_doc._fmt_target(np.inf, "parity_year", 2024) == "after 2024"
    assert calibration_doc._fmt_target(2011.0, "parity_year", 2024) == "2011"
    assert calibration_doc._fmt_target(2011.5, "parity_year", 2024) == "2011.5"
    assert calibration_doc._fmt_target(2011.0, "debt_to_gdp", 2024) == "2,011"


# ---------------------------------------------------------------------------------------
def test_calibration_scores_every_target_the_hindcast_models() -> None:
    """The calibration's targets (training distance and out-of-sample check) are exactly the
    ones the hindcast table compares: a target the hindcast models and the calibration leaves
    out (nominal GDP 2024 was, while NOT_MODELLED still listed it) would make the two documents
    count different test windows."""
    from nswn import api
    from nswn.analysis import hindcast

    result = api.simulate(api.with_overrides(api.load_scenario("history"), firms=300), seed=0)
    table = hindcast.compare([(result.technology_year, result.macro_year)])
    modelled = set(table.loc[table["status"] != "not modelled", "target_id"])
    scored = {t.target_id for t in ch.scored_targets(ch.HistorySettings())}
    assert scored == modelled
    assert "gdp_nominal_2024" in scored and "ship_first_rank_year" not in scored


# recovery and determinism (the real model at a tiny size)

TRUTH = {LABOUR: 0.03, EMULATION: 0.12}
TINY = {"firms": 300, "end_year": 2012}
SYNTHETIC_SEEDS = (101, 102, 103, 104)  # the synthetic history is the mean path at the truth over these seeds


def _synthetic_settings(budget: int, population: int = 30, **changes: object) -> ch.HistorySettings:
    """Synthetic history: the training targets of runs at :data:`TRUTH` (mean over
    :data:`SYNTHETIC_SEEDS`, so that the check is about recovering the parameters' systematic
    effect, not one realisation's noise), with the real targets' tolerances."""
    base = ch.HistorySettings(budget=budget, population=population, predictive=4, parameters=tuple(TRUTH), **TINY)
    ids = tuple(t.target_id for t in ch.scored_targets(base, ch.TRAIN))
    runs = [ch.simulate_targets(TRUTH, ids, TINY["firms"], TINY["end_year"], seed=s) for s in SYNTHETIC_SEEDS]
    tolerances = {t.target_id: t.tolerance for t in ch.scored_targets(base, ch.TRAIN)}
    synthetic = []
    for tid in ids:
        values = np.array([r[tid] for r in runs])
        if np.all(np.isfinite(values)):
            synthetic.append((tid, float(values.mean()), tolerances[tid]))
    return replace(base, targets=tuple(synthetic), **changes)


@pytest.mark.slow
def test_recovery_puts_the_truth_inside_the_90_percent_interval(tmp_path: Path) -> None:
    settings = _synthetic_settings(budget=300)
    result = ch.run(settings, tmp_path, workers=1)
    table = ch.parameter_table(result.posterior).set_index("parameter")
    identified = table[table["identified"]]
    assert len(identified) >= 1, table  # the synthetic history informs at least one assumption
    for path, row in identified.iterrows():
        assert row["posterior_p05"] <= TRUTH[path] <= row["posterior_p95"], (path, row.to_dict())
    # stored with its provenance
    stored = post.read(tmp_path)
    assert stored.posterior_id == result.posterior.posterior_id
    assert stored.provenance["firms"] == TINY["firms"] and stored.provenance["model_hash"]
    assert stored.provenance["data_vintage"]["start_vintage"] == "2006"


@pytest.mark.slow
def test_calibration_is_deterministic_and_resumes_to_the_same_posterior(tmp_path: Path) -> None:
    settings = _synthetic_settings(budget=50, population=10, min_epsilon=0.0)
    one = ch.run(settings, tmp_path / "a", workers=1)
    two = ch.run(settings, tmp_path / "b", workers=2)
    np.testing.assert_array_equal(one.posterior.values, two.posterior.values)
    np.testing.assert_array_equal(one.posterior.weights, two.posterior.weights)
    # a short run continued with a larger budget equals one run with that budget
    short = ch.run(replace(settings, budget=25), tmp_path / "c", workers=1)
    assert short.simulations < one.simulations
    resumed = ch.run(settings, tmp_path / "c", workers=1, resume=True)
    np.testing.assert_array_equal(resumed.posterior.values, one.posterior.values)
    # the result says what was resumed, and the page says what its time covers
    from nswn.experiments import calibration_doc

    assert (one.resumed_from, resumed.resumed_from) == (0, short.simulations)
    again = ch.run(settings, tmp_path / "c", workers=1, resume=True)
    assert again.resumed_from == again.simulations == resumed.simulations
    assert calibration_doc._resumed(one) == ""
    assert "after" in calibration_doc._resumed(resumed) and "predictive" in calibration_doc._resumed(again)
    with pytest.raises(ch.CalibrationError, match="other settings"):
        ch.run(replace(settings, seed=1), tmp_path / "c", workers=1, resume=True)


def test_a_degenerate_posterior_identifies_nothing() -> None:
    p = _posterior()
    collapsed = replace(p, weights=np.r_[1.0, np.full(p.particles - 1, 1e-9)])
    assert ch.effective_sample_size(collapsed) < ch.MIN_ESS
    table = ch.parameter_table(collapsed)
    assert not table["identified"].any() and not table["assessable"].any()
    assert ch.effective_sample_size(replace(p, weights=np.ones(p.particles))) == pytest.approx(p.particles)


def test_the_perturbation_kernel_has_twice_the_weighted_covariance() -> None:
    import pandas as pd
    import pyabc

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200) * 3})
    weights = np.full(200, 1 / 200)
    kernel = pyabc.MultivariateNormalTransition(bandwidth_selector=ch.beaumont_bandwidth)
    kernel.fit(frame, weights)
    empirical = np.cov(frame.to_numpy().T, aweights=weights)  # pyabc: the unbiased weighted covariance
    np.testing.assert_allclose(kernel.cov, 2 * empirical, rtol=1e-6)


def test_a_run_stopped_by_the_models_limits_counts_as_missing_on_every_target(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A world whose firm population explodes (SimulationError) reproduces no target: every value
    is NaN, which the distance counts as MISSING_Z, so ABC rejects it instead of stopping."""
    from nswn import api
    from nswn.core.model import SimulationError
    from nswn.experiments import calibrate_history as ch

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise SimulationError("the firm population would reach 1e9")

    monkeypatch.setattr(api, "simulate", explode)
    out = ch.simulate_targets({"assumptions.innovation.emulation_rate": 0.2}, ("debt_2008", "gerd_2012"), 300, 2010)
    assert set(out) == {"debt_2008", "gerd_2012"} and all(np.isnan(v) for v in out.values())
    distance = ch.TargetDistance((("debt_2008", 5.0), ("gerd_2012", 0.05)))
    assert distance(out, {"debt_2008": 145.9, "gerd_2012": 1.98}) == ch.MISSING_Z
