"""Entry, spin-offs and exit on tiny hand-built states (model.md §6.9).

Helper state ``incumbents``: two technologies with 50 private firms each (revenue 10; the
first earns 10 %, the second loses money), two provinces of equal GDP. Entry is Poisson,
so each test computes the expected counts by hand and replays the mechanism's draws from
the same seed in the documented order (entrants, spin-offs, returnee flags, capability
gaps, provinces): a wrong rate or gap gives different draws.
"""

from __future__ import annotations

import numpy as np
import pytest

from nswn.core.state import FOUNDER_ENTREPRENEUR, FOUNDER_INCUMBENT, FOUNDER_RETURNEE, FOUNDER_SPINOFF, Provinces
from nswn.instruments.patent_reform import PatentReformParams
from nswn.mechanisms.entry_exit import EntryExit, EntryExitParams
from nswn.mechanisms.innovation import Innovation, InnovationParams, entrepreneurship
from tiny_states import ctx, institutions, tiny_state

SEED = 11
PER_TECH = 50


def incumbents(pilot: tuple[float, float] = (0.0, 0.0)):  # type: ignore[no-untyped-def]
    """Two technologies × 50 private firms, capability 1 (t0) and 2 (t1), China's share 0.5."""
    n = 2 * PER_TECH
    technology = np.repeat([0, 1], PER_TECH)
    state = tiny_state(
        n_tech=2,
        firm_values={
            "technology": technology,
            "capability": np.where(technology == 0, 1.0, 2.0),
            "revenue": np.full(n, 10.0),
            "profit": np.where(technology == 0, 1.0, -1.0),
            "share": np.full(n, 0.5 / PER_TECH),
            "age": np.full(n, 3),
        },
        institution_values={"field": [0, 0, 1], "alignment": [0.5, 1.0, 0.2], "output": [2.0, 1.0, 0.0]},
        provinces=Provinces(ids=("p0", "p1"), gdp_share=np.array([0.5, 0.5]), pilot_intensity=np.array(pilot)),
        knowledge=0.5,
        knowledge_required=1.0,
    )
    return state


def step(state, params: EntryExitParams, pilot_boost: float = 0.0, inventor_share: float = 0.3) -> None:  # type: ignore[no-untyped-def]
    EntryExit(params, PatentReformParams(inventor_share=inventor_share), pilot_boost).step(state, ctx(state, SEED))


def test_pilot_zones_raise_entry_by_the_gdp_weighted_multiplier() -> None:
    """λ_t = ν · n_t · (1 + max(0, π̄_t)) · Σ_p GDP_p (1 + ε z_p (1 − χ))."""
    state = incumbents(pilot=(1.0, 0.0))
    state.macro.centralisation = 0.5
    step(state, EntryExitParams(entry_rate=1.0, spinoff_rate=0.0), pilot_boost=0.4)
    # multiplier 0.5 · (1 + 0.4 · 1 · 0.5) + 0.5 · 1 = 1.1; profit rate 0.1 (t0), −0.1 → 0 (t1)
    expected = np.array([50 * 1.1 * 1.1, 50 * 1.0 * 1.1])
    rng = np.random.default_rng(SEED)
    entrants = rng.poisson(expected)
    np.testing.assert_array_equal(state.technologies.entries, entrants)
    # and the entrants settle in provinces ∝ GDP × pilot multiplier: 0.6/1.1 and 0.5/1.1
    rng.poisson(np.zeros(2))
    n = int(entrants.sum())
    rng.random(n)
    rng.exponential(1.0, n)
    provinces = rng.choice(2, size=n, p=[0.6 / 1.1, 0.5 / 1.1])
    new = state.firms.age == 0
    assert new.sum() == n
    assert sorted(state.firms.province[new]) == sorted(provinces)


def test_without_pilot_zones_or_under_full_centralisation_the_pilot_term_vanishes() -> None:
    plain = incumbents(pilot=(1.0, 0.0))
    plain.macro.centralisation = 1.0
    step(plain, EntryExitParams(entry_rate=1.0, spinoff_rate=0.0), pilot_boost=0.4)
    expected = np.random.default_rng(SEED).poisson([50 * 1.1, 50 * 1.0])
    np.testing.assert_array_equal(plain.technologies.entries, expected)


