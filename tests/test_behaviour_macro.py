"""Macro economy, TFP, debt and the industrial-base levers on a tiny hand-built state (model.md §6.10).

Helper state ``economy``: two technologies, the second the aggregate traditional sector
(no firms); two firms of the first with revenue 10 and 30, capability −1 and 0 against a
frontier of 0, value-added ratio 0.3; VA traditional 20, strategic 10, services 50,
other 20; central budget 10, local 5, SOE losses 7.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from nswn.core.state import Macro as MacroState
from nswn.instruments.keep_manufacturing import KeepManufacturingParams
from nswn.instruments.upgrade_traditional import UpgradeTraditionalParams
from nswn.mechanisms.macro import Macro, MacroParams, MacroPolicy, strategic_productivity
from tiny_states import ctx, tiny_state

PARAMS = MacroParams(
    traditional_growth=0.03,
    labour_cost_elasticity=1.0,
    upgrade_return=0.5,
    keep_cost=1.0,
    services_growth=0.04,
    other_growth=0.02,
    credit_growth=0.1,
    traditional_productivity_growth=0.01,
    # the fixed-growth rule in isolation, at constant prices: income-driven demand and nominal
    # debt are pinned in tests/test_history_macro.py
    income_elasticity=0.0,
    inflation=0.0,
)


def economy(frontier: float = 0.0, soe_losses: float = 7.0):  # type: ignore[no-untyped-def]
    macro = MacroState(gdp=100.0, va_traditional=20.0, va_strategic=10.0, va_services=50.0, va_other=20.0, debt=0.0)
    macro.central_budget, macro.local_budget, macro.soe_losses = 10.0, 5.0, soe_losses
    return tiny_state(
        n_tech=2,
        firm_values={"technology": [0, 0], "revenue": [10.0, 30.0], "capability": [-1.0, 0.0]},
        macro=macro,
        simulated=[True, False],
        frontier=frontier,
        value_added_ratio=0.3,
    )


def policy(keep: float = 0.5, upgrade: float = 0.01) -> MacroPolicy:
    return MacroPolicy(
        keep=KeepManufacturingParams(keep=keep),
        upgrade=UpgradeTraditionalParams(upgrade=upgrade),
        central_debt_share=0.2,
        local_debt_share=0.4,
        labour_cost_growth=0.02,
    )


def test_macro_step_by_hand() -> None:
    state = economy()
    Macro(PARAMS, policy()).step(state, ctx(state))
    m = state.macro
    # drag 0.02; keep subsidy 0.5 · 0.02 · 20 · 1 = 0.2; upgrade 0.01 · 20 = 0.2
    assert m.manufacturing_subsidy == pytest.approx(0.4)
    # growth 1 + 0.03 + 0.5 · 0.01 − 0.02 + 0.5 · 0.02 = 1.025
    assert m.va_traditional == pytest.approx(20.5)
    assert m.va_strategic == pytest.approx(0.3 * 40)
    assert m.va_services == pytest.approx(52.0)
    assert m.va_other == pytest.approx(20.4)
    assert m.gdp == pytest.approx(20.5 + 12.0 + 52.0 + 20.4)
    # debt: 0.2 · 10 + 0.4 · 5 + SOE losses 7 + subsidies 0.4 + 0.1 · GDP
    assert m.debt == pytest.approx(2.0 + 2.0 + 7.0 + 0.4 + 0.1 * 104.9)
    assert m.productivity_traditional == pytest.approx(1.0 + 0.01 + 0.5 * 0.01)
    # ledger: both subsidies credited and booked to the traditional sector (technology 1)
    assert state.ledger.credited == {"industrial_policy": pytest.approx(0.4)}
    assert state.ledger.payments[:, 3, 1].sum() == pytest.approx(0.4)
    assert state.ledger.imbalance() == pytest.approx(0.0)


def test_soe_losses_are_added_to_debt_one_for_one() -> None:
    with_losses, without = economy(soe_losses=7.0), economy(soe_losses=0.0)
    Macro(PARAMS, policy()).step(with_losses, ctx(with_losses))
    Macro(PARAMS, policy()).step(without, ctx(without))
    assert with_losses.macro.debt - without.macro.debt == pytest.approx(7.0)


def test_tfp_is_value_added_weighted_catch_up_to_the_frontier() -> None:
    """Strategic productivity = Σ VA_i exp(c_i − F) / Σ VA_i = (3 e^−1 + 9) / 12 at F = 0."""
    state = economy()
    assert strategic_productivity(state) == pytest.approx((3 * math.exp(-1) + 9) / 12)
    Macro(PARAMS, policy()).step(state, ctx(state))
    strategic = (3 * math.exp(-1) + 9) / 12  # relative to the start value 1
    expected = (12.0 * strategic + 20.5 * 1.015) / (12.0 + 20.5)
    assert state.macro.tfp_index == pytest.approx(expected)
    assert state.macro.tfp_growth == pytest.approx(expected - 1.0)


def test_tfp_falls_when_the_frontier_moves_away() -> None:
    near, far = economy(frontier=0.0), economy(frontier=0.5)
    assert strategic_productivity(far) == pytest.approx(math.exp(-0.5) * strategic_productivity(near))
    Macro(PARAMS, policy()).step(near, ctx(near))
    Macro(PARAMS, policy()).step(far, ctx(far))
    assert far.macro.tfp_index < near.macro.tfp_index
    strategic = math.exp(-0.5) * (3 * math.exp(-1) + 9) / 12
    assert far.macro.tfp_index == pytest.approx((12.0 * strategic + 20.5 * 1.015) / 32.5)


def test_keep_manufacturing_refuses_part_of_the_decline_and_pays_for_it() -> None:
    """Without keep the sector loses the whole drag 0.02; keep = 1 refuses all of it at 0.02 · 20 · c_keep."""
    results = {}
    for keep in (0.0, 1.0):
        state = economy()
        Macro(PARAMS, policy(keep=keep, upgrade=0.0)).step(state, ctx(state))
        results[keep] = state.macro
    assert results[0.0].va_traditional == pytest.approx(20.0 * (1 + 0.03 - 0.02))
    assert results[1.0].va_traditional == pytest.approx(20.0 * 1.03)
    assert results[0.0].manufacturing_subsidy == 0.0
    assert results[1.0].manufacturing_subsidy == pytest.approx(0.02 * 20.0)


def test_upgrading_raises_traditional_growth_and_productivity_by_u_times_the_subsidy() -> None:
    state = economy()
    Macro(PARAMS, policy(keep=0.0, upgrade=0.04)).step(state, ctx(state))
    assert state.macro.va_traditional == pytest.approx(20.0 * (1 + 0.03 + 0.5 * 0.04 - 0.02))
    assert state.macro.productivity_traditional == pytest.approx(1 + 0.01 + 0.5 * 0.04)
    assert state.macro.manufacturing_subsidy == pytest.approx(0.04 * 20.0)


# --- only the labour-intensive segments relocate (λ = their share of VA_trad) ----------------


def segmented(labour_intensive: float = 5.0):  # type: ignore[no-untyped-def]
    """The helper economy with 5 of the 20 of traditional value added labour-intensive (λ = 0.25)."""
    state = economy()
    state.macro.va_labour_intensive = labour_intensive
    return state


def test_only_the_labour_intensive_segments_bear_the_labour_cost_drag() -> None:
    """Aggregate drag ε_w g_w λ = 0.02 · 0.25: the segments lose 0.02, the rest nothing."""
    state = segmented()
    Macro(PARAMS, policy(keep=0.0, upgrade=0.0)).step(state, ctx(state))
    m = state.macro
    assert m.va_traditional == pytest.approx(20.0 * (1 + 0.03 - 0.02 * 0.25))
    assert m.va_labour_intensive == pytest.approx(5.0 * (1 + 0.03 - 0.02))
    # the capital-intensive rest grows at 1 + g_trad, undragged; the parts add up
    assert m.va_traditional - m.va_labour_intensive == pytest.approx(15.0 * 1.03)
    assert m.manufacturing_subsidy == 0.0


def test_keep_refuses_the_segments_decline_and_its_cost_scales_with_their_value_added() -> None:
    """keep · c_keep · ε_w g_w · VA_LI: 0.5 · 1 · 0.02 · 5 = 0.05 (not 0.5 · 0.02 · 20 = 0.2)."""
    results = {}
    for keep in (0.0, 0.5, 1.0):
        state = segmented()
        Macro(PARAMS, policy(keep=keep, upgrade=0.0)).step(state, ctx(state))
        results[keep] = state.macro
    assert results[0.5].manufacturing_subsidy == pytest.approx(0.5 * 0.02 * 5.0)
    assert results[1.0].manufacturing_subsidy == pytest.approx(0.02 * 5.0)
    assert results[0.5].va_labour_intensive == pytest.approx(5.0 * (1 + 0.03 - 0.5 * 0.02))
    assert results[1.0].va_traditional == pytest.approx(20.0 * 1.03)
    assert results[0.0].va_traditional < results[0.5].va_traditional < results[1.0].va_traditional
    # the cost doubles with c_keep and vanishes with no labour-intensive segments
    dear = segmented()
    Macro(replace(PARAMS, keep_cost=2.0), policy(keep=0.5, upgrade=0.0)).step(dear, ctx(dear))
    assert dear.macro.manufacturing_subsidy == pytest.approx(2.0 * 0.05)
    none = segmented(labour_intensive=0.0)
    Macro(PARAMS, policy(keep=1.0, upgrade=0.0)).step(none, ctx(none))
    assert none.macro.manufacturing_subsidy == 0.0
    assert none.macro.va_traditional == pytest.approx(20.0 * 1.03)


def test_falling_labour_costs_grow_the_segments_and_keep_costs_nothing() -> None:
    state = segmented()
    falling = replace(policy(keep=0.8, upgrade=0.0), labour_cost_growth=-0.02)
    Macro(PARAMS, falling).step(state, ctx(state))
    assert state.macro.va_labour_intensive == pytest.approx(5.0 * (1 + 0.03 + 0.02))
    assert state.macro.va_traditional == pytest.approx(20.0 * (1 + 0.03 + 0.02 * 0.25))
    assert state.macro.manufacturing_subsidy == 0.0


def test_the_labour_intensive_share_shrinks_as_the_segments_relocate() -> None:
    state = segmented()
    shares = []
    for _ in range(5):
        Macro(PARAMS, policy(keep=0.3, upgrade=0.01)).step(state, ctx(state))
        shares.append(state.macro.va_labour_intensive / state.macro.va_traditional)
    assert 0.25 > shares[0] > shares[1] > shares[2] > shares[3] > shares[4] > 0.0
