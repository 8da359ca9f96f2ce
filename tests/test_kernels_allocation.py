"""Compiled local allocation, innovation associations and megaprojects give exactly the NumPy
reference's results: each fused kernel against the NumPy lines it replaces on random inputs
(ties, zeros, NaN, -inf, empty groups), whole runs table by table, and one or two threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nswn
from nswn import kernels
from nswn.core import segments
from nswn.kernels import ops
from test_kernels import DIGEST, needs_numba, same_bits, tables_digest

# values with many ties, zeros, a signed zero and (sometimes) NaN
TIED = [-2.5, -1.0, -0.0, 0.0, 0.0, 0.1, 0.3, 7.0]


@st.composite
def economy(draw: st.DrawFn, nan: bool = True) -> dict[str, np.ndarray | int]:
    """Firms sorted by technology (some technologies empty) in unsorted provinces."""
    n_tech = draw(st.integers(1, 5))
    n_prov = draw(st.integers(1, 4))
    n = draw(st.integers(0, 60))
    technology = np.sort(np.array(draw(st.lists(st.integers(0, n_tech - 1), min_size=n, max_size=n)), dtype=np.int32))
    province = np.array(draw(st.lists(st.integers(0, n_prov - 1), min_size=n, max_size=n)), dtype=np.int16)

    def column(pool: list[float]) -> np.ndarray:
        values = np.array(draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)), dtype=np.float64)
        jitter = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)), dtype=np.float64)
        return values + jitter * draw(st.sampled_from([0.0, 1.0]))

    revenue = column(TIED)
    if nan and n and draw(st.booleans()):
        revenue[draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return {
        "n_tech": n_tech,
        "n_prov": n_prov,
        "technology": technology,
        "province": province,
        "soe": np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=np.bool_),
        "revenue": revenue,
        "exports": np.abs(column(TIED)),
        "share": np.abs(column([0.0, 0.01, 0.5])),
        "demand": np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 3.5]), min_size=n_tech, max_size=n_tech))),
        "noise_a": column([-1.0, 0.0, 0.5]),
        "noise_b": column([-1.0, 0.0, 0.5]),
        "uniform": np.array(draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.999]), min_size=n, max_size=n))),
    }


def local_reference(e: dict, knobs: tuple[float, ...], pooled: float, provincial_total: float) -> tuple:
    """The NumPy lines of ``LocalAllocation.step`` (model.md §6.4) on ``e``."""
    weight, referee_noise, sharpness, bias, noise = knobs
    t, prov, n_prov = e["technology"], e["province"], e["n_prov"]
    measured = (e["exports"] + weight * e["share"] * e["demand"][t]) * np.exp(referee_noise * e["noise_a"])
    total = measured.sum()
    pool_pay = pooled * measured / total if total > 0 else np.zeros(len(t))
    present = segments.group_count(prov, n_prov) > 0
    gdp_share = np.linspace(1.0, 2.0, n_prov) / np.linspace(1.0, 2.0, n_prov).sum()
    provincial = provincial_total * gdp_share * present
    signal = sharpness * (np.log(np.maximum(e["revenue"], 1e-12)) + bias * e["soe"] + noise * e["noise_b"])
    weights = segments.group_softmax(signal, prov, n_prov) if len(t) else signal
    local_pay = provincial[prov] * weights
    subsidy = np.linspace(0.0, 1.0, len(t)) + (pool_pay + local_pay)
    n_tech = e["n_tech"]
    by_pool = np.bincount(t * 2 + e["soe"], weights=pool_pay, minlength=2 * n_tech).reshape(n_tech, 2)
    by_local = np.bincount(t * 2 + e["soe"], weights=local_pay, minlength=2 * n_tech).reshape(n_tech, 2)
    return pool_pay, local_pay, by_pool, by_local, subsidy, float(pool_pay.sum() + local_pay.sum())


def local_compiled(e: dict, knobs: tuple[float, ...], pooled: float, provincial_total: float) -> tuple:
    """The same through the fused kernels, as ``LocalAllocation._step_compiled`` calls them."""
    weight, referee_noise, sharpness, bias, noise = knobs
    t, prov, n_prov = e["technology"], e["province"], e["n_prov"]
    with kernels.using("numba"):
        first = ops.local_allocation(
            e["exports"],
            e["share"],
            e["demand"],
            t,
            np.exp(referee_noise * e["noise_a"]),
            np.log(np.maximum(e["revenue"], 1e-12)),
            e["soe"],
            e["noise_b"],
            prov,
            n_prov,
            domestic_weight=weight,
            soe_bias=bias,
            local_noise=noise,
            sharpness=sharpness,
        )
        assert first is not None
        measured, expo, count = first
        gdp_share = np.linspace(1.0, 2.0, n_prov) / np.linspace(1.0, 2.0, n_prov).sum()
        provincial = provincial_total * gdp_share * (count > 0)
        subsidy = np.linspace(0.0, 1.0, len(t))
        pool_pay, local_pay, by_pool, by_local = ops.local_payments(
            measured, expo, prov, provincial, pooled, measured.sum(), t, e["soe"], e["n_tech"], subsidy
        )
    return pool_pay, local_pay, by_pool, by_local, subsidy, float(pool_pay.sum() + local_pay.sum())


@needs_numba
@settings(max_examples=150, deadline=None)
@given(economy(), st.data())
def test_fused_local_allocation_is_the_reference(e: dict, data: st.DataObject) -> None:
    knobs = tuple(data.draw(st.sampled_from([0.0, 0.5, 1.0, 3.0])) for _ in range(5))
    pooled = data.draw(st.sampled_from([0.0, 0.3, 2.0]))
    provincial_total = data.draw(st.sampled_from([0.0, 0.7, 5.0]))
    with np.errstate(all="ignore"):
        reference = local_reference(e, knobs, pooled, provincial_total)
        fast = local_compiled(e, knobs, pooled, provincial_total)
    for name, a, b in zip(("pool", "local", "by_pool", "by_local", "subsidy"), reference, fast, strict=False):
        # np.bincount of no firms returns integer zeros; the ledger adds them as 0.0 alike
        a = np.asarray(a, dtype=np.float64) if name.startswith("by_") else np.asarray(a)
        assert same_bits(a, np.asarray(b)), name
    assert np.array(reference[5]).tobytes() == np.array(fast[5]).tobytes()


def association_reference(e: dict, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t, n_tech = e["technology"], e["n_tech"]
    gumbel = -np.log(-np.log(e["uniform"].clip(1e-300, 1.0 - 1e-16)))
    key = np.log(np.maximum(e["revenue"], 1e-300)) + gumbel
    chosen = segments.group_top(key, t, n_tech, pairs) & (pairs[t] > 0)
    return chosen, chosen.astype(float)


@needs_numba
@settings(max_examples=150, deadline=None)
@given(economy(), st.data())
def test_fused_association_choice_is_the_reference(e: dict, data: st.DataObject) -> None:
    n_tech = e["n_tech"]
    pairs = np.array(data.draw(st.lists(st.integers(-1, 25), min_size=n_tech, max_size=n_tech)), dtype=np.int64)
    if len(e["revenue"]) and data.draw(st.booleans()):
        e["revenue"][:] = e["revenue"][0]  # every key tied but for the Gumbel noise
    with np.errstate(all="ignore"):
        reference = association_reference(e, pairs)
        neg_gumbel = e["uniform"].clip(1e-300, 1.0 - 1e-16)
        np.log(neg_gumbel, out=neg_gumbel)
        np.negative(neg_gumbel, out=neg_gumbel)
        np.log(neg_gumbel, out=neg_gumbel)
        bounds = segments.segment_bounds(e["technology"], n_tech)
        with kernels.using("numba"):
            fast = ops.association_members(np.log(np.maximum(e["revenue"], 1e-300)), neg_gumbel, bounds, pairs)
    assert fast is not None
    assert same_bits(reference[0], fast[0]) and same_bits(reference[1], fast[1])


def megaproject_reference(e: dict, route: np.ndarray, leaders: int) -> np.ndarray:
    t, soe = e["technology"], e["soe"]
    revenue = np.maximum(e["revenue"], 0.0)
    top = segments.group_top(np.where(soe, -np.inf, revenue), t, e["n_tech"], leaders)
    eligible = np.where((route == 1)[t], soe, np.where((route == 2)[t], top & ~soe, True))
    return np.asarray(revenue * eligible + 1e-12 * eligible)


@needs_numba
@settings(max_examples=150, deadline=None)
@given(economy(), st.data())
def test_fused_megaproject_weights_are_the_reference(e: dict, data: st.DataObject) -> None:
    n_tech = e["n_tech"]
    route = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n_tech, max_size=n_tech)), dtype=np.int64)
    leaders = data.draw(st.integers(1, 20))
    with np.errstate(all="ignore"):
        reference = megaproject_reference(e, route, leaders)
    bounds = segments.segment_bounds(e["technology"], n_tech)
    with kernels.using("numba"):
        fast = ops.megaproject_weights(e["revenue"], e["soe"], bounds, route, leaders)
    assert fast is not None and same_bits(reference, fast)


def test_the_numpy_switch_and_unsorted_firms_leave_the_numpy_lines() -> None:
    values = np.ones(3)
    with kernels.using("numpy"):
        assert ops.association_members(values, values, np.array([0, 3]), np.array([1])) is None
        assert ops.megaproject_weights(values, np.zeros(3, dtype=bool), np.array([0, 3]), np.array([0]), 1) is None
        assert (
            ops.local_allocation(
                values,
                values,
                values,
                np.zeros(3, dtype=np.int32),
                values,
                values,
                np.zeros(3, dtype=bool),
                values,
                np.zeros(3, dtype=np.int16),
                1,
                domestic_weight=1.0,
                soe_bias=1.0,
                local_noise=1.0,
                sharpness=1.0,
            )
            is None
        )
    if not kernels._numba_importable():
        return
    with kernels.using("numba"):
        assert ops.association_members(values, values, None, np.array([1])) is None
        assert ops.megaproject_weights(values, np.zeros(3, dtype=bool), None, np.array([0]), 1) is None


@needs_numba
# baseline; local_discretion (all local money by provincial discretion); export_discipline (90 %
# pooled by the export score, megaprojects 0.2); two_layers_fix (associations 0.2); state_led
# (megaprojects 0.6, no associations, centralisation 0.8)
@pytest.mark.parametrize(
    "scenario", ["baseline", "local_discretion", "export_discipline", "two_layers_fix", "state_led"]
)
def test_whole_runs_are_identical_table_by_table(scenario: str) -> None:
    runs = {}
    for name in kernels.BACKENDS:
        with kernels.using(name):
            runs[name] = nswn.simulate(scenario, seed=5, firms=900, end_year=2030)
    for table in ("technology_year", "macro_year"):
        pd.testing.assert_frame_equal(getattr(runs["numpy"], table), getattr(runs["numba"], table), check_exact=True)
    assert tables_digest(runs["numpy"]) == tables_digest(runs["numba"])


@needs_numba
def test_two_threads_give_the_same_tables() -> None:
    # the association and megaproject kernels loop over technology segments with prange; a
    # scenario where associations carry a fifth of the central budget (baseline: test_kernels)
    code = DIGEST.replace('"baseline"', '"two_layers_fix"')
    assert code != DIGEST
    digests = {}
    for threads in ("1", "2"):
        env = {**os.environ, "NSWN_KERNELS": "numba", "NSWN_THREADS": threads, "NUMBA_NUM_THREADS": "2"}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["threads"] == int(threads) and result["kernels"] == "numba"
        digests[threads] = result["digest"]
    assert digests["1"] == digests["2"]
