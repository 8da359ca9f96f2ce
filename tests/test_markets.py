"""Markets (model.md §6.7): share dynamics, foreign access, exports, settlement."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nswn import kernels
from nswn.core import segments
from nswn.core.model import Model
from nswn.core.state import State

DYNAMICS = ["logit", "replicator"]


def with_dynamics(rule: str) -> dict[str, Any]:
    return {"assumptions": {"markets": {"share_dynamics": rule}}}


def share_totals(state: State) -> np.ndarray:
    """Chinese firms' shares plus the foreign share, per simulated technology."""
    tech = state.technologies
    total = segments.group_sum(state.firms.share, state.firms.technology, len(tech)) + tech.foreign_share
    return total[tech.simulated]


def assert_shares_valid(state: State) -> None:
    assert (state.firms.share >= 0).all()
    assert (state.technologies.foreign_share >= 0).all()
    np.testing.assert_allclose(share_totals(state), 1.0, rtol=0, atol=1e-9)


@pytest.mark.parametrize("rule", DYNAMICS)
def test_shares_stay_non_negative_and_sum_to_one(
    build: Callable[..., Model], run_until: Callable[..., Any], finish_year: Callable[..., None], rule: str
) -> None:
    model = build(with_dynamics(rule))
    assert_shares_valid(model.state)  # start year
    for _ in range(3):
        markets, ctx = run_until(model, "markets")
        before = model.state.firms.share.copy()
        markets.step(model.state, ctx)
        assert not np.array_equal(before, model.state.firms.share)  # shares did move
        assert_shares_valid(model.state)
        finish_year(model, "markets")
        assert_shares_valid(model.state)  # after entry and exit too


@pytest.mark.parametrize("rule", DYNAMICS)
def test_foreign_share_falls_when_market_access_falls(
    build: Callable[..., Model], run_until: Callable[..., Any], rule: str
) -> None:
    model = build(with_dynamics(rule))
    markets, ctx = run_until(model, "markets")
    open_market, closed_market = copy.deepcopy(model.state), copy.deepcopy(model.state)
    open_market.technologies.market_access[:] = 1.0
    closed_market.technologies.market_access[:] = 0.3
    markets.step(open_market, ctx)
    markets.step(closed_market, ctx)
    sim = model.state.technologies.simulated
    high, low = open_market.technologies.foreign_share[sim], closed_market.technologies.foreign_share[sim]
    assert (low <= high + 1e-15).all()
    visible = high > 1e-6
    assert visible.sum() > 40
    assert (low[visible] < high[visible]).all()
    # the home market goes to Chinese firms instead
    china_open = share_totals(open_market) - high
    china_closed = share_totals(closed_market) - low
    assert (china_closed[visible] > china_open[visible]).all()


def competitiveness_by_hand(state: State, params: Any, i: int) -> float:
    """ln E_i = σ_c c_i − σ_p (w(y) − ℓ ln(1 + Q^eff_i/Q0_t)), Q^eff = φ (Q^CN_t + ξ Q^f_t) + (1 − φ) n_t Q_i / w_i
    (``n_t`` real firms; ``Q_i / w_i`` one member's output; ξ the international spillover)."""
    firms, tech = state.firms, state.technologies
    t = firms.technology[i]
    n_t = float(firms.weight[firms.technology == t].sum())
    phi, psi = params.learning_spillover, params.international_spillover
    pool = tech.china_output[t] + psi * tech.foreign_output[t]
    experience = phi * pool + (1 - phi) * n_t * firms.output[i] / firms.weight[i]
    wage = params.labour_cost0 + params.labour_cost_growth * (state.year - state.start_year)
    cost = wage - params.learning_rate * math.log1p(experience / tech.output_scale[t])
    return params.capability_weight * firms.capability[i] - params.cost_weight * cost


def foreign_presence_by_hand(state: State, params: Any, t: int) -> float:
    """ln E^f_t + appeal + ln A^dom_t, with p^f_t = w_f − ℓ ln(1 + (Q^f_t + φ ξ Q^CN_t)/Q0_t)."""
    tech = state.technologies
    learned = tech.foreign_output[t] + params.learning_spillover * params.international_spillover * tech.china_output[t]
    cost = params.foreign_labour_cost - params.learning_rate * math.log1p(learned / tech.output_scale[t])
    log_e = params.capability_weight * tech.frontier[t] - params.cost_weight * cost
    return log_e + tech.foreign_log_appeal[t] + math.log(tech.market_access[t])


