"""The fused innovation and market kernels (issue 14, third round) against their NumPy references.

Kernel by kernel on states with ties, NaN, −inf and −0.0 planted in them; one whole mechanism
step on either path, every column compared bit for bit (NaN where NaN, the sign of every
zero); whole runs of a few scenarios table by table, attribution included; one and two
threads.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nswn
from nswn import kernels
from nswn.api import _as_scenario, with_overrides
from nswn.core.model import Context
from nswn.core.state import FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE, State
from nswn.kernels import ops
from nswn.mechanisms import markets
from nswn.mechanisms.innovation import Innovation, InnovationParams, knowledge_gate, rd_half, rd_spend
from nswn.mechanisms.markets import MarketParams, Markets
from nswn.scenario.build import build_model, to_config
from test_kernels import DIGEST, needs_numba


def identical(a: Any, b: Any) -> bool:
    """Bit-identical values: same dtype and shape, NaN where NaN, and the same sign of every zero."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        # the sign bit of a NaN carries no value (NumPy and LLVM may set it differently for
        # inf - inf); every other value's sign, zeros included, must agree
        number = ~np.isnan(a)
        return bool(
            np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a)[number], np.signbit(b)[number])
        )
    return bool(np.array_equal(a, b))


def assert_states_identical(a: State, b: State) -> None:
    for part in ("firms", "technologies", "macro"):
        x, y = getattr(a, part), getattr(b, part)
        for f in dataclasses.fields(x):
            u, v = getattr(x, f.name), getattr(y, f.name)
            if isinstance(u, np.ndarray) or isinstance(u, float):
                assert identical(u, v), f"{part}.{f.name} differs"
    record_a, record_b = a.attribution, b.attribution
    for f in dataclasses.fields(record_a):
        u, v = getattr(record_a, f.name), getattr(record_b, f.name)
        if isinstance(u, dict):
            assert u.keys() == v.keys(), f"attribution.{f.name} keys differ"
            for key in u:
                assert identical(u[key], v[key]), f"attribution.{f.name}[{key}] differs"
        elif isinstance(u, np.ndarray):
            assert identical(u, v), f"attribution.{f.name} differs"


_STATES: dict[tuple[str, int], State] = {}


def model_state(scenario: str = "baseline", firms: int = 400) -> State:
    """A state two years into a small run (cached; callers get a deep copy)."""
    key = (scenario, firms)
    if key not in _STATES:
        with kernels.using("numpy"):
            loaded = with_overrides(_as_scenario(scenario), firms=firms, start_year=None, end_year=None)
            model = build_model(to_config(loaded), 5)
            model.step()
            model.step()
        _STATES[key] = model.state
    return copy.deepcopy(_STATES[key])


# values planted in the firm and technology columns: ties, zeros of both signs, NaN, ±inf
EDGES = (0.0, -0.0, 1.0, 1.0, np.nan, np.inf, -np.inf, 1e-300, -2.5)


def plant(rng: np.random.Generator, column: np.ndarray, values: tuple[float, ...], share: float) -> None:
    """Overwrite about ``share`` of ``column`` with values drawn from ``values`` (in place)."""
    hit = rng.random(len(column)) < share
    column[hit] = rng.choice(np.array(values), size=int(hit.sum()))


def step_both(mechanism: Any, state: State, seed: int) -> tuple[State, State]:
    """The mechanism's step on a copy of ``state`` with each kernel choice (same random stream)."""
    out = []
    for name in ("numpy", "numba"):
        copied = copy.deepcopy(state)
        with kernels.using(name), np.errstate(all="ignore"):
            mechanism.step(copied, Context(year=copied.year, rng=np.random.default_rng(seed), ledger=copied.ledger))
        out.append(copied)
    return out[0], out[1]


