"""The instrument contract, checked for every registered instrument (docs/instruments.md)."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from nswn import api
from nswn.core.model import Context
from nswn.core.random import stream
from nswn.instruments import registry
from nswn.scenario.build import build_model, to_config
from nswn.scenario.io import ScenarioError, from_dict
from nswn.scenario.schema import model_for


@pytest.fixture(scope="module")
def stepped_model():  # type: ignore[no-untyped-def]
    """A small baseline model advanced two years, so firms have revenue, exports and history."""
    scenario = api.with_overrides(api.load_scenario("baseline"), firms=1500, end_year=2030)
    model = build_model(to_config(scenario), seed=3)
    model.step()
    model.step()
    return model


def _arrays(state):  # type: ignore[no-untyped-def]
    out = {f"firms.{k}": v for k, v in state.firms.arrays().items()}
    out.update({f"institutions.{k}": v for k, v in state.institutions.arrays().items()})
    return out


@pytest.mark.parametrize("name", sorted(registry()))
def test_instrument_contract(name: str, stepped_model) -> None:  # type: ignore[no-untyped-def]
    cls = registry()[name]
    assert cls.name == name
    assert cls.__doc__ and cls.__module__
    assert "share" in {f.name for f in dataclasses.fields(cls.Params)}
    # parameters validate through the generated schema, defaults included
    defaults = model_for(cls.Params)()
    assert defaults.share == cls.Params().share

    state = copy.deepcopy(stepped_model.state)
    state.ledger.reset()
    before = {k: (v.shape, v.dtype) for k, v in _arrays(state).items()}
    funding_before = state.institutions.funding.copy()
    subsidy_before = state.firms.subsidy.copy()
    budget = np.where(state.technologies.simulated, 10.0, 0.0)
    state.ledger.credit("central", float(budget.sum()))
    instrument = cls(cls.Params(share=1.0))
    ctx = Context(year=state.year + 1, rng=stream(0, name, state.year + 1), ledger=state.ledger)
    instrument.allocate(state, ctx, budget)

    after = _arrays(state)
    for key, (shape, dtype) in before.items():
        assert after[key].shape == shape, key
        assert after[key].dtype == dtype, key
        if np.issubdtype(dtype, np.floating):
            assert np.isfinite(after[key]).all(), key
    # every yuan booked once, to this instrument
    assert state.ledger.imbalance() == pytest.approx(0.0, abs=1e-9)
    assert state.ledger.by_instrument()[name] == pytest.approx(budget.sum(), rel=1e-12)
    # and it reached someone's R&D or research (never more than was spent)
    received = (state.institutions.funding - funding_before).sum() + (state.firms.subsidy - subsidy_before).sum()
    assert 0.0 < received <= budget.sum() * (1 + 1e-12)


@pytest.mark.parametrize("name", sorted(registry()))
def test_instrument_share_out_of_range_is_a_clear_error(name: str) -> None:
    with pytest.raises(ScenarioError) as info:
        from_dict({"base": "baseline", "levers": {"instruments": {name: {"share": 1.5}}}})
    text = str(info.value)
    assert f"levers.instruments.{name}.share = 1.5" in text
    assert "from 0.0 to 1.0" in text


def test_instrument_shares_must_sum_to_one() -> None:
    with pytest.raises(ScenarioError) as info:
        from_dict({"base": "baseline", "levers": {"instruments": {"basic_research": {"share": 0.9}}}})
    assert "levers.instruments" in str(info.value)
    assert "must sum to 1" in str(info.value)
