"""Priorities (model.md §6.2): none / broad / shortlist weights and the reaction to controls."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from nswn import catalog
from nswn.core.ledger import Ledger
from nswn.core.model import Context, Model
from nswn.core.segments import herfindahl
from nswn.core.state import State
from nswn.mechanisms.priorities import Priorities, PriorityParams, base_weights

BROAD = ("stranglehold", "bottleneck", "competitive_advantage")


def weights_for(state: State, params: PriorityParams) -> np.ndarray:
    ctx = Context(year=state.year, rng=np.random.default_rng(0), ledger=Ledger((), state.n_technologies))
    Priorities(params).step(state, ctx)
    return state.technologies.priority.copy()


def test_none_weighs_every_simulated_technology_equally(model: Model) -> None:
    state = model.state
    w = weights_for(state, PriorityParams(mode="none", control_reaction=0.0))
    simulated = [t.group != "traditional" for t in catalog.technologies()]
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(w[simulated], 1.0 / sum(simulated))
    assert (w[~np.array(simulated)] == 0).all()


def test_broad_is_equal_over_stranglehold_bottleneck_and_competitive_advantage(model: Model) -> None:
    w = weights_for(model.state, PriorityParams(mode="broad", control_reaction=0.0))
    in_broad = np.array([t.group in BROAD for t in catalog.technologies()])
    n_broad = int(in_broad.sum())
    assert n_broad == 35 + sum(t.group in BROAD[1:] for t in catalog.technologies())
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(w[in_broad], 1.0 / n_broad)
    assert (w[~in_broad] == 0).all()
    assert herfindahl(w) == pytest.approx(1.0 / n_broad)


@pytest.mark.parametrize("k", [1, 5, 12])
def test_shortlist_has_exactly_k_equal_weights_on_the_top_scores(model: Model, k: int) -> None:
    state = model.state
    w = weights_for(state, PriorityParams(mode="shortlist", shortlist_size=k, control_reaction=0.0))
    tech = state.technologies
    # score by hand: strategic weight × (frontier − best Chinese capability), simulated technologies only
    scores = {}
    for j, tech_id in enumerate(tech.ids):
        if not tech.simulated[j]:
            continue
        best = max(state.firms.capability[i] for i in np.flatnonzero(state.firms.technology == j))
        scores[tech_id] = tech.strategic_weight[j] * max(tech.frontier[j] - best, 0.0)
    top = sorted(scores, key=lambda tid: -scores[tid])[:k]
    assert np.count_nonzero(w) == k
    assert {tech.ids[j] for j in np.flatnonzero(w)} == set(top)
    np.testing.assert_allclose(w[w > 0], 1.0 / k)


def test_control_reaction_multiplies_controlled_weights_and_renormalises(model: Model) -> None:
    state = model.state
    r = 2.5
    w = weights_for(state, PriorityParams(mode="broad", control_reaction=r))
    in_broad = np.array([t.group in BROAD for t in catalog.technologies()])
    controlled = state.technologies.fence > 0
    assert controlled.sum() == 3  # the 2022/2023 semiconductor batches
    n_plain = int((in_broad & ~controlled).sum())
    n_controlled = int((in_broad & controlled).sum())
    denominator = n_plain + (1 + r) * n_controlled
    np.testing.assert_allclose(w[in_broad & controlled], (1 + r) / denominator)
    np.testing.assert_allclose(w[in_broad & ~controlled], 1 / denominator)
    assert w.sum() == pytest.approx(1.0)


def test_control_reaction_does_not_add_technologies_outside_the_shortlist(model: Model) -> None:
    state = model.state
    base = base_weights(PriorityParams(mode="shortlist", shortlist_size=2), state)
    w = weights_for(state, PriorityParams(mode="shortlist", shortlist_size=2, control_reaction=5.0))
    assert set(np.flatnonzero(w)) == set(np.flatnonzero(base))
    assert w.sum() == pytest.approx(1.0)


def test_shortlist_is_chosen_from_the_start_year_state(build: Callable[..., Model]) -> None:
    k = 5
    changes = {"levers": {"priorities": {"mode": "shortlist", "shortlist_size": k, "control_reaction": 0.0}}}
    model = build(changes)
    tech = model.state.technologies
    start_choice = base_weights(PriorityParams(mode="shortlist", shortlist_size=k), model.state)
    # a technology off the start-year list whose frontier leaps in the first simulated year
    outsider = next(j for j in np.flatnonzero(tech.simulated) if start_choice[j] == 0 and tech.strategic_weight[j] > 0)
    tech.frontier_growth[outsider] = 5.0
    model.step()
    assert set(np.flatnonzero(model.state.technologies.priority)) == set(np.flatnonzero(start_choice))


def test_lobbying_weights_follow_owner_power(model: Model) -> None:
    params = PriorityParams(
        mode="lobbying",
        lobbying_exponent=2.0,
        lobbying_soe=3.0,
        lobbying_private_champion=1.0,
        control_reaction=0.0,
    )
    w = weights_for(model.state, params)
    techs = catalog.technologies()
    power = {t.id: getattr(params, f"lobbying_{t.issue_owner_type}") ** 2.0 for t in techs if t.group != "traditional"}
    total = sum(power.values())
    for j, t in enumerate(techs):
        assert w[j] == pytest.approx(power.get(t.id, 0.0) / total)
    soe = next(j for j, t in enumerate(techs) if t.issue_owner_type == "soe")
    private = next(j for j, t in enumerate(techs) if t.issue_owner_type == "private_champion")
    assert w[soe] / w[private] == pytest.approx(9.0)


def test_adaptive_priorities_move_weight_towards_the_fastest_closing_gaps(model: Model) -> None:
    state = model.state
    # adaptation compares gaps between simulated years (the start-year call only sets the list)
    state.year = state.start_year + 1
    params = PriorityParams(mode="adaptive", shortlist_size=3, adaptation_rate=0.25, control_reaction=0.0)
    ctx = Context(year=state.year, rng=np.random.default_rng(0), ledger=Ledger((), state.n_technologies))
    priorities = Priorities(params)
    priorities.step(state, ctx)
    start = state.technologies.priority.copy()
    np.testing.assert_allclose(start, base_weights(PriorityParams(mode="shortlist", shortlist_size=3), state) / 3)
    np.testing.assert_allclose(start[start > 0], 1 / 3)
    # three technologies off the list close their gap by a lot
    movers = [j for j in np.flatnonzero(state.technologies.simulated) if start[j] == 0][:3]
    for j in movers:
        state.firms.capability[state.firms.technology == j] += 0.5
    state.year += 1
    priorities.step(state, ctx)
    expected = 0.75 * start
    expected[movers] += 0.25 / 3
    np.testing.assert_allclose(state.technologies.priority, expected, atol=1e-12)
