"""Local allocation and centralisation (model.md §6.4)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nswn.core.model import Model

ONLY_BASIC_RESEARCH = {"basic_research": {"share": 1.0}}


def local_step(
    model: Model, run_until: Callable[..., Any], opened: tuple[Any, Any] | None = None
) -> tuple[Any, float, np.random.Generator]:
    """Step local allocation; return its context, the local budget and a copy of its stream."""
    local, ctx = opened if opened is not None else run_until(model, "local_allocation")
    rng = copy.deepcopy(ctx.rng)
    budget = model.state.macro.gdp * local.policy.budget_share_of_gdp
    local.step(model.state, ctx)
    return ctx, budget, rng


def test_local_budget_is_booked_and_the_ledger_balances(basic_model: Model, run_until: Callable[..., Any]) -> None:
    model = basic_model
    local, ctx = run_until(model, "local_allocation")
    chi = local.policy.centralisation
    ctx, budget, _ = local_step(model, run_until, opened=(local, ctx))
    state = model.state
    assert np.unique(state.firms.province).size == len(state.provinces)  # every province has firms here
    assert budget > 0 and 0 < chi < 1
    assert ctx.ledger.credited["local"] == pytest.approx(budget)
    assert state.macro.local_budget == pytest.approx(budget)
    lines = ctx.ledger.by_instrument()
    assert lines["export_discipline"] == pytest.approx(chi * budget)
    assert lines["local_discretion"] == pytest.approx((1 - chi) * budget)
    assert ctx.ledger.imbalance() == pytest.approx(0.0, abs=1e-9 * budget)
    firms = state.firms
    assert firms.subsidy.sum() == pytest.approx(budget)  # basic research pays no firm
    recipients = ctx.ledger.by_recipient()
    assert recipients["soe_firm"] == pytest.approx(firms.subsidy[firms.soe].sum())
    assert recipients["private_firm"] == pytest.approx(firms.subsidy[~firms.soe].sum())
    assert -1.0 <= state.macro.allocation_quality <= 1.0


def test_full_centralisation_pays_in_proportion_to_the_export_score(
    build: Callable[..., Model], run_until: Callable[..., Any]
) -> None:
    model = build(
        {
            "levers": {"local_allocation": {"centralisation": 1.0}},
            "assumptions": {"local_behaviour": {"referee_noise": 0.0, "score_domestic_weight": 2.0}},
        },
        instruments=ONLY_BASIC_RESEARCH,
    )
    ctx, budget, _ = local_step(model, run_until)
    firms, tech = model.state.firms, model.state.technologies
    score = np.array(
        [firms.exports[i] + 2.0 * firms.share[i] * tech.demand[firms.technology[i]] for i in range(len(firms))]
    )
    np.testing.assert_allclose(firms.subsidy, budget * score / score.sum(), rtol=1e-10)
    assert ctx.ledger.by_instrument()["local_discretion"] == 0.0
    assert ctx.ledger.by_instrument()["export_discipline"] == pytest.approx(budget)


def test_full_centralisation_with_referee_noise(build: Callable[..., Model], run_until: Callable[..., Any]) -> None:
    model = build({"levers": {"local_allocation": {"centralisation": 1.0}}}, instruments=ONLY_BASIC_RESEARCH)
    local, ctx = run_until(model, "local_allocation")
    b = local.behaviour
    _, budget, rng = local_step(model, run_until, opened=(local, ctx))
    firms, tech = model.state.firms, model.state.technologies
    referee = rng.standard_normal(len(firms))  # the first draw of the mechanism's stream
    score = firms.exports + b.score_domestic_weight * firms.share * tech.demand[firms.technology]
    measured = score * np.exp(b.referee_noise * referee)
    np.testing.assert_allclose(firms.subsidy, budget * measured / measured.sum(), rtol=1e-10)


def test_no_centralisation_gives_each_province_exactly_its_budget(
    build: Callable[..., Model], run_until: Callable[..., Any]
) -> None:
    model = build({"levers": {"local_allocation": {"centralisation": 0.0}}}, instruments=ONLY_BASIC_RESEARCH)
    local, ctx = run_until(model, "local_allocation")
    b = local.behaviour
    ctx, budget, rng = local_step(model, run_until, opened=(local, ctx))
    state = model.state
    firms, provinces = state.firms, state.provinces
    for p in range(len(provinces)):
        mine = firms.province == p
        assert firms.subsidy[mine].sum() == pytest.approx(budget * provinces.gdp_share[p], rel=1e-10)
    assert ctx.ledger.by_instrument()["export_discipline"] == 0.0
    # within a province: softmax of β_loc (ln revenue + b_SOE·SOE + σ_loc ε), ε the stream's second draw
    rng.standard_normal(len(firms))
    noise = rng.standard_normal(len(firms))
    signal = b.local_sharpness * (np.log(firms.revenue) + b.soe_bias * firms.soe + b.local_noise * noise)
    biggest = int(np.argmax(provinces.gdp_share))
    members = np.flatnonzero(firms.province == biggest)
    expected = np.exp(signal[members] - signal[members].max())
    expected = budget * provinces.gdp_share[biggest] * expected / expected.sum()
    np.testing.assert_allclose(firms.subsidy[members], expected, rtol=1e-10)


def test_a_province_without_firms_pays_nothing_and_the_books_still_balance(
    basic_model: Model, run_until: Callable[..., Any]
) -> None:
    model = basic_model
    state = model.state
    state.firms.province[state.firms.province == 0] = 1  # province 0 loses its firms
    local, ctx = run_until(model, "local_allocation")
    chi = local.policy.centralisation
    ctx, budget, _ = local_step(model, run_until, opened=(local, ctx))
    expected = budget * (chi + (1 - chi) * (1 - state.provinces.gdp_share[0]))
    assert state.macro.local_budget == pytest.approx(expected)
    assert ctx.ledger.imbalance() == pytest.approx(0.0, abs=1e-9 * budget)