def edged_state(seed: int, share: float) -> State:
    """A small model state with edge values planted in what innovation and markets read."""
    state = model_state()
    rng = np.random.default_rng(seed)
    firms, tech = state.firms, state.technologies
    for name in ("capability", "revenue", "subsidy", "output", "share"):
        plant(rng, getattr(firms, name), EDGES, share)
    plant(rng, firms.weight, (1.0, 2.0, 0.5, 1e-300), share)
    firms.founder[rng.random(len(firms)) < share] = rng.choice([FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE, 0])
    firms.partner[rng.random(len(firms)) < share] = 0
    firms.soe[rng.random(len(firms)) < share] ^= True
    # a frontier of −0.0 above capabilities of +0.0 gives F − c = −0.0; equal ones give +0.0
    tech.frontier[rng.random(len(tech)) < share] = -0.0
    firms.capability[rng.random(len(firms)) < share] = 0.0
    for name in ("frontier", "knowledge", "market_access", "demand", "china_output", "foreign_share"):
        plant(rng, getattr(tech, name), (0.0, -0.0, 1.0, np.nan, np.inf), share / 2)
    return state


@needs_numba
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.05, 0.3]))
def test_innovation_step_is_the_reference(seed: int, share: float) -> None:
    a, b = step_both(Innovation(InnovationParams()), edged_state(seed, share), seed)
    assert_states_identical(a, b)


@needs_numba
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.05, 0.3]))
def test_market_step_is_the_reference(seed: int, share: float) -> None:
    a, b = step_both(Markets(MarketParams()), edged_state(seed, share), seed)
    assert_states_identical(a, b)


@needs_numba
def test_a_technology_without_firms_and_an_unsorted_table() -> None:
    state = model_state()
    t = state.firms.technology
    empty = int(t[len(t) // 2])
    state.firms.take(np.flatnonzero(t != empty))  # one technology loses every firm
    a, b = step_both(Markets(MarketParams()), state, 1)
    assert_states_identical(a, b)
    a, b = step_both(Innovation(InnovationParams()), state, 1)
    assert_states_identical(a, b)
    # unsorted firms: markets fall back to the reference, innovation needs no order
    state.firms.take(np.random.default_rng(0).permutation(len(state.firms)))
    assert state.technology_bounds() is None
    for mechanism in (Markets(MarketParams()), Innovation(InnovationParams())):
        a, b = step_both(mechanism, state, 2)
        assert_states_identical(a, b)


@needs_numba
def test_the_replicator_rule_runs_the_reference() -> None:
    a, b = step_both(Markets(MarketParams(share_dynamics="replicator")), edged_state(3, 0.05), 3)
    assert_states_identical(a, b)


@needs_numba
@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.1, 0.3]))
def test_innovation_terms_are_the_reference_functions(seed: int, share: float) -> None:
    state = edged_state(seed, share)
    p = InnovationParams()
    firms, tech = state.firms, state.technologies
    with kernels.using("numba"), np.errstate(all="ignore"):
        terms = ops.innovation_terms(
            firms.technology,
            firms.revenue,
            firms.subsidy,
            firms.soe,
            firms.weight,
            firms.capability,
            firms.founder,
            firms.partner,
            tech.rd_half0 * tech.demand / tech.demand0,
            (
                tech.frontier,
                tech.entrepreneurship,
                tech.transfer_bonus,
                tech.knowledge,
                tech.knowledge_required,
                tech.science_intensity,
            ),
            (
                p.rd_share_private,
                p.rd_share_soe,
                p.soe_rd_efficiency,
                p.innovation_rate,
                p.soe_entrepreneurship,
                p.founder_entrepreneurship,
                p.transfer_efficiency,
                p.paired_transfer_efficiency,
            ),
            (FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE),
        )
        assert terms is not None
        rd, member, half, gate, gap_arg, _ = terms
        assert identical(rd, rd_spend(state, p))
        assert identical(half, rd_half(state))
        assert identical(member, rd_spend(state, p) / firms.weight)
        assert identical(gate, knowledge_gate(state, p))
        assert identical(
            -np.expm1(gap_arg), -np.expm1(-np.maximum(0.0, tech.frontier[firms.technology] - firms.capability))
        )
    with kernels.using("numpy"):
        assert ops.innovation_terms(*([None] * 12)) is None  # type: ignore[arg-type]