def test_returnees_enter_closer_to_the_best_than_entrepreneurs() -> None:
    """Entrant capability = c_best − Exp(1) · gap, gap 0.25 for returnees and 0.5 otherwise;
    returnee probability ρ_ret0 (1 − d)."""
    state = incumbents()
    state.macro.decoupling = 0.2
    params = EntryExitParams(entry_rate=1.0, spinoff_rate=0.0, returnee_share=0.5, returnee_gap=0.25, entrant_gap=0.5)
    step(state, params)
    rng = np.random.default_rng(SEED)
    entrants = rng.poisson([55.0, 50.0])
    rng.poisson(np.zeros(2))
    n = int(entrants.sum())
    returnee = rng.random(n) < 0.5 * (1 - 0.2)
    gaps = rng.exponential(1.0, n) * np.where(returnee, 0.25, 0.5)
    best = np.repeat([1.0, 2.0], entrants)

    new = state.firms.age == 0
    assert new.sum() == n
    # firms stay sorted by technology and entrants were appended in technology order
    np.testing.assert_allclose(state.firms.capability[new], best - gaps)
    expected_founder = np.where(returnee, FOUNDER_RETURNEE, FOUNDER_ENTREPRENEUR)
    np.testing.assert_array_equal(state.firms.founder[new], expected_founder)
    assert not state.firms.soe[new].any()
    # start share: 0.1 × China's mean share 0.01, then every share renormalised with the entrants'
    total = 1.0 + 0.001 * entrants[state.firms.technology[new]]
    np.testing.assert_allclose(state.firms.share[new], 0.001 / total)


def test_spin_offs_scale_with_inventor_ownership_and_aligned_research() -> None:
    """λ_spin = ν_spin · ω · n_t · Σ a_k o_k / o_ref: 1 · 0.5 · 50 · (0.5·2 + 1·1)/1 = 50 in t0, 0 in t1;
    spin-offs start below the best by Exp(1) · gap / (1 + min(1, U/U_req))."""
    state = incumbents()
    step(state, EntryExitParams(entry_rate=0.0, spinoff_rate=1.0, entrant_gap=0.5), inventor_share=0.5)
    rng = np.random.default_rng(SEED)
    rng.poisson(np.zeros(2))
    spinoffs = rng.poisson([50.0, 0.0])
    n = int(spinoffs.sum())
    rng.random(0)
    gaps = rng.exponential(1.0, n) * 0.5 / (1.0 + 0.5)
    np.testing.assert_array_equal(state.technologies.entries, spinoffs)
    new = state.firms.age == 0
    assert new.sum() == n > 0
    np.testing.assert_array_equal(state.firms.founder[new], FOUNDER_SPINOFF)
    np.testing.assert_allclose(state.firms.capability[new], 1.0 - gaps)

    # no inventor ownership, no spin-offs
    none = incumbents()
    step(none, EntryExitParams(entry_rate=0.0, spinoff_rate=1.0), inventor_share=0.0)
    assert none.technologies.entries.sum() == 0
    assert len(none.firms) == 2 * PER_TECH


def test_private_loss_makers_exit_after_the_streak_and_soes_never() -> None:
    state = incumbents()
    state.firms.loss_streak[:4] = [3, 2, 5, 3]
    state.firms.soe[3] = True
    step(state, EntryExitParams(entry_rate=0.0, spinoff_rate=0.0, exit_after=3))
    np.testing.assert_array_equal(state.technologies.exits, [2.0, 0.0])
    assert len(state.firms) == 2 * PER_TECH - 2
    assert state.firms.soe.sum() == 1


def test_spin_offs_and_incumbents_share_the_owner_drive_while_founders_get_the_boost() -> None:
    """ent_i = 1 − ρ_t (1 − E_owner): incumbents and spin-offs E = 1, entrepreneurs and
    returnees E_f, SOEs E_SOE."""
    founders = [FOUNDER_INCUMBENT, FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE, FOUNDER_SPINOFF, FOUNDER_INCUMBENT]
    state = tiny_state(
        n_tech=1,
        firm_values={"technology": [0] * 5, "founder": founders, "soe": [False] * 4 + [True]},
        entrepreneurship=0.5,
    )
    params = InnovationParams(founder_entrepreneurship=1.2, soe_entrepreneurship=0.4)
    np.testing.assert_allclose(entrepreneurship(state, params), [1.0, 1.1, 1.1, 1.0, 0.7])


def test_spin_offs_innovate() -> None:
    """A spin-off with R&D makes frontier inventions like any private firm: replay the draws."""
    n = 4
    state = tiny_state(
        n_tech=1,
        firm_values={"technology": [0] * n, "founder": [FOUNDER_SPINOFF] * n, "revenue": [20.0] * n},
        knowhow_access=0.0,  # no emulation: every change is an invention
        science_intensity=0.0,
    )
    params = InnovationParams(innovation_rate=5.0, step_mean=0.1, step_sd=0.01)
    Innovation(params).step(state, ctx(state, SEED))
    rng = np.random.default_rng(SEED)
    uniform, normal = rng.random(n), rng.standard_normal(n)
    # rd = 0.05 · 20 = 1 = RD½, ent = 1, gate = 1: P = 1 − exp(−5)
    success = uniform < 1.0 - np.exp(-5.0)
    np.testing.assert_allclose(state.firms.capability, np.where(success, 0.1 + 0.01 * normal, 0.0))
    assert (state.firms.capability > 0.05).sum() >= 3


def test_institution_helper_defaults() -> None:
    """The helper's institutions default to universities of quality 1 (guards the helper itself)."""
    inst = institutions(field=[0, 1])
    np.testing.assert_array_equal(inst.quality, [1.0, 1.0])
    with pytest.raises(TypeError):
        tiny_state(n_tech=1, no_such_field=1.0)