@pytest.mark.parametrize("psi", [1.0, 0.0, 0.4])
@pytest.mark.parametrize("rule", DYNAMICS)
def test_share_update_by_hand_for_one_technology(
    build: Callable[..., Model], run_until: Callable[..., Any], rule: str, psi: float
) -> None:
    model = build({"assumptions": {"markets": {"share_dynamics": rule, "international_spillover": psi}}})
    markets, ctx = run_until(model, "markets")
    state = model.state
    params = markets.params
    j = state.technologies.index("high_end_chips")
    members = np.flatnonzero(state.firms.technology == j)
    e_firms = np.exp([competitiveness_by_hand(state, params, i) for i in members])
    weights = state.firms.weight[members]
    assert (weights > 1).any()  # the small model groups chip firms into super-individuals
    e_foreign = math.exp(foreign_presence_by_hand(state, params, j))
    s_old, f_old = state.firms.share[members].copy(), state.technologies.foreign_share[j]
    speed = params.replicator_speed
    if rule == "logit":
        # a super-individual holds its w members' logit shares
        total = (weights * e_firms).sum() + e_foreign
        s_new = (1 - speed) * s_old + speed * weights * e_firms / total
        f_new = (1 - speed) * f_old + speed * e_foreign / total
    else:
        mean = (s_old * e_firms).sum() + f_old * e_foreign
        s_new = np.maximum(0, s_old * (1 + speed * (e_firms - mean) / mean))
        f_new = max(0.0, f_old * (1 + speed * (e_foreign - mean) / mean))
        total = s_new.sum() + f_new
        s_new, f_new = s_new / total, f_new / total
    markets.step(state, ctx)
    np.testing.assert_allclose(state.firms.share[members], s_new, rtol=1e-9, atol=1e-15)
    assert state.technologies.foreign_share[j] == pytest.approx(f_new, rel=1e-9)


def test_international_spillover_lets_each_side_learn_from_the_other(
    build: Callable[..., Model], run_until: Callable[..., Any]
) -> None:
    """ξ (Irwin and Klenow 1994): more foreign cumulative output lowers Chinese firms' unit cost by
    exactly ℓ ln((1 + (φ(Q^CN + ξ Q^f') + ...)/Q0) / (1 + ...)); more Chinese output lowers the foreign
    aggregate's through φ ξ Q^CN; with ξ = 0 neither side's cost moves with the other's output."""
    from nswn.mechanisms import markets as mk

    for psi in (1.0, 0.0):
        model = build({"assumptions": {"markets": {"international_spillover": psi}}})
        _, _ = run_until(model, "markets")
        state, params = model.state, mk.MarketParams(international_spillover=psi)
        base_cost, base_foreign = mk.log_cost(state, params), mk.foreign_log_cost(state, params)
        more_foreign = copy.deepcopy(state)
        more_foreign.technologies.foreign_output *= 3.0
        more_china = copy.deepcopy(state)
        more_china.technologies.china_output *= 3.0
        cost_after = mk.log_cost(more_foreign, params)
        foreign_after = mk.foreign_log_cost(more_china, params)
        sim = state.technologies.simulated
        firms_sim = sim[state.firms.technology]
        if psi == 0.0:
            np.testing.assert_array_equal(cost_after, base_cost)
            np.testing.assert_array_equal(foreign_after, base_foreign)
            continue
        assert (cost_after[firms_sim] < base_cost[firms_sim]).all()  # Chinese firms learn from foreign output
        assert (foreign_after[sim] < base_foreign[sim]).all()  # and the foreign aggregate from Chinese output
        # the size: ℓ times the log change of experience, by hand for one firm and one technology
        i = int(np.flatnonzero(firms_sim)[0])
        t = int(state.firms.technology[i])
        tech, phi = state.technologies, params.learning_spillover
        n_t = float(state.firms.weight[state.firms.technology == t].sum())
        own = (1 - phi) * n_t * state.firms.output[i] / state.firms.weight[i]
        before = phi * (tech.china_output[t] + tech.foreign_output[t]) + own
        after = phi * (tech.china_output[t] + 3.0 * tech.foreign_output[t]) + own
        scale = tech.output_scale[t]
        expected = -params.learning_rate * (math.log1p(after / scale) - math.log1p(before / scale))
        assert cost_after[i] - base_cost[i] == pytest.approx(expected, rel=1e-9)
        f_before = tech.foreign_output[t] + phi * tech.china_output[t]
        f_after = tech.foreign_output[t] + phi * 3.0 * tech.china_output[t]
        f_expected = -params.learning_rate * (math.log1p(f_after / scale) - math.log1p(f_before / scale))
        assert foreign_after[t] - base_foreign[t] == pytest.approx(f_expected, rel=1e-9)


