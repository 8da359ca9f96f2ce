"""Environment (model.md §6.1, §7): fences from control batches, decoupling, access, growth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nswn.core.model import Model
from nswn.mechanisms.environment import (
    EnvironmentParams,
    ExportControlBatch,
    ExportControlParams,
    apply_access,
    decoupling,
    demand_growth,
    fence_heights,
)

IDS = ("a", "b", "c", "d")
CONTROLS = ExportControlParams(
    batches=(
        ExportControlBatch(technologies=("a", "b"), year=2022, fence_height=0.5),
        ExportControlBatch(technologies=("a",), year=2023, fence_height=0.7),
        ExportControlBatch(technologies=("a", "c"), year=2030, fence_height=0.2),
    )
)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2021, [0.0, 0.0, 0.0, 0.0]),  # no batch in force yet
        (2022, [0.5, 0.5, 0.0, 0.0]),
        (2023, [0.7, 0.5, 0.0, 0.0]),  # the higher 2023 batch replaces 0.5 on a
        (2030, [0.7, 0.5, 0.2, 0.0]),  # a lower later batch does not lower a; c newly controlled
    ],
)
def test_fence_is_the_highest_batch_in_force(year: int, expected: list[float]) -> None:
    np.testing.assert_array_equal(fence_heights(CONTROLS, IDS, year), expected)


@pytest.mark.parametrize(("year", "expected"), [(2010, 0.0), (2018, 0.0), (2025, 0.07), (2040, 0.22), (2100, 0.5)])
def test_decoupling_rises_linearly_to_its_ceiling(year: int, expected: float) -> None:
    assert decoupling(EnvironmentParams(), year) == pytest.approx(expected)


def test_decoupling_with_other_parameters() -> None:
    params = EnvironmentParams(decoupling_rate=0.05, decoupling_max=0.3, decoupling_start=2020)
    assert decoupling(params, 2022) == pytest.approx(0.10)
    assert decoupling(params, 2030) == pytest.approx(0.30)


def test_access_formulas_on_the_baseline_state(model: Model) -> None:
    state = model.state
    env = EnvironmentParams(foreign_market_access=0.8, controls_block_sales=0.2)
    controls = ExportControlParams()  # 2022 (0.5) and 2023 (0.7) batches on three semiconductor areas
    state.year = 2025
    apply_access(state, env, controls)
    tech = state.technologies
    litho, solar = tech.index("lithography_machines"), tech.index("solar_pv")
    # d(2025) = 0.01 * 7 = 0.07
    assert state.macro.decoupling == pytest.approx(0.07)
    assert tech.fence[litho] == pytest.approx(0.7)
    assert tech.fence[solar] == 0.0
    assert tech.knowhow_access[litho] == pytest.approx((1 - 0.7) * (1 - 0.07))
    assert tech.knowhow_access[solar] == pytest.approx(1 - 0.07)
    assert tech.market_access[litho] == pytest.approx(0.8 * (1 - 0.2 * 0.7))
    assert tech.market_access[solar] == pytest.approx(0.8)
    assert np.count_nonzero(tech.fence) == 3


def test_demand_growth_converges_to_the_long_run_rate() -> None:
    params = EnvironmentParams(demand_growth_scale=2.0)
    start = np.array([0.15, -0.02])
    np.testing.assert_allclose(demand_growth(params, start, 1), [0.30, -0.04])  # first year: scaled catalog rate
    np.testing.assert_allclose(demand_growth(params, start, 3), 0.03 + (2 * start - 0.03) * 0.85**2)
    np.testing.assert_allclose(demand_growth(params, start, 500), [0.03, 0.03])


def test_environment_step_by_hand(build: Callable[..., Model], run_until: Callable[..., Any]) -> None:
    model = build({"assumptions": {"environment": {"frontier_growth_scale": 1.5}}})
    environment, ctx = run_until(model, "environment")
    tech = model.state.technologies
    frontier, demand, world = tech.frontier.copy(), tech.demand.copy(), tech.world_demand.copy()
    firms = model.state.firms
    best = np.array([firms.capability[firms.technology == t].max(initial=-np.inf) for t in range(len(tech))])
    lead = np.where(np.isfinite(best), np.maximum(0.0, best - frontier), 0.0)
    learning = 0.3 * tech.emulability * tech.knowhow_access * lead  # λ_f e A lead, last year's access
    environment.step(model.state, ctx)
    assert (learning > 0).any()  # some technologies start ahead, and the foreign frontier learns from them
    np.testing.assert_allclose(tech.frontier, frontier + 1.5 * tech.frontier_growth + learning)
    np.testing.assert_allclose(tech.demand, demand * (1 + tech.demand_growth))  # first year: catalog rate
    np.testing.assert_allclose(tech.world_demand, world * (1 + tech.world_demand_growth))
    assert model.state.macro.decoupling == pytest.approx(0.01 * (ctx.year - 2018))
