"""Central budget (model.md §6.3), the basic-research instrument and the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nswn.core.ledger import RECIPIENT_TYPES, Ledger
from nswn.core.model import Model
from nswn.instruments.basic_research import BasicResearch, BasicResearchParams
from nswn.mechanisms.central_budget import CentralBudget, CentralBudgetParams

ONLY_BASIC_RESEARCH = {"basic_research": {"share": 1.0}}


def test_every_yuan_of_the_central_budget_is_booked(basic_model: Model, run_until: Callable[..., Any]) -> None:
    model = basic_model
    central, ctx = run_until(model, "central_budget")
    state = model.state
    gdp = state.macro.gdp
    central.step(state, ctx)
    budget = central.params.share_of_gdp * gdp
    assert budget > 0
    assert state.macro.central_budget == pytest.approx(budget)
    assert ctx.ledger.credited == {"central": pytest.approx(budget)}
    assert ctx.ledger.by_instrument()["basic_research"] == pytest.approx(budget)
    assert ctx.ledger.imbalance() == pytest.approx(0.0, abs=1e-9 * budget)
    assert ctx.ledger.by_recipient()["institution"] == pytest.approx(budget)
    assert state.institutions.funding.sum() == pytest.approx(budget)
    assert (state.firms.subsidy == 0).all()


def test_split_across_technologies_is_proportional_to_weight_times_demand_power(
    build: Callable[..., Model], run_until: Callable[..., Any]
) -> None:
    model = build({"levers": {"central_budget": {"allocation_exponent": 0.7}}}, instruments=ONLY_BASIC_RESEARCH)
    central, ctx = run_until(model, "central_budget")
    state = model.state
    central.step(state, ctx)
    tech = state.technologies
    budget = state.macro.central_budget
    raw = [tech.priority[j] * tech.demand0[j] ** 0.7 if tech.simulated[j] else 0.0 for j in range(len(tech))]
    expected = budget * np.array(raw) / sum(raw)
    np.testing.assert_allclose(ctx.ledger.by_technology(), expected, rtol=1e-10, atol=1e-12)
    by_field = np.bincount(state.institutions.field, weights=state.institutions.funding, minlength=len(tech))
    np.testing.assert_allclose(by_field, expected, rtol=1e-10, atol=1e-12)


def test_zero_exponent_gives_equal_money_per_priority_area(
    build: Callable[..., Model], run_until: Callable[..., Any]
) -> None:
    changes = {"levers": {"central_budget": {"allocation_exponent": 0.0}, "priorities": {"control_reaction": 0.0}}}
    model = build(changes, instruments=ONLY_BASIC_RESEARCH)
    central, ctx = run_until(model, "central_budget")
    central.step(model.state, ctx)
    funded = ctx.ledger.by_technology()
    priority = model.state.technologies.priority > 0
    np.testing.assert_allclose(funded[priority], model.state.macro.central_budget / priority.sum())
    assert (funded[~priority] == 0).all()


def test_basic_research_grants_are_proportional_to_quality_within_each_field(
    basic_model: Model, run_until: Callable[..., Any]
) -> None:
    model = basic_model
    central, ctx = run_until(model, "central_budget")
    central.step(model.state, ctx)
    inst = model.state.institutions
    funded = np.unique(inst.field[inst.funding > 0])
    assert len(funded) == np.count_nonzero(model.state.technologies.priority)  # unfunded fields: zero priority
    for field in funded:
        members = np.flatnonzero(inst.field == field)
        quality_share = inst.quality[members] / inst.quality[members].sum()
        funding_share = inst.funding[members] / inst.funding[members].sum()
        np.testing.assert_allclose(funding_share, quality_share, rtol=1e-12)


def test_an_instrument_spends_only_its_share(model: Model, run_until: Callable[..., Any]) -> None:
    _, ctx = run_until(model, "central_budget")
    state = model.state
    CentralBudget(
        CentralBudgetParams(share_of_gdp=0.01), [(BasicResearch(BasicResearchParams(share=0.4)), 0.4)], 0
    ).step(state, ctx)
    assert state.macro.central_budget == pytest.approx(0.01 * state.macro.gdp)
    assert ctx.ledger.credited["central"] == pytest.approx(0.4 * 0.01 * state.macro.gdp)
    assert ctx.ledger.total() == pytest.approx(0.4 * 0.01 * state.macro.gdp)
    assert ctx.ledger.imbalance() == pytest.approx(0.0, abs=1e-9)


def test_ledger_books_by_instrument_recipient_and_technology() -> None:
    ledger = Ledger(("a", "b"), n_technologies=3)
    ledger.credit("central", 10.0)
    ledger.credit("local", 2.0)
    ledger.book("a", "institution", np.array([0, 2, 2]), np.array([1.0, 2.0, 3.0]))
    ledger.book("b", "soe_firm", np.array([1]), np.array([4.0]))
    assert ledger.total() == 10.0
    assert ledger.imbalance() == pytest.approx(2.0)
    assert ledger.by_instrument() == {"a": 6.0, "b": 4.0}
    np.testing.assert_array_equal(ledger.by_technology(), [1.0, 4.0, 5.0])
    assert ledger.by_recipient() == {
        name: {"institution": 6.0, "soe_firm": 4.0}.get(name, 0.0) for name in RECIPIENT_TYPES
    }
    ledger.reset()
    assert ledger.total() == 0.0 and ledger.imbalance() == 0.0
    with pytest.raises(KeyError):
        ledger.book("unknown", "institution", np.array([0]), np.array([1.0]))


def test_the_baseline_instrument_mix_books_every_yuan_to_its_own_line(
    model: Model, run_until: Callable[..., Any]
) -> None:
    central, ctx = run_until(model, "central_budget")
    assert len(central.instruments) > 1  # the baseline spends through several instruments
    central.step(model.state, ctx)
    budget = model.state.macro.central_budget
    lines = ctx.ledger.by_instrument()
    for instrument, share in central.instruments:
        assert lines[instrument.name] == pytest.approx(share * budget, rel=1e-9), instrument.name
    assert sum(share for _, share in central.instruments) == pytest.approx(1.0)
    assert ctx.ledger.credited == {"central": pytest.approx(budget)}
    assert ctx.ledger.imbalance() == pytest.approx(0.0, abs=1e-9 * budget)
    split = ctx.ledger.by_technology() / budget
    tech = model.state.technologies
    expected = tech.priority * tech.demand0**central.params.allocation_exponent * tech.simulated
    np.testing.assert_allclose(split, expected / expected.sum(), rtol=1e-9, atol=1e-15)
