"""The engine: Model scheduling and recording, populations, recorder, build."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from nswn.core.model import Context, Model
from nswn.core.record import Recorder
from nswn.core.state import Firms, State, firm_rows


class Probe:
    """A mechanism that records the year and the ledger it was given."""

    def __init__(self, name: str, log: list[tuple[str, int]]) -> None:
        self.name = name
        self.log = log

    def step(self, state: State, ctx: Context) -> None:
        assert ctx.ledger is state.ledger
        self.log.append((self.name, ctx.year))


def test_mechanism_names_must_be_unique(model: Model) -> None:
    log: list[tuple[str, int]] = []
    with pytest.raises(ValueError, match="unique"):
        Model(model.state, [Probe("a", log), Probe("a", log)], seed=0, end_year=2026, recorder=model.recorder)


def test_mechanisms_run_in_schedule_order_once_a_year(model: Model) -> None:
    log: list[tuple[str, int]] = []
    probes = [Probe("first", log), Probe("second", log)]
    recorder = Recorder({"year_again": lambda s: np.full(s.n_technologies, s.year)}, {"firms": lambda s: len(s.firms)})
    years: list[int] = []
    Model(model.state, probes, seed=0, end_year=2027, recorder=recorder).run(years.append)
    assert log == [(name, y) for y in (2025, 2026, 2027) for name in ("first", "second")]
    assert years == [2025, 2026, 2027]
    macro = recorder.macro_table()
    assert macro["year"].tolist() == [2024, 2025, 2026, 2027]  # the start year is recorded too
    assert macro["year"].dtype == np.int64
    table = recorder.technology_table()
    n = model.state.n_technologies
    assert len(table["technology_id"]) == 4 * n
    np.testing.assert_array_equal(table["year_again"], table["year"])


def test_the_schedule_is_the_documented_order(model: Model) -> None:
    names = [m.name for m in model.mechanisms]
    documented = ["environment", "priorities", "central_budget", "local_allocation", "research", "innovation"]
    documented += ["markets", "entry_exit", "macro"]
    assert [n for n in names if n in documented] == documented


def test_recorder_refuses_a_badly_shaped_indicator(model: Model) -> None:
    recorder = Recorder({"wrong": lambda s: np.zeros(3)}, {})
    with pytest.raises(ValueError, match="wrong"):
        recorder.record(model.state)


def test_population_take_and_extend() -> None:
    firms = Firms.empty()
    firms.extend(firm_rows(3, technology=np.array([2, 0, 1]), capability=np.array([0.1, 0.2, 0.3])))
    assert len(firms) == 3
    assert firms.partner.tolist() == [-1, -1, -1] and firms.technology.dtype == np.int32
    firms.take(np.array([1, 2, 0]))
    assert firms.technology.tolist() == [0, 1, 2]
    assert firms.capability.tolist() == [0.2, 0.3, 0.1]
    firms.take(firms.technology != 1)
    assert firms.capability.tolist() == [0.2, 0.1]
    with pytest.raises(ValueError, match="missing"):
        firms.extend({"technology": np.array([0])})


def test_the_built_state_is_consistent(build: Callable[..., Any]) -> None:
    model = build(seed=4)
    state = model.state
    firms, tech = state.firms, state.technologies
    assert state.year == state.start_year == 2024
    assert len(firms) >= 1000
    assert (np.diff(firms.technology) >= 0).all()
    counts = np.bincount(firms.technology, minlength=len(tech))
    assert (counts[tech.simulated] >= 1).all() and (counts[~tech.simulated] == 0).all()
    best = np.array([firms.capability[firms.technology == j].max() for j in np.flatnonzero(tech.simulated)])
    np.testing.assert_allclose(best, np.log(tech.rel_capability0[tech.simulated]))  # the best firm has c = ln R0
    assert (state.institutions.field < len(tech)).all()
    assert (tech.knowledge == tech.knowledge_required).all()
