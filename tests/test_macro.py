"""Macro economy (model.md §6.10): GDP identity, manufacturing share, debt, TFP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nswn.core.model import Model
from nswn.scenario.io import deep_merge as io_merge

KEEP, UPGRADE = 0.5, 0.01
MANUFACTURING_POLICY = {"levers": {"keep_manufacturing": {"keep": KEEP}, "upgrade_traditional": {"upgrade": UPGRADE}}}
NO_MANUFACTURING_POLICY = {"levers": {"keep_manufacturing": {"keep": 0.0}, "upgrade_traditional": {"upgrade": 0.0}}}


def mechanism(model: Model, name: str) -> Any:
    return model.mechanisms[[m.name for m in model.mechanisms].index(name)]


def test_macro_step_by_hand(build: Callable[..., Model], run_until: Callable[..., Any]) -> None:
    model = build(MANUFACTURING_POLICY)
    macro, ctx = run_until(model, "macro")
    state = model.state
    m, p = state.macro, macro.params
    before = {
        name: getattr(m, name) for name in ("va_traditional", "va_services", "va_other", "debt", "tfp_index", "gdp")
    }
    price_level = m.price_level
    labour_intensive = m.va_labour_intensive
    markets_before = m.strategic_demand_va  # Σ v D of last year (set at initialisation)
    assert markets_before > 0
    share = labour_intensive / before["va_traditional"]  # λ, the labour-intensive share of VA_trad
    assert 0 < share < 0.5
    central, local, soe_losses = m.central_budget, m.local_budget, m.soe_losses
    assert central > 0 and local > 0
    macro.step(state, ctx)

    g_w = mechanism(model, "markets").params.labour_cost_growth
    assert g_w > 0
    # only the labour-intensive segments relocate: the aggregate's drag is ε_w g_w λ
    drag = p.labour_cost_elasticity * g_w * share
    support = KEEP * drag * before["va_traditional"] * p.keep_cost + UPGRADE * before["va_traditional"]
    assert KEEP * drag * before["va_traditional"] == pytest.approx(
        KEEP * p.labour_cost_elasticity * g_w * labour_intensive
    )
    assert m.manufacturing_subsidy == pytest.approx(support)
    growth = 1 + p.traditional_growth + p.upgrade_return * UPGRADE - drag * (1 - KEEP)
    # the demand for manufactures (traditional + χ Σ v D of the modelled markets) grows with real
    # income (η · GDP growth, solved jointly); the markets' growth displaces traditional goods
    income = p.income_elasticity * (m.gdp / before["gdp"] - 1)
    chi = p.strategic_substitution
    tech = state.technologies
    markets_now = float(
        sum(v * d for v, d, s in zip(tech.value_added_ratio, tech.demand, tech.simulated, strict=True) if s)
    )
    assert m.strategic_demand_va == pytest.approx(markets_now)
    assert m.va_traditional == pytest.approx(
        before["va_traditional"] * growth
        + income * (before["va_traditional"] + chi * markets_before)
        - chi * (markets_now - markets_before)
    )
    segment = 1 + p.traditional_growth + p.upgrade_return * UPGRADE - p.labour_cost_elasticity * g_w * (1 - KEEP)
    assert m.va_labour_intensive == pytest.approx(labour_intensive * (segment + income))
    firms = state.firms
    strategic = sum(tech.value_added_ratio[t] * r for t, r in zip(firms.technology, firms.revenue, strict=True))
    assert m.va_strategic == pytest.approx(strategic)
    assert m.va_services == pytest.approx(before["va_services"] * (1 + p.services_growth))
    assert m.va_other == pytest.approx(before["va_other"] * (1 + p.other_growth))
    assert m.gdp == pytest.approx(m.va_traditional + m.va_strategic + m.va_services + m.va_other)
    scenario_levers = model_levers(model)
    # debt is nominal: real flows and credit at this year's price level
    assert m.price_level == pytest.approx(price_level * (1 + p.inflation))
    debt_increment = m.price_level * (
        scenario_levers["central"] * central
        + scenario_levers["local"] * local
        + soe_losses
        + support
        + p.credit_growth * m.gdp
    )
    assert m.debt == pytest.approx(before["debt"] + debt_increment)
    assert m.tfp_growth == pytest.approx(m.tfp_index / before["tfp_index"] - 1)
    assert ctx.ledger.by_recipient()["traditional_sector"] == pytest.approx(support)
    assert ctx.ledger.imbalance() == pytest.approx(0.0, abs=1e-9 * (central + local + support))


def model_levers(model: Model) -> dict[str, float]:
    central = mechanism(model, "central_budget").params.debt_financed_share
    local = mechanism(model, "local_allocation").policy.debt_financed_share
    return {"central": central, "local": local}


def test_without_policy_traditional_industry_declines_with_labour_costs(
    build: Callable[..., Model], run_until: Callable[..., Any]
) -> None:
    fixed = {
        "assumptions": {"macro": {"traditional_growth": 0.0, "income_elasticity": 0.0, "strategic_substitution": 0.0}}
    }
    model = build(io_merge(NO_MANUFACTURING_POLICY, fixed))
    macro, ctx = run_until(model, "macro")
    va, labour_intensive = model.state.macro.va_traditional, model.state.macro.va_labour_intensive
    macro.step(model.state, ctx)
    g_w = mechanism(model, "markets").params.labour_cost_growth
    assert model.state.macro.manufacturing_subsidy == 0.0
    # the labour-intensive segments decline at ε_w g_w; the rest of the aggregate holds
    decline = macro.params.labour_cost_elasticity * g_w
    assert model.state.macro.va_labour_intensive == pytest.approx(labour_intensive * (1 - decline))
    assert model.state.macro.va_traditional == pytest.approx(va - labour_intensive * decline)


def test_keeping_manufacturing_raises_the_share_and_the_debt(build: Callable[..., Model]) -> None:
    results = {}
    for keep in (0.0, 1.0):
        model = build(io_merge(NO_MANUFACTURING_POLICY, {"levers": {"keep_manufacturing": {"keep": keep}}}))
        model.run()
        macro = model.recorder.macro_table()
        # the debt level, not the ratio: a higher GDP also dilutes debt/GDP (what claim C6 weighs)
        results[keep] = (macro["manufacturing_share"][-1], macro["debt_to_gdp"][-1] * macro["gdp"][-1])
    assert results[1.0][0] > results[0.0][0]
    assert results[1.0][1] > results[0.0][1]
    assert np.isfinite(list(results[1.0])).all()
