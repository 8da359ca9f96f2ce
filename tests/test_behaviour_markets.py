"""Markets on tiny hand-built states (model.md §6.7): direction and size by hand.

Helper states (``tiny_states.tiny_state``): one or two technologies, one to three firms;
the parameters switch learning off (``ℓ = 0``) and set unit weights wherever a test is not
about them, so every expectation is a few lines of arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nswn.mechanisms.markets import (
    MarketParams,
    adjust_logit,
    foreign_log_competitiveness,
    foreign_log_cost,
    log_competitiveness,
    settle,
    trade,
)
from tiny_states import FLAT_MARKETS, tiny_state

FLAT = FLAT_MARKETS


def one_firm_market(world_share_last_year: float):  # type: ignore[no-untyped-def]
    """One technology, one Chinese firm at the frontier (c = F = 0), world demand 200."""
    return tiny_state(n_tech=1, world_share=world_share_last_year)


def test_the_foreign_competitor_learns_by_doing() -> None:
    """p^f = w_f − ℓ ln(1 + Q^f/Q0); settlement adds its home sales and exports to Q^f."""
    state = tiny_state(n_tech=1, foreign_output=300.0, output_scale=100.0, frontier=0.5)
    params = MarketParams(learning_rate=0.32, foreign_labour_cost=0.0, capability_weight=3.0, cost_weight=2.0)
    # −0.32 · ln 4
    assert foreign_log_cost(state, params)[0] == pytest.approx(-0.32 * math.log(4.0))
    assert foreign_log_competitiveness(state, params)[0] == pytest.approx(3.0 * 0.5 + 2.0 * 0.32 * math.log(4.0))
    # more experience, lower cost, stronger competitor
    state.technologies.foreign_output[:] = 700.0
    assert foreign_log_cost(state, params)[0] == pytest.approx(-0.32 * math.log(8.0))

    state.technologies.foreign_exports[:] = 40.0
    state.technologies.foreign_share[:] = 0.5
    settle(state, params)
    assert state.technologies.foreign_output[0] == pytest.approx(700.0 + 0.5 * 100.0 + 40.0)


def test_trade_friction_past_the_threshold_cuts_chinas_world_share_by_the_formula() -> None:
    # a lead that puts China below the threshold: no friction (logistic share 0.2 < θ = 0.3)
    state = tiny_state(n_tech=1, world_share=0.5, frontier=math.log(4.0))
    trade(state, FLAT, log_competitiveness(state, FLAT))
    assert state.technologies.friction[0] == 0.0
    assert state.technologies.world_share[0] == pytest.approx(0.2)

    # equal competitiveness: friction and share solved together (docs/model.md §12, issue 11),
    # s = 1 / (2 + 2 (s − 0.3)), i.e. 2s² + 1.4s − 1 = 0, whatever last year's share was
    share = (-1.4 + math.sqrt(1.96 + 8.0)) / 4.0
    for last_year in (0.2, 0.5, 0.8):
        state = one_firm_market(last_year)
        trade(state, FLAT, log_competitiveness(state, FLAT))
        tech = state.technologies
        assert tech.friction[0] == pytest.approx(2.0 * (share - 0.3))
        assert tech.world_share[0] == pytest.approx(share)
        assert tech.world_share[0] == pytest.approx(1.0 / (2.0 + tech.friction[0]))
        assert tech.china_exports[0] == pytest.approx(200.0 * share)
        assert tech.foreign_exports[0] == pytest.approx(200.0 * (1.0 - share))
        assert state.firms.exports[0] == pytest.approx(200.0 * share)


def test_exports_are_split_by_share_times_competitiveness() -> None:
    """Firm i's part of China's exports ∝ s_i E_i^σw; C_t is the share-weighted composite."""
    # friction off: it now responds to this year's share (0.59 > θ), and this test is about the split
    params = MarketParams(**{**FLAT.__dict__, "export_elasticity": 1.5, "friction_slope": 0.0})
    state = tiny_state(
        n_tech=1, firm_values={"technology": [0, 0], "share": [0.3, 0.1], "capability": [0.0, math.log(2.0)]}
    )
    trade(state, params, log_competitiveness(state, params))
    x = state.firms.exports
    strong = 2.0**1.5
    assert x[1] / x[0] == pytest.approx(0.1 * strong / 0.3)
    # C = 0.75 · 1 + 0.25 · 2^1.5 against the foreign 1 (F = 0, no friction)
    composite = 0.75 + 0.25 * strong
    assert state.technologies.world_share[0] == pytest.approx(composite / (composite + 1.0))
    assert x.sum() == pytest.approx(200.0 * composite / (composite + 1.0))


def test_logit_shares_move_towards_competitiveness_and_the_foreign_share_follows_access() -> None:
    """s ← (1 − χ) s + χ E_i / (Σ E + E^f A)."""
    params = MarketParams(**{**FLAT.__dict__, "replicator_speed": 0.5})
    state = tiny_state(
        n_tech=1,
        firm_values={"technology": [0, 0], "share": [0.2, 0.3], "capability": [0.0, math.log(2.0)]},
        foreign_share=0.5,
        market_access=0.5,
    )
    adjust_logit(state, params, log_competitiveness(state, params))
    # targets E = (1, 2, 0.5) / 3.5
    np.testing.assert_allclose(state.firms.share, [0.1 + 0.5 / 3.5, 0.15 + 1.0 / 3.5])
    assert state.technologies.foreign_share[0] == pytest.approx(0.25 + 0.25 / 3.5)


def test_settlement_adds_only_loss_making_soes_to_soe_losses() -> None:
    """profit = m · revenue − fixed; SOE losses = losses of SOEs only (private losses and SOE profits excluded)."""
    state = tiny_state(
        n_tech=1,
        firm_values={"technology": [0, 0, 0], "soe": [True, True, False], "share": [0.1, 0.5, 0.1]},
        fixed_cost0=5.0,
    )
    settle(state, FLAT)
    # revenue 10, 50, 10; profit 2 − 5, 10 − 5, 2 − 5
    np.testing.assert_allclose(state.firms.revenue, [10.0, 50.0, 10.0])
    np.testing.assert_allclose(state.firms.profit, [-3.0, 5.0, -3.0])
    assert state.macro.soe_losses == pytest.approx(3.0)
    np.testing.assert_array_equal(state.firms.loss_streak, [1, 0, 1])
