"""Shared fixtures: a small baseline scenario, a model factory, one simulated run, and a
helper that opens a year and runs the schedule up to (not including) a chosen mechanism,
so that one mechanism can be stepped on a realistic state and checked by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings

import nswn
from nswn.api import with_overrides
from nswn.core.model import Context, Mechanism, Model
from nswn.core.random import stream
from nswn.scenario import io
from nswn.scenario.build import build_model, to_config

# schema validation and reductions are fast, but a loaded CI machine must not fail a property test on time
settings.register_profile("nswn", deadline=None)
settings.load_profile("nswn")

SMALL_FIRMS = 1000
SMALL_END_YEAR = 2030
ONLY_BASIC_RESEARCH = {"basic_research": {"share": 1.0}}


@pytest.fixture(scope="session")
def baseline_scenario() -> Any:
    return io.load("baseline")


@pytest.fixture(scope="session")
def small_scenario(baseline_scenario: Any) -> Any:
    """The baseline with 1 000 firms, 2024–2030."""
    return with_overrides(baseline_scenario, firms=SMALL_FIRMS, end_year=SMALL_END_YEAR)


@pytest.fixture(scope="session")
def scenario_with(small_scenario: Any) -> Callable[..., Any]:
    """``scenario_with({"levers": {...}}, instruments=None)``: the small baseline with nested
    changes, validated; ``instruments`` replaces the whole instrument mix when given."""

    def make(changes: dict[str, Any] | None = None, instruments: dict[str, Any] | None = None) -> Any:
        data = small_scenario.model_dump(mode="json")
        if changes:
            data = io.deep_merge(data, changes)
        if instruments is not None:
            data["levers"]["instruments"] = instruments
        return io.validate(data, "test scenario")

    return make


@pytest.fixture(scope="session")
def build(scenario_with: Callable[..., Any]) -> Callable[..., Model]:
    """``build(changes, seed=0, instruments=None)``: a fresh model of the small baseline with
    nested changes (see ``scenario_with``)."""

    def make(changes: dict[str, Any] | None = None, seed: int = 0, instruments: dict[str, Any] | None = None) -> Model:
        return build_model(to_config(scenario_with(changes, instruments)), seed)

    return make


@pytest.fixture
def model(build: Callable[..., Model]) -> Model:
    """The small baseline, 2024, before the first step."""
    return build()


@pytest.fixture
def basic_model(build: Callable[..., Model]) -> Model:
    """The small baseline with basic research as the only central instrument (firms get no central money)."""
    return build(instruments=ONLY_BASIC_RESEARCH)


@pytest.fixture(scope="session")
def run_until() -> Callable[[Model, str], tuple[Mechanism, Context]]:
    """Open the next year exactly as ``Model.step`` does and run every mechanism scheduled
    before ``name``; return that mechanism and the context it would get."""

    def advance(model: Model, name: str) -> tuple[Mechanism, Context]:
        state = model.state
        state.year += 1
        state.ledger.reset()
        for mechanism in model.mechanisms:
            ctx = Context(year=state.year, rng=stream(model.seed, mechanism.name, state.year), ledger=state.ledger)
            if mechanism.name == name:
                return mechanism, ctx
            mechanism.step(state, ctx)
        raise KeyError(f"no mechanism named {name!r}")

    return advance


@pytest.fixture(scope="session")
def finish_year() -> Callable[[Model, str], None]:
    """Run the rest of the year's schedule after mechanism ``name`` (which the test stepped itself)."""

    def finish(model: Model, name: str) -> None:
        state = model.state
        names = [m.name for m in model.mechanisms]
        for mechanism in model.mechanisms[names.index(name) + 1 :]:
            ctx = Context(year=state.year, rng=stream(model.seed, mechanism.name, state.year), ledger=state.ledger)
            mechanism.step(state, ctx)
        model.recorder.record(state)

    return finish


@pytest.fixture(scope="session")
def baseline_result() -> Any:
    """One full baseline run (2024–2050, 2 000 firms, seed 0)."""
    return nswn.simulate("baseline", seed=0, firms=2000)