@needs_numba
@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.1, 0.3]))
def test_market_passes_are_the_reference_functions(seed: int, share: float) -> None:
    state = edged_state(seed, share)
    p = MarketParams()
    firms, tech = state.firms, state.technologies
    bounds = state.technology_bounds()
    assert bounds is not None
    with kernels.using("numba"), np.errstate(all="ignore"):
        pool = markets.learning_pool(tech, p)  # Q^CN + ξ Q^f
        learned = ops.market_experience(
            bounds, firms.weight, firms.output, pool, tech.output_scale, p.learning_spillover
        )
        scale = tech.output_scale[firms.technology]
        assert identical(learned, markets.experience(state, p) / scale)
        log_f = markets.foreign_log_presence(state, p)
        relative, shifted, _, export_peak = ops.market_competitiveness(
            bounds,
            firms.capability,
            np.log1p(learned),
            np.log(firms.weight),
            log_f,
            markets.labour_cost(p, state),
            p.learning_rate,
            p.capability_weight,
            p.cost_weight,
            p.export_elasticity,
        )
        log_e = markets.log_competitiveness(state, p)
        e_firm, _ = markets._relative(state, log_e + np.log(firms.weight), log_f)
        assert identical(np.exp(relative), e_firm)
        log_c, reference_shifted, _ = markets.china_composite(state, log_e, p.export_elasticity)
        assert identical(np.exp(shifted), reference_shifted)


def run_all_tables(scenario: str, name: str) -> dict[str, pd.DataFrame]:
    with kernels.using(name):
        result = nswn.simulate(scenario, seed=4, firms=600, end_year=2030)
    return {"technology_year": result.technology_year, "macro_year": result.macro_year, **result.breakdowns}


@needs_numba
# baseline; export_discipline (export-linked subsidies: revenue and exports feed R&D);
# broad_controls (export controls cut know-how access: the attribution's controls channel)
@pytest.mark.parametrize("scenario", ["baseline", "export_discipline", "broad_controls"])
def test_whole_runs_are_identical_table_by_table(scenario: str) -> None:
    reference, fast = run_all_tables(scenario, "numpy"), run_all_tables(scenario, "numba")
    assert reference.keys() == fast.keys()
    assert "technology_attribution_year" in reference
    for table in reference:
        pd.testing.assert_frame_equal(reference[table], fast[table], check_exact=True)


def digest_of(scenario: str, **env: str) -> str:
    script = DIGEST.replace('"baseline"', repr(scenario))
    done = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return str(json.loads(done.stdout.strip().splitlines()[-1])["digest"])


@needs_numba
def test_two_threads_give_the_same_tables_with_controls() -> None:
    one = digest_of("broad_controls", NSWN_KERNELS="numba", NSWN_THREADS="1", NUMBA_NUM_THREADS="2")
    two = digest_of("broad_controls", NSWN_KERNELS="numba", NSWN_THREADS="2", NUMBA_NUM_THREADS="2")
    reference = digest_of("broad_controls", NSWN_KERNELS="numpy")
    assert one == two == reference


@needs_numba
def test_maxima_keep_numpys_sign_of_zero_and_nan() -> None:
    # NumPy's maximum keeps its second argument on a tie of zeros: max(-0.0, 0.0) is 0.0 and
    # max(0.0, -0.0) is -0.0; the compiled group maxima (attribution, recorder, entry/exit)
    # and the innovation pass's best capabilities must do the same
    values = np.array([-0.0, 0.0, 0.0, -0.0, np.nan, 1.0, -0.0, -0.0, 2.0, np.nan])
    groups = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4], dtype=np.int32)
    with kernels.using("numpy"), np.errstate(invalid="ignore"):
        reference = ops.group_max(values, groups, 6)
    with kernels.using("numba"):
        fast = ops.group_max(values, groups, 6)
        bounds = ops.sorted_bounds(groups, 6)
        assert bounds is not None
        n = len(values)
        totals = ops.demography_totals(
            bounds, np.ones(n), values, np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int8), 3, values, values
        )
    assert totals is not None
    assert identical(reference, np.array([0.0, -0.0, np.nan, -0.0, np.nan, -np.inf]))
    assert identical(fast, reference)
    assert identical(totals[1], reference)
