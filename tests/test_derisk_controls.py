"""The control design space (model.md §6.1): announcement windows, allied coverage, duration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nswn import api
from nswn.core.model import Model
from nswn.mechanisms.environment import (
    EnvironmentParams,
    ExportControlBatch,
    ExportControlParams,
    announced_fences,
    apply_access,
    fence_heights,
    surge_factor,
)
from nswn.scenario import io
from nswn.scenario.io import ScenarioError

IDS = ("a", "b", "c")


def _controls(*batches: ExportControlBatch) -> ExportControlParams:
    return ExportControlParams(batches=batches)


def test_coverage_scales_the_fence() -> None:
    controls = _controls(ExportControlBatch(technologies=("a", "b"), year=2025, fence_height=0.8, coverage=0.5))
    np.testing.assert_allclose(fence_heights(controls, IDS, 2025), [0.4, 0.4, 0.0])


def test_a_batch_lapses_after_its_duration() -> None:
    controls = _controls(ExportControlBatch(technologies=("a",), year=2025, fence_height=0.6, duration=3))
    assert [fence_heights(controls, IDS, y)[0] for y in (2024, 2025, 2027, 2028, 2040)] == [0.0, 0.6, 0.6, 0.0, 0.0]


def test_without_duration_a_batch_never_lapses() -> None:
    controls = _controls(ExportControlBatch(technologies=("a",), year=2025, fence_height=0.6))
    assert fence_heights(controls, IDS, 2150)[0] == pytest.approx(0.6)


def test_announcement_window_is_announced_up_to_the_year_before_it_binds() -> None:
    controls = _controls(ExportControlBatch(technologies=("b",), year=2027, fence_height=0.9, announced=2025))
    assert [announced_fences(controls, IDS, y)[1] for y in (2024, 2025, 2026, 2027)] == [0.0, 0.9, 0.9, 0.0]
    assert fence_heights(controls, IDS, 2026)[1] == 0.0  # not yet binding
    assert fence_heights(controls, IDS, 2027)[1] == pytest.approx(0.9)


def test_surge_rule_raises_foreign_access_by_the_coming_sales_block() -> None:
    env = EnvironmentParams(controls_block_sales=0.5, preemptive_buying=2.0)
    factor = surge_factor(env, fence=np.array([0.0, 0.5, 0.8]), announced=np.array([0.9, 0.9, 0.6]))
    # 1 + b·κ·max(0, h_ann − h): a new fence surges, a tightening surges by the increment, a looser one not at all
    np.testing.assert_allclose(factor, [1.0 + 2.0 * 0.5 * 0.9, 1.0 + 2.0 * 0.5 * 0.4, 1.0])
    assert np.all(surge_factor(EnvironmentParams(preemptive_buying=0.0), np.zeros(3), np.ones(3)) == 1.0)


def test_surge_in_the_window_on_a_small_state(model: Model) -> None:
    state = model.state
    env = EnvironmentParams()
    tech = state.technologies
    solar = tech.index("solar_pv")
    window = _controls(ExportControlBatch(technologies=("solar_pv",), year=2028, fence_height=0.8, announced=2025))
    state.year = 2026
    apply_access(state, env, ExportControlParams(batches=()))
    no_controls = tech.market_access.copy()
    apply_access(state, env, window)
    assert tech.fence[solar] == 0.0
    assert tech.market_access[solar] > no_controls[solar]  # buyers purchase ahead of the fence
    assert tech.market_access[solar] == pytest.approx(no_controls[solar] * (1 + 1.0 * 0.5 * 0.8))
    others = np.arange(len(tech)) != solar
    np.testing.assert_array_equal(tech.market_access[others], no_controls[others])
    state.year = 2028  # the fence binds: access falls below no controls
    apply_access(state, env, window)
    assert tech.market_access[solar] < no_controls[solar]


def test_coverage_scales_know_how_cut_and_sales_block(model: Model) -> None:
    state = model.state
    env = EnvironmentParams()
    tech = state.technologies
    litho = tech.index("lithography_machines")
    state.year = 2030
    cuts = {}
    for coverage in (1.0, 0.5, 0.0):
        batch = ExportControlBatch(
            technologies=("lithography_machines",), year=2030, fence_height=0.8, coverage=coverage
        )
        apply_access(state, env, _controls(batch))
        cuts[coverage] = (tech.knowhow_access[litho], tech.market_access[litho])
    d = state.macro.decoupling
    assert cuts[0.5][0] == pytest.approx((1 - 0.4) * (1 - d))
    assert cuts[0.5][1] == pytest.approx(1 - 0.5 * 0.4)
    assert cuts[1.0][0] < cuts[0.5][0] < cuts[0.0][0]
    assert cuts[1.0][1] < cuts[0.5][1] < cuts[0.0][1] == pytest.approx(1.0)


def _scenario_with_batches(scenario: Any, batches: list[dict[str, Any]]) -> Any:
    data = scenario.model_dump(mode="json")
    data["levers"]["export_controls"]["batches"] = batches
    return io.validate(data, "test scenario")


def test_announced_after_it_binds_is_refused(small_scenario: Any) -> None:
    with pytest.raises(ScenarioError, match="announced"):
        _scenario_with_batches(
            small_scenario, [{"technologies": ["solar_pv"], "year": 2026, "fence_height": 0.5, "announced": 2027}]
        )
    with pytest.raises(ScenarioError, match="coverage"):
        _scenario_with_batches(
            small_scenario, [{"technologies": ["solar_pv"], "year": 2026, "fence_height": 0.5, "coverage": 1.5}]
        )
    with pytest.raises(ScenarioError, match="duration"):
        _scenario_with_batches(
            small_scenario, [{"technologies": ["solar_pv"], "year": 2026, "fence_height": 0.5, "duration": 0}]
        )


def test_defaults_leave_a_run_unchanged(small_scenario: Any) -> None:
    """Spelling out the new fields at their defaults gives exactly the run without them."""
    batches = small_scenario.model_dump(mode="json")["levers"]["export_controls"]["batches"]
    plain = [{k: b[k] for k in ("technologies", "year", "fence_height")} for b in batches]
    explicit = [{**b, "announced": b["year"], "coverage": 1.0, "duration": None} for b in plain]
    a = api.simulate(_scenario_with_batches(small_scenario, plain), seed=3)
    b = api.simulate(_scenario_with_batches(small_scenario, explicit), seed=3)
    cols = ["foreign_china_sales", "relative_capability", "fence_height", "knowhow_access"]
    np.testing.assert_array_equal(a.technology_year[cols].to_numpy(), b.technology_year[cols].to_numpy())


def test_window_surges_foreign_sales_in_a_run(scenario_with: Callable[..., Any]) -> None:
    """A batch announced two years early raises foreign sales in China in the window (paired seed)."""
    batch = {"technologies": ["electric_vehicles"], "year": 2028, "fence_height": 0.9}
    on = scenario_with({"levers": {"export_controls": {"batches": [{**batch, "announced": 2025}]}}})
    off = scenario_with({"levers": {"export_controls": {"batches": [batch]}}})
    a, b = api.simulate(on, seed=5).technology_year, api.simulate(off, seed=5).technology_year

    def sales(t: Any) -> float:
        rows = t[(t.technology_id == "electric_vehicles") & t.year.between(2025, 2027)]
        return float(rows.foreign_china_sales.sum())

    assert sales(a) > 1.02 * sales(b)
