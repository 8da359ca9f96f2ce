"""Compiled kernels (``NSWN_KERNELS=numba``) give exactly the NumPy reference's results:
kernel by kernel on random inputs (ties, empty groups, unsorted groups), on whole runs of
several scenarios, and with one or two threads."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nswn
from nswn import kernels
from nswn.core import segments
from nswn.kernels import ops

numba_missing = not kernels._numba_importable()
needs_numba = pytest.mark.skipif(numba_missing, reason="numba cannot be imported")


@st.composite
def grouped(draw: st.DrawFn, sort: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """(values, groups, n_groups): few distinct values, so ties are common; some groups empty."""
    n_groups = draw(st.integers(1, 6))
    size = draw(st.integers(0, 50))
    groups = np.array(draw(st.lists(st.integers(0, n_groups - 1), min_size=size, max_size=size)), dtype=np.int32)
    values = np.array(
        draw(st.lists(st.sampled_from([-2.5, -1.0, 0.0, 0.1, 0.2, 0.3, 7.0]), min_size=size, max_size=size))
    ) + np.array(draw(st.lists(st.floats(-1.0, 1.0), min_size=size, max_size=size)), dtype=float) * draw(
        st.sampled_from([0.0, 1.0])
    )
    if sort:
        groups = np.sort(groups)
    return values, groups, n_groups


def both(function: str, *args: object) -> tuple[np.ndarray, np.ndarray]:
    with kernels.using("numpy"):
        reference = getattr(ops, function)(*args)
    with kernels.using("numba"):
        fast = getattr(ops, function)(*args)
    return np.asarray(reference), np.asarray(fast)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@needs_numba
@given(grouped(sort=False))
def test_group_max_sum_and_softmax_are_the_references(case: tuple[np.ndarray, np.ndarray, int]) -> None:
    values, groups, n = case
    for function in ("group_max", "group_sum", "group_softmax"):
        reference, fast = both(function, values, groups, n)
        assert same_bits(reference, fast), function


@needs_numba
@given(grouped(sort=True), st.data())
def test_ranks_and_top_k_are_the_references(case: tuple[np.ndarray, np.ndarray, int], data: st.DataObject) -> None:
    values, groups, n = case
    if data.draw(st.booleans()) and len(values):
        values[data.draw(st.integers(0, len(values) - 1))] = data.draw(st.sampled_from([np.nan, -np.inf, -0.0]))
    for function in ("group_rank", "percentile_in_group"):
        reference, fast = both(function, values, groups, n)
        assert same_bits(reference, fast), function
    k = data.draw(st.one_of(st.integers(0, 20), st.lists(st.integers(0, 30), min_size=n, max_size=n).map(np.array)))
    reference, fast = both("group_top", values, groups, n, k)
    assert same_bits(reference, fast)
    assert same_bits(segments.group_top(values, groups, n, k), fast)


@needs_numba
@given(grouped(sort=True), st.data())
def test_fused_payment_is_the_reference(case: tuple[np.ndarray, np.ndarray, int], data: st.DataObject) -> None:
    weights, technology, n = case
    weights = np.abs(weights) * data.draw(st.sampled_from([0.0, 1.0, 3.0]))
    soe = np.array(data.draw(st.lists(st.booleans(), min_size=len(weights), max_size=len(weights))), dtype=bool)
    budget = np.array(data.draw(st.lists(st.floats(0.0, 50.0), min_size=n, max_size=n)))
    efficiency: np.ndarray | float = data.draw(st.one_of(st.just(1.0), st.just(0.7), st.just(np.linspace(0.5, 1.0, n))))
    subsidy0 = np.array(data.draw(st.lists(st.floats(0.0, 5.0), min_size=len(weights), max_size=len(weights))))

    # the NumPy lines of payments.pay_firms
    share = segments.group_share(weights, technology, n)
    amount = budget[technology] * share
    reference_subsidy = subsidy0 + amount * (np.asarray(efficiency)[technology] if np.ndim(efficiency) else efficiency)
    # (np.bincount returns integer zeros when there is no firm at all; the values are the same)
    reference = np.bincount(technology * 2 + soe, weights=amount, minlength=2 * n).reshape(n, 2).astype(float)

    subsidy = subsidy0.copy()
    with kernels.using("numba"):
        fast = ops.pay_sorted(weights, technology, n, soe, budget, efficiency, subsidy)
    assert fast is not None
    assert same_bits(reference, fast)
    assert same_bits(reference_subsidy, subsidy)


@needs_numba
def test_unsorted_groups_fall_back_to_the_reference() -> None:
    technology = np.array([1, 0, 1], dtype=np.int32)
    with kernels.using("numba"):
        assert ops.sorted_bounds(technology, 2) is None
        assert ops.pay_sorted(np.ones(3), technology, 2, np.zeros(3, bool), np.ones(2), 1.0, np.zeros(3)) is None
        assert ops.sorted_bounds(np.sort(technology), 3).tolist() == [0, 1, 3, 3]


@given(grouped(sort=True))
def test_group_rank_equals_a_stable_sort(case: tuple[np.ndarray, np.ndarray, int]) -> None:
    values, groups, n = case
    ranks = segments.group_rank(values, groups, n)
    for g in range(n):
        lo, hi = np.searchsorted(groups, [g, g + 1])
        expected = np.empty(hi - lo, dtype=np.intp)
        expected[np.argsort(-values[lo:hi], kind="stable")] = np.arange(hi - lo)
        assert ranks[lo:hi].tolist() == expected.tolist()


def test_group_rank_keeps_index_order_for_ties_and_nan() -> None:
    values = np.array([1.0, np.nan, 2.0, 1.0, np.nan, -0.0, 0.0, 2.0])
    groups = np.zeros(len(values), dtype=np.int32)
    assert segments.group_rank(values, groups, 1).tolist() == [2, 6, 0, 3, 7, 4, 5, 1]


def tables_digest(result: nswn.api.Result) -> str:
    frames = [result.technology_year.drop(columns="run_id"), result.macro_year.drop(columns="run_id")]
    return hashlib.sha256(
        b"".join(pd.util.hash_pandas_object(f, index=True).to_numpy().tobytes() for f in frames)
    ).hexdigest()


@needs_numba
# baseline; state_led; export_discipline; market_led (open challenges 0.2 and guidance funds 0.3
# by performance: the fused winner selection and payments carry much of the money); broad_controls
# (export controls); local_discretion (guidance funds by size)
@pytest.mark.parametrize(
    "scenario", ["baseline", "state_led", "export_discipline", "market_led", "broad_controls", "local_discretion"]
)
def test_whole_runs_are_identical_with_either_kernels(scenario: str) -> None:
    runs = {}
    for name in kernels.BACKENDS:
        with kernels.using(name):
            runs[name] = nswn.simulate(scenario, seed=3, firms=800, end_year=2031)
    for table in ("technology_year", "macro_year"):
        pd.testing.assert_frame_equal(getattr(runs["numpy"], table), getattr(runs["numba"], table), check_exact=True)
    assert tables_digest(runs["numpy"]) == tables_digest(runs["numba"])


DIGEST = """
import hashlib, json, sys
import pandas as pd
import nswn
from nswn import kernels
r = nswn.simulate("baseline", seed=2, firms=1500, end_year=2030)
frames = [r.technology_year.drop(columns="run_id"), r.macro_year.drop(columns="run_id")]
digest = hashlib.sha256(b"".join(pd.util.hash_pandas_object(f, index=True).to_numpy().tobytes() for f in frames))
import numba
print(json.dumps({"digest": digest.hexdigest(), "threads": numba.get_num_threads(), "kernels": kernels.backend()}))
"""


def run_digest(**env: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", DIGEST], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@needs_numba
def test_results_are_identical_with_one_and_two_threads() -> None:
    one = run_digest(NSWN_KERNELS="numba", NSWN_THREADS="1", NUMBA_NUM_THREADS="2")
    two = run_digest(NSWN_KERNELS="numba", NSWN_THREADS="2", NUMBA_NUM_THREADS="2")
    reference = run_digest(NSWN_KERNELS="numpy")
    assert (one["threads"], two["threads"]) == (1, 2)
    assert one["kernels"] == two["kernels"] == "numba" and reference["kernels"] == "numpy"
    assert one["digest"] == two["digest"] == reference["digest"]


def test_without_numba_the_numpy_path_runs_with_a_one_line_notice() -> None:
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import nswn\nfrom nswn import kernels\n"
        "r = nswn.simulate('baseline', seed=1, firms=300, end_year=2026)\n"
        "print(kernels.backend())"
    )
    env = {k: v for k, v in os.environ.items() if k != "NSWN_KERNELS"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "numpy"
    assert done.stderr.strip().splitlines() == [
        "nswn: numba cannot be imported; using the NumPy kernels (slower, same results)"
    ]


def test_a_bad_switch_value_is_reported_and_ignored() -> None:
    code = "from nswn import kernels; print(kernels.backend(), kernels.threads())"
    env = {**os.environ, "NSWN_KERNELS": "fortran", "NSWN_THREADS": "many"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split()[1] == "1"
    assert "NSWN_KERNELS='fortran'" in done.stderr and "NSWN_THREADS='many'" in done.stderr
    with pytest.raises(ValueError, match="numpy, numba"):
        kernels.set_backend("fortran")
