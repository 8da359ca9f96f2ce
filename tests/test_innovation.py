"""Firm innovation (model.md §6.6): emulation, frontier innovation, the knowledge gate."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nswn.core.model import Model
from nswn.core.state import FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE

NO_INVENTION = {"assumptions": {"innovation": {"innovation_rate": 0.0}}}


def absorptive_capacity_by_hand(model: Model, i: int) -> float:
    """α_i = RD_i / (RD_i + RD½_t) from the raw arrays, for agent ``i`` (``RD_i`` per member)."""
    firms, tech = model.state.firms, model.state.technologies
    p = model.mechanisms[[m.name for m in model.mechanisms].index("innovation")].params
    t = firms.technology[i]
    own = p.rd_share_soe if firms.soe[i] else p.rd_share_private
    efficiency = p.soe_rd_efficiency if firms.soe[i] else 1.0
    rd = (own * firms.revenue[i] + firms.subsidy[i]) * efficiency / firms.weight[i]  # one member's R&D
    half = tech.rd_half0[t] * tech.demand[t] / tech.demand0[t]
    return rd / (rd + half)


def test_emulation_closes_the_gap_by_exactly_the_formula(
    build: Callable[..., Model], run_until: Callable[..., Any]
) -> None:
    model = build(NO_INVENTION)
    innovation, ctx = run_until(model, "innovation")
    firms, tech = model.state.firms, model.state.technologies
    before = firms.capability.copy()
    alpha = np.array([absorptive_capacity_by_hand(model, i) for i in range(len(firms))])
    innovation.step(model.state, ctx)

    litho = tech.index("lithography_machines")
    # A = (1 − h)(1 − d) with the 2023 fence 0.7 and d(2025) = 0.01·(2025 − 2018)
    assert ctx.year == 2025
    assert tech.knowhow_access[litho] == pytest.approx(0.3 * 0.93)
    checked = 0
    for i in range(len(firms)):
        t = firms.technology[i]
        gap = max(0.0, tech.frontier[t] - before[i])
        # logistic catch-up (Benhabib & Spiegel 2005): the log gap is replaced by 1 − e^{−gap}
        step = 0.1 * tech.emulability[t] * tech.knowhow_access[t] * alpha[i] * -math.expm1(-gap)  # λ_em = 0.1
        assert firms.capability[i] - before[i] == pytest.approx(step, rel=1e-10, abs=1e-15)
        if t == litho:
            new_gap = tech.frontier[t] - firms.capability[i]
            assert new_gap == pytest.approx(gap - 0.1 * 0.9 * 0.279 * alpha[i] * (1 - math.exp(-gap)))  # e = 0.9
            checked += 1
    assert checked > 0
    assert 0.0 < alpha.min() and alpha.max() < 1.0


def test_emulation_alone_never_passes_the_frontier(
    build: Callable[..., Model], run_until: Callable[..., Any], finish_year: Callable[..., None]
) -> None:
    changes = {"assumptions": {"innovation": {"innovation_rate": 0.0, "emulation_rate": 1.0}}}
    model = build(changes)
    for _ in range(4):
        innovation, ctx = run_until(model, "innovation")
        state = model.state
        frontier = state.technologies.frontier[state.firms.technology]
        before = state.firms.capability.copy()
        innovation.step(state, ctx)
        after = state.firms.capability
        below = before <= frontier
        assert below.any() and (~below).any()  # solar and LiDAR start above the frontier
        assert (after[below] <= frontier[below] + 1e-12).all()
        assert (after[below] >= before[below]).all()
        np.testing.assert_array_equal(after[~below], before[~below])  # nothing to emulate above the frontier
        finish_year(model, "innovation")


def test_frontier_innovation_reproduced_from_the_mechanism_stream(model: Model, run_until: Callable[..., Any]) -> None:
    innovation, ctx = run_until(model, "innovation")
    state = model.state
    firms, tech, p = state.firms, state.technologies, innovation.params
    n = len(firms)
    rng = copy.deepcopy(ctx.rng)
    uniform, normal = rng.random(n), rng.standard_normal(n)
    before = firms.capability.copy()
    alpha = np.array([absorptive_capacity_by_hand(model, i) for i in range(n)])
    innovation.step(state, ctx)

    expected = np.empty(n)
    for i in range(n):
        t = firms.technology[i]
        half = tech.rd_half0[t] * tech.demand[t] / tech.demand0[t]
        rd = alpha[i] * half / (1 - alpha[i])
        if firms.soe[i]:
            owner = p.soe_entrepreneurship
        elif firms.founder[i] in (FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE):
            owner = p.founder_entrepreneurship
        else:
            owner = 1.0
        ent = 1 - tech.entrepreneurship[t] * (1 - owner)
        tau = (p.paired_transfer_efficiency if firms.partner[i] >= 0 else p.transfer_efficiency) + tech.transfer_bonus[
            t
        ]
        b = tech.science_intensity[t]
        gate = (1 - b) + b * min(1.0, tau * tech.knowledge[t] / tech.knowledge_required[t])
        probability = 1 - np.exp(-p.innovation_rate * ent * gate * rd / half)
        draw = p.step_mean + p.step_sd * normal[i]
        invention = draw if uniform[i] < probability and draw > 0 else 0.0
        gap = -math.expm1(-max(0.0, tech.frontier[t] - before[i]))  # logistic catch-up
        emulation = p.emulation_rate * tech.emulability[t] * tech.knowhow_access[t] * alpha[i] * gap
        expected[i] = before[i] + emulation + invention
    np.testing.assert_allclose(firms.capability, expected, rtol=0, atol=1e-12)
    inventions = firms.capability - before
    assert (inventions >= 0).all()
    assert (inventions > 0.01).sum() > 0  # some firms made a real step


def test_rd_is_own_share_of_revenue_plus_subsidy(model: Model, run_until: Callable[..., Any]) -> None:
    innovation, ctx = run_until(model, "innovation")
    firms = model.state.firms
    innovation.step(model.state, ctx)
    soe, private = np.flatnonzero(firms.soe)[0], np.flatnonzero(~firms.soe)[0]
    assert firms.rd[soe] == pytest.approx((0.03 * firms.revenue[soe] + firms.subsidy[soe]) * 0.7)
    assert firms.rd[private] == pytest.approx(0.05 * firms.revenue[private] + firms.subsidy[private])
