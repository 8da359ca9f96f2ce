"""Foreign trade-defence measures on Chinese exports (``levers.trade_defence``; docs/model.md §7).

A measure taxes Chinese goods at an ad-valorem tariff-equivalent ``τ`` in a share ``μ`` of the
market outside China. In that segment China's export composite falls by ``σ_w σ_p ln(1 + τ)``;
China's share of the market outside China is the coverage-weighted mean of its segment shares,
solved together with the generic friction. Checked by hand here: which technologies and years
a measure touches, the sign and size of the wedge, the reduction to the old rule without
measures, the start-year calibration under measures in force, and validation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nswn import api
from nswn.mechanisms.environment import TradeDefenceMeasure, TradeDefenceParams, tariff_segments
from nswn.mechanisms.markets import (
    MarketParams,
    friction_equilibrium,
    segmented_share,
    tariff_equilibrium,
    tariff_wedge,
)
from nswn.scenario import io


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_segments_cover_only_the_listed_technologies_in_the_years_in_force() -> None:
    defence = TradeDefenceParams(
        measures=(
            TradeDefenceMeasure(technologies=("b",), year=2012, tariff=0.3, coverage=0.4, duration=3),
            TradeDefenceMeasure(technologies=("b", "c"), year=2018, tariff=1.0, coverage=0.2),
        )
    )
    ids = ("a", "b", "c")
    coverage, tariff = tariff_segments(defence, ids, 2011)
    assert coverage.shape == (3, 2) and not coverage.any() and not tariff.any()
    coverage, tariff = tariff_segments(defence, ids, 2014)  # the first measure, still in force
    assert coverage[1, 0] == 0.4 and tariff[1, 0] == 0.3
    assert coverage[[0, 2]].sum() == 0.0 and coverage[:, 1].sum() == 0.0
    coverage, _ = tariff_segments(defence, ids, 2015)  # lapsed after 3 years
    assert not coverage.any()
    coverage, tariff = tariff_segments(defence, ids, 2030)
    assert coverage[:, 1].tolist() == [0.0, 0.2, 0.2] and tariff[:, 1].tolist() == [0.0, 1.0, 1.0]


def test_the_wedge_is_the_trade_elasticity_times_the_log_tariff() -> None:
    params = MarketParams(export_elasticity=1.5, cost_weight=2.0)
    assert float(tariff_wedge(params, np.array([1.0]))[0]) == pytest.approx(3.0 * math.log(2.0))
    assert float(tariff_wedge(params, np.array([0.0]))[0]) == 0.0
    doubled = MarketParams(export_elasticity=3.0, cost_weight=2.0)
    assert float(tariff_wedge(doubled, np.array([0.25]))[0]) == pytest.approx(6.0 * math.log(1.25))


def test_without_friction_the_share_is_the_coverage_weighted_mean_of_segment_shares() -> None:
    z, mu, a = 0.7, 0.35, 1.2
    share = tariff_equilibrium(np.array([z]), np.array([[mu]]), np.array([[a]]), 0.0, 0.3)[0]
    assert share == pytest.approx((1 - mu) * logistic(z) + mu * logistic(z - a), abs=1e-15)
    # two disjoint segments
    share2 = tariff_equilibrium(np.array([z]), np.array([[0.2, 0.5]]), np.array([[0.4, 2.0]]), 0.0, 0.3)[0]
    expected = 0.3 * logistic(z) + 0.2 * logistic(z - 0.4) + 0.5 * logistic(z - 2.0)
    assert share2 == pytest.approx(expected, abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    z=st.floats(-8, 8),
    slope=st.floats(0, 10),
    threshold=st.floats(0.05, 0.95),
)
def test_with_no_coverage_the_rule_is_the_friction_equilibrium(z: float, slope: float, threshold: float) -> None:
    old = friction_equilibrium(np.array([z]), slope, threshold)[0]
    new = tariff_equilibrium(np.array([z]), np.zeros((1, 1)), np.array([[2.0]]), slope, threshold)[0]
    assert new == pytest.approx(old, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    z=st.floats(-6, 6),
    mu=st.floats(0.05, 1.0),
    a=st.floats(0.01, 5.0),
    slope=st.floats(0, 10),
)
def test_a_tariff_lowers_the_share_and_friction_still_cannot_reverse_a_lead(
    z: float, mu: float, a: float, slope: float
) -> None:
    taxed = tariff_equilibrium(np.array([z, z + 0.5]), np.full((2, 1), mu), np.full((2, 1), a), slope, 0.3)
    untaxed = friction_equilibrium(np.array([z]), slope, 0.3)[0]
    assert taxed[0] < untaxed + 1e-12
    assert taxed[1] > taxed[0]  # a wider lead still raises the share under the same measure
    # the fixed point holds
    friction = slope * max(0.0, taxed[0] - 0.3)
    implied = segmented_share(np.array([z]), np.full((1, 1), mu), np.full((1, 1), a), np.array([friction]))[0]
    assert taxed[0] == pytest.approx(implied, abs=1e-12)


def _run(measures: list[dict[str, object]], end: int = 2027, start: int | None = None):  # type: ignore[no-untyped-def]
    data = io.load("baseline").model_dump(mode="json")
    data["levers"]["trade_defence"] = {"measures": measures}
    if start is not None:
        data["years"]["start"] = start
    data["years"]["end"] = end
    data["firms"] = 600
    return api.simulate(io.validate(data, "test"), seed=3).technology_year


@pytest.fixture(scope="module")
def plain():  # type: ignore[no-untyped-def]
    return _run([])


def _share(table, tech: str, year: int) -> float:  # type: ignore[no-untyped-def]
    row = table[(table["technology_id"] == tech) & (table["year"] == year)]
    return float(row["china_world_share"].iloc[0])


def test_a_measure_cuts_only_its_technologys_share_and_only_from_its_year(plain) -> None:  # type: ignore[no-untyped-def]
    taxed = _run([{"technologies": ["electric_vehicles"], "year": 2026, "tariff": 1.0, "coverage": 0.5}])
    assert _share(taxed, "electric_vehicles", 2025) == _share(plain, "electric_vehicles", 2025)
    assert _share(taxed, "electric_vehicles", 2026) < 0.9 * _share(plain, "electric_vehicles", 2026)
    # the other technologies' trade is untouched in the year the measure starts
    other = (plain["year"] == 2026) & (plain["technology_id"] != "electric_vehicles")
    np.testing.assert_array_equal(
        taxed.loc[other, "china_world_share"].to_numpy(), plain.loc[other, "china_world_share"].to_numpy()
    )


def test_a_measure_in_force_at_the_start_keeps_the_catalogs_start_share(plain) -> None:  # type: ignore[no-untyped-def]
    """The start year's world share already reflects measures in force then: the Armington
    weight is calibrated under them, so the start share is the catalog's, and lifting the
    measure later raises China's share."""
    taxed = _run([{"technologies": ["solar_pv"], "year": 2024, "tariff": 0.5, "coverage": 0.4, "duration": 2}])
    assert _share(taxed, "solar_pv", 2024) == pytest.approx(_share(plain, "solar_pv", 2024), abs=1e-12)
    assert _share(taxed, "solar_pv", 2026) > _share(plain, "solar_pv", 2026)  # lapsed in 2026


def test_overlapping_measures_that_cover_more_than_the_market_are_refused() -> None:
    data = io.load("baseline").model_dump(mode="json")
    data["levers"]["trade_defence"] = {
        "measures": [
            {"technologies": ["solar_pv"], "year": 2025, "tariff": 0.5, "coverage": 0.7},
            {"technologies": ["solar_pv"], "year": 2026, "tariff": 0.2, "coverage": 0.5},
        ]
    }
    with pytest.raises(io.ScenarioError, match="cover 1.2"):
        io.validate(data, "test")


def test_unknown_technologies_and_out_of_range_tariffs_are_refused() -> None:
    data = io.load("baseline").model_dump(mode="json")
    data["levers"]["trade_defence"] = {"measures": [{"technologies": ["teleporters"], "year": 2025}]}
    with pytest.raises(io.ScenarioError, match="teleporters"):
        io.validate(data, "test")
    data["levers"]["trade_defence"] = {"measures": [{"technologies": ["solar_pv"], "year": 2025, "tariff": 11}]}
    with pytest.raises(io.ScenarioError, match="tariff"):
        io.validate(data, "test")
