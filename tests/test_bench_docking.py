"""The Mesa docking harness (benchmarks/docking.py, benchmarks/scaled.py) simulates one economy in both.

The Mesa reference has no agent weights: one agent is one firm. Above the catalog's real
population (29 234 firms) ``scaled.scenario(..., one_per_firm=True)`` used to leave the agent
budget at the real population, so nswn grouped the synthetic firms into super-individuals
(40 000 firms: 29 317 agents standing for 40 001 firms) while the Mesa reference counted each
agent as one firm — two different economies (docs/performance.md, "Docking against an
independent Mesa implementation").
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from nswn import api
from nswn.scenario.build import build_model, catalog_technologies, real_population, to_config

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
OWN = ("scaled", "docking", "mesa_reference")  # top-level names of benchmarks/ these tests import


@pytest.fixture
def scaled(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """benchmarks/scaled.py, importable for the test only: ``sys.path`` is restored afterwards
    and benchmarks/' top-level modules are forgotten, so they shadow nothing in other tests."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    yield importlib.import_module("scaled")
    for name in [m for m in sys.modules if m.split(".")[0] in OWN]:
        del sys.modules[name]


@pytest.mark.parametrize("agents", [2_000, 31_000])
def test_one_per_firm_gives_one_agent_of_weight_one_per_synthetic_firm(agents: int, scaled: ModuleType) -> None:
    scenario = scaled.scenario(agents, one_per_firm=True)
    config = to_config(scenario)
    tech = catalog_technologies(config.start_year, config.catalog)
    synthetic = int(np.round(tech.firms_real[tech.simulated]).sum())
    assert abs(synthetic - agents) < 0.01 * agents  # the scaled economy has about ``agents`` firms
    state = build_model(config, 0).state
    assert len(state.firms) == synthetic  # one agent per synthetic firm ...
    np.testing.assert_array_equal(state.firms.weight, 1.0)  # ... none a super-individual
    np.testing.assert_array_equal(state.technologies.entrant_weight, 1.0)
    if agents > real_population():
        assert len(state.firms) > real_population()  # not capped at the real population


def test_docking_refuses_a_start_state_with_super_individuals(scaled: ModuleType) -> None:
    pytest.importorskip("mesa")
    docking = importlib.import_module("docking")

    coarse = to_config(api.with_overrides(api.load_scenario("baseline"), firms=2_000))  # the real economy, coarse
    with pytest.raises(ValueError, match="one agent per firm"):
        docking.start_state(coarse, 0)
    fine = to_config(scaled.scenario(2_000, one_per_firm=True))
    state = docking.start_state(fine, 0)
    assert len(state.firms) == state.firms.weight.sum()
    np.testing.assert_array_equal(state.firms.subsidy, 0.0)


@pytest.mark.parametrize("psi", [1.0, 0.4])
def test_lockstep_on_shared_draws_is_identical(scaled: ModuleType, psi: float) -> None:
    """On nswn's random numbers the Mesa reference reproduces nswn year by year (docs/performance.md,
    "Docking is green again"): every rule nswn gains must be in the reference too — here the
    international learning spillover ξ (docs/model.md §12.4), at its default and off the corners."""
    pytest.importorskip("mesa")
    docking = importlib.import_module("docking")

    scenario = api.with_overrides(scaled.scenario(2_000, one_per_firm=True), start_year=2024, end_year=2026)
    docked = docking.without_trade_defence(scenario)
    assert not docked.levers.trade_defence.measures and scenario.levers.trade_defence.measures
    config = to_config(docking.with_assumptions(docked, [f"markets.international_spillover={psi}"]))
    worst = docking.lockstep(config, 0)
    assert max(worst.values()) < 1e-9, {k: v for k, v in worst.items() if v >= 1e-9}
