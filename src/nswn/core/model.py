"""The model: a state plus an ordered list of mechanisms, stepped one year at a time.

The order of mechanisms is the schedule of model.md §3. Each mechanism receives a
:class:`Context` with its own random generator for the year (``core.random.stream``), the
year and the budget ledger, and updates the state's arrays in place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from nswn.core.ledger import Ledger
from nswn.core.random import stream
from nswn.core.record import Recorder
from nswn.core.state import State


class SimulationError(RuntimeError):
    """A run cannot go on within its limits (e.g. the firm population explodes)."""


@dataclass(frozen=True)
class Context:
    """What a mechanism may use besides the state: its random stream, the year, the ledger."""

    year: int
    rng: np.random.Generator
    ledger: Ledger


class Mechanism(Protocol):
    """The mechanism contract: a name (its random stream) and an in-place yearly step."""

    name: str

    def step(self, state: State, ctx: Context) -> None:
        """Advance this mechanism's part of ``state`` by one year, in place."""
        ...


class Model:
    """A runnable simulation.

    Parameters
    ----------
    state
        The initial state (year = start year, before the first step).
    mechanisms
        Mechanisms in schedule order.
    seed
        Run seed; each mechanism's stream derives from it (``core.random``).
    end_year
        Last simulated year (inclusive).
    recorder
        Indicator recorder, called once after every year (and once for the start state).
    schedule
        Optional: called with each new year before its mechanisms run; a sequence it returns
        replaces the mechanisms from that year on (time-varying levers, resolved outside
        ``core``).
    """

    def __init__(
        self,
        state: State,
        mechanisms: Sequence[Mechanism],
        seed: int,
        end_year: int,
        recorder: Recorder,
        schedule: Callable[[int], Sequence[Mechanism] | None] | None = None,
    ) -> None:
        names = [m.name for m in mechanisms]
        if len(set(names)) != len(names):
            raise ValueError(f"mechanism names must be unique: {names}")
        self.state = state
        self.mechanisms = tuple(mechanisms)
        self.seed = seed
        self.end_year = end_year
        self.recorder = recorder
        self.schedule = schedule

    def step(self) -> None:
        """Simulate one year: open the books, run every mechanism in order, record."""
        state = self.state
        state.year += 1
        state.ledger.reset()
        if self.schedule is not None:
            changed = self.schedule(state.year)
            if changed is not None:
                self.mechanisms = tuple(changed)
        for mechanism in self.mechanisms:
            ctx = Context(
                year=state.year,
                rng=stream(self.seed, mechanism.name, state.year),
                ledger=state.ledger,
            )
            mechanism.step(state, ctx)
        self.recorder.record(state)

    def run(self, progress: Callable[[int], None] | None = None) -> Recorder:
        """Record the start year, then step to ``end_year``; call ``progress(year)`` each year."""
        if self.state.year == self.state.start_year and not self.recorder.macro_table()["year"].size:
            self.recorder.record(self.state)
        while self.state.year < self.end_year:
            self.step()
            if progress is not None:
                progress(self.state.year)
        return self.recorder