def test_exports_add_up_to_world_demand(model: Model, run_until: Callable[..., Any]) -> None:
    markets, ctx = run_until(model, "markets")
    markets.step(model.state, ctx)
    firms, tech = model.state.firms, model.state.technologies
    sim = tech.simulated
    by_tech = segments.group_sum(firms.exports, firms.technology, len(tech))
    np.testing.assert_allclose(by_tech[sim], tech.china_exports[sim], rtol=1e-10)
    np.testing.assert_allclose(tech.china_exports, tech.world_demand * tech.world_share, rtol=1e-12)
    np.testing.assert_allclose(tech.china_exports + tech.foreign_exports, tech.world_demand, rtol=1e-12)
    assert ((tech.world_share >= 0) & (tech.world_share <= 1)).all()
    assert (firms.exports >= 0).all()


def test_trade_friction_rises_past_the_threshold(model: Model, run_until: Callable[..., Any]) -> None:
    markets, ctx = run_until(model, "markets")
    tech = model.state.technologies
    markets.step(model.state, ctx)
    # κ_fric · max(0, share − θ_fric) with κ 2 and θ 0.3, on this year's world share (solved together)
    np.testing.assert_allclose(tech.friction, 2.0 * np.maximum(0.0, tech.world_share - 0.3), atol=1e-12)
    assert (tech.friction > 0).any() and (tech.friction == 0).any()


@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_settlement_by_hand(model: Model, run_until: Callable[..., Any], path: str) -> None:
    """Both paths of the step: the compiled passes (the default) and the NumPy reference lines."""
    markets, ctx = run_until(model, "markets")
    state = model.state
    firms, tech = state.firms, state.technologies
    firms.loss_streak[:] = 2
    output = firms.output.copy()
    china_output, foreign_output = tech.china_output.copy(), tech.foreign_output.copy()
    with kernels.using(path):
        markets.step(state, ctx)
    t = firms.technology
    revenue = firms.share * tech.demand[t] + firms.exports
    np.testing.assert_allclose(firms.revenue, revenue, rtol=1e-12)
    fixed = tech.fixed_cost0[t] * tech.demand[t] / tech.demand0[t]
    # each of an agent's w members pays the fixed cost
    np.testing.assert_allclose(firms.profit, tech.margin[t] * revenue - fixed * firms.weight, rtol=1e-12, atol=1e-15)
    losing = firms.profit < 0
    assert losing.any() and (~losing).any()
    np.testing.assert_array_equal(firms.loss_streak, np.where(losing, 3, 0))
    # output in start-year yuan: revenue / exp(w(y) − w0) = revenue / exp(g_w (y − y0))
    np.testing.assert_allclose(firms.output, output + revenue / math.exp(0.02 * (ctx.year - 2024)), rtol=1e-12)
    assert state.macro.soe_losses == pytest.approx(-firms.profit[firms.soe & losing].sum())
    # experience (model.md §6.7): each side's cumulative output grows by this year's sales, at home
    # and abroad; the foreign competitor's by its share of China's market plus its exports
    produced = segments.group_sum(firms.output - output, t, len(tech))
    np.testing.assert_allclose(tech.china_output, china_output + produced, rtol=1e-12)
    sold = tech.foreign_share * tech.demand + tech.foreign_exports
    assert (sold[tech.simulated] > 0).all()
    np.testing.assert_allclose(tech.foreign_output, foreign_output + sold, rtol=1e-12)
