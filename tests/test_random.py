"""``nswn.core.random.stream`` and common random numbers across policy arms."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nswn.core.model import Context, Model
from nswn.core.random import stream
from nswn.core.state import State
from nswn.instruments.basic_research import BasicResearchParams
from nswn.mechanisms.central_budget import CentralBudget, CentralBudgetParams


def test_same_seed_name_and_year_give_identical_draws() -> None:
    first = stream(7, "innovation", 2030)
    second = stream(7, "innovation", 2030)
    np.testing.assert_array_equal(first.random(20), second.random(20))
    np.testing.assert_array_equal(first.standard_normal(5), second.standard_normal(5))


@pytest.mark.parametrize(
    "other",
    [(8, "innovation", 2030), (7, "markets", 2030), (7, "innovation", 2031)],
    ids=["seed", "name", "year"],
)
def test_a_different_seed_name_or_year_gives_different_draws(other: tuple[int, str, int]) -> None:
    reference = stream(7, "innovation", 2030).random(20)
    assert not np.array_equal(reference, stream(*other).random(20))


def test_streams_do_not_depend_on_the_python_hash_seed() -> None:
    code = "from nswn.core.random import stream; print(repr(stream(3, 'entry_exit', 2040).random(3).tolist()))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == repr(stream(3, "entry_exit", 2040).random(3).tolist())


def test_negative_seed_is_rejected() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        stream(-1, "innovation", 2030)


class DrawSpy:
    """Wraps a mechanism; records the first draws of the stream it is given, then steps it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.draws: list[np.ndarray] = []

    def step(self, state: State, ctx: Context) -> None:
        self.draws.append(copy.deepcopy(ctx.rng).random(8))
        self.inner.step(state, ctx)


def spied_run(model: Model, drop: str | None, years: int) -> dict[str, list[np.ndarray]]:
    spies = {m.name: DrawSpy(m) for m in model.mechanisms if m.name != drop}
    arm = Model(model.state, list(spies.values()), seed=model.seed, end_year=model.end_year, recorder=model.recorder)
    for _ in range(years):
        arm.step()
    return {name: spy.draws for name, spy in spies.items()}


def test_switching_a_mechanism_off_does_not_change_other_mechanisms_draws(build: Callable[..., Model]) -> None:
    full = spied_run(build(seed=11), drop=None, years=3)
    without_local = spied_run(build(seed=11), drop="local_allocation", years=3)
    assert "local_allocation" not in without_local
    for name in ("innovation", "entry_exit", "markets"):
        for a, b in zip(full[name], without_local[name], strict=True):
            np.testing.assert_array_equal(a, b)
    # and the draws are not trivially constant: they change from year to year
    assert not np.array_equal(full["innovation"][0], full["innovation"][1])


def test_a_mechanism_draws_differently_under_another_seed(build: Callable[..., Model]) -> None:
    a = spied_run(build(seed=1), drop=None, years=1)
    b = spied_run(build(seed=2), drop=None, years=1)
    assert not np.array_equal(a["innovation"][0], b["innovation"][0])


class SpyInstrument:
    """An instrument that spends nothing and records its stream's first draws."""

    Params = BasicResearchParams

    def __init__(self, name: str) -> None:
        self.name = name
        self.draws: list[np.ndarray] = []

    def allocate(self, state: State, ctx: Context, budget: np.ndarray) -> None:
        self.draws.append(ctx.rng.random(6))


def test_switching_an_instrument_off_does_not_change_another_instruments_draws(
    model: Model, run_until: Callable[..., Any]
) -> None:
    _, ctx = run_until(model, "central_budget")
    both = (SpyInstrument("megaprojects"), SpyInstrument("unveiling_the_list"))
    alone = SpyInstrument("unveiling_the_list")
    params = CentralBudgetParams()
    CentralBudget(params, [(both[0], 0.5), (both[1], 0.5)], seed=5).step(copy.deepcopy(model.state), ctx)
    CentralBudget(params, [(alone, 1.0)], seed=5).step(copy.deepcopy(model.state), ctx)
    np.testing.assert_array_equal(both[1].draws[0], alone.draws[0])
    # each instrument has its own stream, not the central budget's and not its sibling's
    np.testing.assert_array_equal(alone.draws[0], stream(5, "unveiling_the_list", ctx.year).random(6))
    assert not np.array_equal(both[0].draws[0], both[1].draws[0])
