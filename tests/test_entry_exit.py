"""Entry and exit (model.md §6.9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nswn.core import segments
from nswn.core.model import Model
from nswn.core.state import FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE, FOUNDER_SPINOFF

MARK = 1_000_000  # firms carry no id: tag them through ``partner``, which entry and exit do not read


def tag_and_mark_losers(model: Model, exit_after: int) -> tuple[np.ndarray, np.ndarray]:
    """Give every firm a unique tag; put private firms at and beyond the exit threshold, some one
    year short of it, and SOEs beyond it. Return the tags of the private leavers and of those SOEs."""
    firms = model.state.firms
    firms.partner[:] = MARK + np.arange(len(firms))
    firms.loss_streak[:] = 0
    private = np.flatnonzero(~firms.soe)
    at_threshold, beyond, short = private[0::7][:30], private[3::7][:10], private[5::7][:30]
    soe = np.flatnonzero(firms.soe)[::5][:40]
    firms.loss_streak[at_threshold] = exit_after
    firms.loss_streak[beyond] = exit_after + 3
    firms.loss_streak[short] = exit_after - 1  # one year short: stays
    firms.loss_streak[soe] = exit_after + 2
    leaving = np.concatenate([at_threshold, beyond])
    return firms.partner[leaving].copy(), firms.partner[soe].copy()


@pytest.mark.parametrize("exit_after", [3, 5])
def test_private_loss_makers_leave_and_soes_never_do(
    build: Callable[..., Model], run_until: Callable[..., Any], exit_after: int
) -> None:
    model = build({"assumptions": {"entry_exit": {"exit_after": exit_after}}})
    entry_exit, ctx = run_until(model, "entry_exit")
    state = model.state
    leaving, soe_losers = tag_and_mark_losers(model, exit_after)
    tags_before = state.firms.partner.copy()
    tech_before = state.firms.technology.copy()
    weight_before = state.firms.weight.copy()
    age_before = dict(zip(tags_before, state.firms.age, strict=True))
    entry_exit.step(state, ctx)

    firms, tech = state.firms, state.technologies
    survivors = set(firms.partner[firms.partner >= MARK])
    assert survivors == set(tags_before) - set(leaving)
    assert set(soe_losers) <= survivors
    # exits count real firms: a leaving super-individual takes all the firms it stands for
    gone = np.isin(tags_before, leaving)
    expected_exits = np.bincount(tech_before[gone], weights=weight_before[gone], minlength=len(tech))
    np.testing.assert_allclose(tech.exits, expected_exits, rtol=1e-12)
    new_agents = np.round(tech.entries / tech.entrant_weight).sum()
    assert len(firms) == len(tags_before) - len(leaving) + int(new_agents)
    for tag, age in zip(firms.partner, firms.age, strict=True):
        if tag >= MARK:
            assert age == age_before[tag] + 1


def test_entrants_are_private_newcomers_below_the_best(model: Model, run_until: Callable[..., Any]) -> None:
    entry_exit, ctx = run_until(model, "entry_exit")
    state = model.state
    state.firms.partner[:] = MARK
    best = segments.group_max(state.firms.capability, state.firms.technology, state.n_technologies)
    entry_exit.step(state, ctx)
    firms = state.firms
    new = firms.partner == -1
    tech = state.technologies
    # entrants arrive as agents of their technology's entrant weight; entries count real firms
    np.testing.assert_allclose(firms.weight[new], tech.entrant_weight[firms.technology[new]])
    assert new.sum() == np.round(tech.entries / tech.entrant_weight).sum() > 0
    assert not firms.soe[new].any()
    assert (firms.age[new] == 0).all()
    assert np.isin(firms.founder[new], (FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE, FOUNDER_SPINOFF)).all()
    assert (firms.capability[new] <= np.maximum(best, state.technologies.best_capability)[firms.technology[new]]).all()
    np.testing.assert_allclose(
        segments.group_count(firms.technology[new], state.n_technologies) * tech.entrant_weight, tech.entries
    )


def test_firms_stay_sorted_by_technology(build: Callable[..., Model]) -> None:
    model = build({"assumptions": {"entry_exit": {"entry_rate": 0.3, "exit_after": 1}}})
    entries = exits = 0.0
    for _ in range(4):
        model.step()
        technology = model.state.firms.technology
        assert (np.diff(technology) >= 0).all()
        entries += model.state.technologies.entries.sum()
        exits += model.state.technologies.exits.sum()
    assert entries > 0 and exits > 0  # the order was actually disturbed and restored


def test_shares_sum_to_one_after_exits_without_entrants(
    build: Callable[..., Model], run_until: Callable[..., Any]
) -> None:
    model = build(
        {
            "assumptions": {"entry_exit": {"entry_rate": 0.0}},
            "levers": {"patent_reform": {"inventor_share": 0.0}},
        }
    )
    entry_exit, ctx = run_until(model, "entry_exit")
    state = model.state
    leaving, _ = tag_and_mark_losers(model, 3)
    real_leaving = state.firms.weight[np.isin(state.firms.partner, leaving)].sum()
    entry_exit.step(state, ctx)
    assert state.technologies.entries.sum() == 0
    assert state.technologies.exits.sum() == pytest.approx(real_leaving) and len(leaving) == 40
    tech = state.technologies
    total = segments.group_sum(state.firms.share, state.firms.technology, len(tech)) + tech.foreign_share
    np.testing.assert_allclose(total[tech.simulated], 1.0, atol=1e-9)
