"""Every shipped scenario validates, says what it is for, runs, and keeps the ledger balanced."""

from __future__ import annotations

import numpy as np
import pytest

from nswn import api
from nswn.scenario.io import load, shipped_scenarios

REQUIRED = {
    "baseline",
    "shortlist5",
    "broad50",
    "no_priorities",
    "market_led",
    "state_led",
    "export_discipline",
    "local_discretion",
    "two_layers_fix",
    "keep_manufacturing",
    "let_it_decline",
    "no_controls",
    "small_yard_high_fence",
    "broad_controls",
}


def test_the_library_has_every_scenario_of_the_specification() -> None:
    assert REQUIRED <= set(shipped_scenarios())


@pytest.mark.parametrize("name", sorted(shipped_scenarios()))
def test_shipped_scenario_runs_with_a_balanced_ledger(name: str) -> None:
    scenario = load(name)
    assert scenario.name == name
    assert len(scenario.description.split()) >= 8, "each scenario says what it represents"
    assert scenario.claim, "each scenario says which claim it serves"
    result = api.simulate(api.with_overrides(scenario, firms=1000, end_year=2032), seed=0)
    macro = result.macro_year
    budgets = macro.central_budget + macro.local_budget + macro.manufacturing_subsidy
    # every yuan of every year is booked to one instrument, technology and recipient type
    assert np.all(np.abs(macro.ledger_imbalance) <= 1e-9 * np.maximum(budgets, 1.0))
    booked = result.technology_year.groupby("year")["funding_total"].sum()
    first = scenario.years.start + 1
    np.testing.assert_allclose(
        booked.loc[first:].to_numpy(), (macro.central_budget + macro.local_budget).iloc[1:].to_numpy(), rtol=1e-9
    )
    numbers = result.technology_year.select_dtypes("number").drop(columns=["first_parity_year", "broken_year"])
    finite = np.isfinite(numbers)
    # capability columns are undefined only for a technology without firms that year
    empty = result.technology_year["firms"] == 0
    assert finite[~empty].all().all()
    assert finite.drop(columns=["best_capability", "median_capability", "gap", "relative_capability"]).all().all()


def test_child_scenarios_differ_from_the_baseline_only_where_they_say() -> None:
    base = load("baseline").model_dump()
    child = load("no_controls").model_dump()
    assert child["levers"]["export_controls"]["batches"] == ()
    child["levers"]["export_controls"] = base["levers"]["export_controls"]
    for key in ("name", "description", "claim"):
        child.pop(key), base.pop(key)
    assert child == base
