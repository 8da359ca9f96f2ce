"""Issue 16, near-constant outputs: noise is "no variance", doubtful indices are flagged, no warnings leak."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from nswn.analysis import ensemble as ens
from nswn.experiments.sensitivity import index_warnings, no_variance


def _sobol_problem(k: int, n: int, seed: int = 0) -> tuple[dict, np.ndarray, dict]:  # type: ignore[type-arg]
    from SALib.sample import sobol

    problem = {"num_vars": k, "names": [f"p{i}" for i in range(k)], "bounds": [[0.0, 1.0]] * k}
    x = sobol.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    return problem, x, {"samples": n, "second_order": False}


def test_rounding_noise_is_reported_as_no_variance() -> None:
    problem, x, sampled = _sobol_problem(3, 16)
    y = np.random.default_rng(1).uniform(-2e-13, 2e-13, len(x))  # a ledger imbalance: pure rounding
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any leaked library warning fails the test
        rows = ens._indices("sobol", problem, x, y, sampled, "arm")
    assert {r["note"] for r in rows} == {"no variance"}
    assert all(np.isnan(r["ST"]) for r in rows)


def test_a_constant_output_leaks_no_warning() -> None:
    problem, x, sampled = _sobol_problem(2, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = ens._indices("sobol", problem, x, np.full(len(x), 3.0), sampled, "arm")
    assert rows[0]["note"] == "no variance"


def test_a_real_response_is_analysed_and_small_samples_are_flagged() -> None:
    problem, x, sampled = _sobol_problem(1, 4)
    y = 5.0 * x[:, 0] + 1.0
    rows = ens._indices("sobol", problem, x, y, sampled, "arm")
    assert np.isfinite(rows[0]["ST"])
    assert "only 4 base samples" in rows[0]["note"]


def test_noise_is_relative_to_scale() -> None:
    assert no_variance(np.array([1e6, 1e6 + 1e-4]))  # 1e-10 relative
    assert not no_variance(np.array([0.010, 0.011]))  # a small but real spread
    assert no_variance(np.array([np.nan, 1.0]))  # one finite value says nothing


def test_indices_beyond_their_interval_are_warned() -> None:
    table = pd.DataFrame({"parameter": ["a", "b"], "S1": [1.44, 0.2], "S1_conf": [0.1, 0.1], "ST": [0.5, 0.3]})
    notes = index_warnings("sobol", table, 1024)
    assert any("S1 outside [0, 1]" in n and "a" in n for n in notes)
    assert index_warnings("sobol", table.assign(S1=[0.9, 0.2]), 1024) == []


def test_the_sensitivity_chart_is_the_same_file_for_the_same_report(tmp_path: Path) -> None:
    """The HTML chart carries a fixed element id, so regenerating docs does not churn it."""
    from nswn.experiments import sensitivity as sens

    table = pd.DataFrame(
        {
            "output": ["y", "y"],
            "output_label": ["Y", "Y"],
            "assumption": ["a.b", "a.c"],
            "mu_star": [0.2, 0.1],
        }
    )
    report = sens.SensitivityReport("morris", table, runs=4, firms=10, samples=2)
    first = [p for p in sens.charts(report, tmp_path / "one") if p.suffix == ".html"]
    second = [p for p in sens.charts(report, tmp_path / "two") if p.suffix == ".html"]
    assert first and first[0].read_bytes() == second[0].read_bytes()
    assert 'id="sensitivity-morris"' in first[0].read_text(encoding="utf-8")
