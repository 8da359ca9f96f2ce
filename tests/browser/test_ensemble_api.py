"""The page's paired-seed endpoint without a browser: effects, bands, the comparison, limits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from nswn.serve.app import create_app
from nswn.serve.ensemble import _quantiles, expected_half_width, paired, seeds_for_precision
from nswn.serve.runner import Runner
from nswn.serve.schemas import Settings

SMALL = {"firms": 300, "seeds": 2, "end_year": 2027}


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(create_app(Settings(threads=2, warm=False))) as c:
        yield c


def test_an_interval_that_covers_zero_is_no_clear_effect() -> None:
    assert paired([1, 2, 3, 4], [1, 2, 3, 4])["effect"] == "none"  # identical arms: [0, 0] covers 0
    mixed = paired([1, 0, 2, -1], [0, 0, 0, 0])
    assert mixed["low"] < 0 < mixed["high"] and mixed["effect"] == "none"
    up = paired([2.0, 3.0, 2.5, 3.5], [1.0, 1.0, 1.0, 1.0])
    assert up["effect"] == "up" and up["low"] > 0 and up["difference"] == pytest.approx(1.75)
    assert paired([0.0, -1.0, -2.0], [1.0, 1.0, 1.0])["effect"] == "down"
    assert paired([5.0], [1.0])["effect"] == "none"  # one pair: no interval, no arrow


# docs/page.md "How many seeds: the rule": the larger standard deviation of paired differences
# of the stranglehold-at-parity-2050 count in the pilot (seeds 1000–1031, 32 pairs, central
# budget 0.51 % and 1.00 % vs 0.50 % at 3 654 agents; benchmarks/page_seeds.py --rule)
PILOT_SIGMA_PARITY_END = 1.601  # after round 6 of the history fixes (2.073 after round 5)


def test_the_expected_half_width_is_the_t_quantile_times_the_standard_error() -> None:
    from scipy import stats

    assert expected_half_width(2.0, 16) == pytest.approx(stats.t.ppf(0.95, 15) * 2.0 / 4.0, rel=1e-12)
    assert expected_half_width(1.0, 8, level=0.95) == pytest.approx(stats.t.ppf(0.975, 7) / np.sqrt(8), rel=1e-12)
    assert expected_half_width(0.0, 4) == 0.0
    for sigma, pairs in ((1.0, 1), (-1.0, 8), (float("nan"), 8)):
        with pytest.raises(ValueError):
            expected_half_width(sigma, pairs)


def test_the_seed_count_is_the_smallest_candidate_that_reaches_the_precision() -> None:
    # half-widths for σ = 2: 4 → 2.35, 8 → 1.34, 12 → 1.04, 16 → 0.88
    assert seeds_for_precision(2.0, 1.0) == 16
    assert seeds_for_precision(2.0, 1.1) == 12
    assert seeds_for_precision(2.0, 1.5) == 8
    assert seeds_for_precision(2.0, 3.0) == 4
    assert seeds_for_precision(10.0, 1.0) == 16  # none reaches it: the service limit
    assert seeds_for_precision(2.0, 1.1, candidates=(16, 12, 8)) == 12  # order of candidates does not matter
    with pytest.raises(ValueError):
        seeds_for_precision(2.0, 0.0)


def test_the_page_default_seed_count_follows_the_rule_on_the_recorded_pilot() -> None:
    settings = Settings()
    assert settings.page_seeds == seeds_for_precision(PILOT_SIGMA_PARITY_END, 1.0)
    assert settings.page_seeds <= settings.max_seeds


def test_bands_match_numpy_percentiles_with_missing_values() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 20, 7))
    x[rng.random(x.shape) < 0.3] = np.nan
    x[:, 0, 0] = np.nan
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanpercentile(x, [5, 50, 95], axis=0)
    np.testing.assert_allclose(_quantiles(x), expected, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_the_cache_key_holds_assumptions_resolution_seed_and_kind() -> None:
    scenario = {"name": "s", "levers": {}, "assumptions": {"innovation": {"emulation_rate": 0.1}}, "firms": 300}
    keys = {
        Runner.key(scenario, 0, "series"),
        Runner.key({**scenario, "firms": 600}, 0, "series"),
        Runner.key({**scenario, "assumptions": {"innovation": {"emulation_rate": 0.2}}}, 0, "series"),
        Runner.key(scenario, 1, "series"),
        Runner.key(scenario, 0, "tables"),
    }
    assert len(keys) == 5


def test_the_modified_comparison_keeps_assumptions_and_drops_levers(client: Any) -> None:
    overrides = {"levers.central_budget.share_of_gdp": 0.01, "assumptions.innovation.emulation_rate": 0.15}
    modified = client.post("/api/ensemble", json={"base": "baseline", "overrides": overrides, **SMALL})
    assert modified.status_code == 200, modified.text
    body = modified.json()
    assert body["comparison_kind"] == "modified"
    assert body["comparison_overrides"] == {"assumptions.innovation.emulation_rate": 0.15}
    assert body["seeds"] == [0, 1] and body["timing"]["runs"] == 4
    assert set(body["kpis"]) >= {"parity_end", "broken_2035", "gdp_end"}
    for card in body["kpis"].values():
        assert card["effect"] in ("up", "down", "none") and card["pairs"] == 2
    band = body["scenario"]["macro"]["gdp"]
    assert all(lo <= med <= hi for lo, med, hi in zip(band["lo"], band["median"], band["hi"], strict=True))
    errors = [x[arm]["max_sum_error"] for x in body["attribution"]["by_technology"].values() for arm in x]
    assert max(e for e in errors if e is not None) <= 1e-9
    assert body["selection"]["scenario"]["technologies"]

    default = client.post(
        "/api/ensemble", json={"base": "baseline", "overrides": overrides, "comparison": "default", **SMALL}
    ).json()
    assert default["comparison_overrides"] == {}
    assert default["timing"]["cached_runs"] == 2  # the scenario's runs came from the cache
    assert default["comparison"]["macro"]["gdp"] != body["comparison"]["macro"]["gdp"]
    again = client.post("/api/ensemble", json={"base": "baseline", "overrides": overrides, **SMALL}).json()
    assert again["timing"]["cached_runs"] == 4


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seeds": 17}, "seeds"),
        ({"seeds": 1}, "seeds"),
        ({"comparison": "mine"}, "comparison"),
        ({"firms": 10}, "firms"),
    ],
)
def test_requests_over_the_limits_are_refused_naming_the_field(client: Any, change: dict[str, Any], field: str) -> None:
    response = client.post("/api/ensemble", json={"base": "baseline", **SMALL, **change})
    assert response.status_code == 422
    assert any(field in item["loc"] for item in response.json()["detail"])


def test_a_body_over_the_size_limit_is_refused(client: Any) -> None:
    response = client.post(
        "/api/ensemble",
        content=b'{"base": "baseline", "x": "' + b"a" * 70_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


def test_every_worker_warms_the_engine_with_a_small_run_as_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool worker's initialiser runs a small baseline (its first run pays the start-up costs
    there, not in the first request's runs) and ignores a failure of that run."""
    from nswn import api
    from nswn.serve import runner

    watched: list[int] = []
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(runner, "_watch_parent", watched.append)
    monkeypatch.setattr(api, "simulate", lambda scenario, **kw: calls.append({"name": scenario.name, **kw}))
    runner._start_worker(12345)
    assert watched == [12345]
    assert len(calls) == 1 and calls[0]["name"] == "baseline" and calls[0]["firms"] == 200
    assert calls[0]["end_year"] == io_start() + 2

    def fail(*_args: Any, **_kw: Any) -> None:
        raise RuntimeError("no engine")

    monkeypatch.setattr(api, "simulate", fail)
    runner._start_worker(12345)  # best effort: no exception
    assert watched == [12345, 12345]


def io_start() -> int:
    from nswn.scenario import io

    return int(io.load("baseline").years.start)
