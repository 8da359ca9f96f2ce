"""The weighted-median and trade-friction kernels (issue 15) against their NumPy references.

``_compiled.pairwise_sum`` against ``ndarray.sum`` on every length 0…2 100 (and a few past
NumPy's 8 192-value buffer); the per-segment weighted median (``median_capability``) on
segments with ties, NaN, ±inf, −0.0, empty and zero-weight segments; the friction bisection of
``markets.friction_equilibrium`` on leads with NaN and ±inf. Each compared bit for bit (NaN
where NaN, the sign of every zero). Whole runs on either path: tests/test_kernels.py and
tests/test_kernels_firm_layer.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nswn import kernels
from nswn.core import segments
from nswn.kernels import ops
from nswn.mechanisms import markets
from test_kernels import needs_numba
from test_kernels_firm_layer import identical

SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e-300]


def _special(rng: np.random.Generator, values: np.ndarray, count: int) -> None:
    if len(values):
        values[rng.integers(0, len(values), count)] = rng.choice(SPECIAL, count)


@needs_numba
def test_pairwise_sum_is_numpys_sum_on_every_length() -> None:
    from nswn.kernels import _compiled

    rng = np.random.default_rng(15)
    lengths = [*range(0, 2101), 8191, 8192, 8193, 16_385, 100_003]
    for n in lengths:
        cases = [
            rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n),  # magnitudes that round differently
            np.full(n, -0.0),  # NumPy's reduction starts from +0.0: the sum is +0.0
            rng.integers(-3, 4, n).astype(float) * 0.1,
        ]
        special = rng.standard_normal(n)
        _special(rng, special, 3)
        cases.append(special)
        for values in cases:
            with np.errstate(invalid="ignore"):
                expected = values.sum()
            assert identical(np.float64(_compiled.pairwise_sum(values)), expected), n
    # a strided view is summed by the same rule (the kernel reads the view)
    values = rng.standard_normal(3001)[::3]
    assert identical(np.float64(_compiled.pairwise_sum(values)), values.sum())


@st.composite
def weighted_segments(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, weights, bounds): few distinct values (ties common), some segments empty, some
    weights zero, and NaN, ±inf, −0.0 planted in values and weights."""
    n_groups = draw(st.integers(1, 8))
    sizes = draw(
        st.lists(st.sampled_from([0, 0, 1, 2, 3, 5, 8, 9, 17, 40, 130, 300]), min_size=n_groups, max_size=n_groups)
    )
    n = sum(sizes)
    bounds = np.zeros(n_groups + 1, dtype=np.intp)
    np.cumsum(sizes, out=bounds[1:])
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        values = rng.choice([-1.5, -0.0, 0.0, 0.25, 0.5, 2.0], n)
    else:
        values = rng.standard_normal(n)
    weights = rng.choice([0.0, 1.0, 2.0, 0.1, 3.7], n) if draw(st.booleans()) else rng.exponential(1.0, n)
    if draw(st.booleans()):
        _special(rng, values, max(1, n // 20))
    if draw(st.booleans()) and n:
        weights[rng.integers(0, n, max(1, n // 50))] = rng.choice([0.0, -0.0, np.inf, np.nan])
    if draw(st.booleans()) and n_groups > 1:  # a whole segment with zero weight
        g = draw(st.integers(0, n_groups - 1))
        weights[bounds[g] : bounds[g + 1]] = 0.0
    return values, weights, bounds


@needs_numba
@settings(max_examples=300, deadline=None)
@given(weighted_segments())
def test_weighted_median_is_the_reference(case: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    values, weights, bounds = case
    expected = segments.segment_weighted_median(values, weights, bounds)
    with kernels.using("numba"):
        fast = ops.segment_weighted_median(values, weights, bounds)
    assert identical(fast, expected)


@needs_numba
def test_weighted_median_takes_the_stable_order_of_ties() -> None:
    # equal values of opposite zero sign: the one whose weight crosses half, in index order
    values = np.array([0.0, -0.0, 0.0, -0.0, 5.0, np.nan, np.nan])
    weights = np.array([1.0, 1.0, 1.0, 1.0, 0.5, 1.0, 1.0])
    bounds = np.array([0, 4, 7], dtype=np.intp)
    with kernels.using("numba"):
        fast = ops.segment_weighted_median(values, weights, bounds)
    assert identical(fast, segments.segment_weighted_median(values, weights, bounds))
    assert np.signbit(fast[0])  # half (2.0) is reached at the second value, -0.0
    assert np.isnan(fast[1])  # 5.0 carries 0.5 of 2.5: half is reached in the NaN, sorted last


@needs_numba
def test_weighted_median_runs_the_reference_where_it_raises() -> None:
    # the total (index order) is 1.0 but the running sum in value order rounds to 1, -1e16, 0:
    # it never reaches half the total, the search runs past the end and the reference raises;
    # the compiled path must not return a value instead
    values = np.array([2.0, 3.0, 1.0])
    weights = np.array([-1e16, 1e16, 1.0])
    bounds = np.array([0, 3], dtype=np.intp)
    with pytest.raises(IndexError):
        segments.segment_weighted_median(values, weights, bounds)
    with kernels.using("numba"), pytest.raises(IndexError):
        ops.segment_weighted_median(values, weights, bounds)


@needs_numba
def test_weighted_median_searches_as_numpy_on_an_unsorted_running_sum() -> None:
    # negative weights make the running sum go down and up: the answer is where NumPy's
    # bisection lands, not the first crossing
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        values = rng.standard_normal(n)
        weights = rng.standard_normal(n) + 0.3
        bounds = np.array([0, n], dtype=np.intp)
        try:
            expected = segments.segment_weighted_median(values, weights, bounds)
        except IndexError:
            continue
        with kernels.using("numba"):
            assert identical(ops.segment_weighted_median(values, weights, bounds), expected)


@st.composite
def leads(draw: st.DrawFn) -> tuple[np.ndarray, float, float]:
    n = draw(st.integers(0, 80))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lead = rng.standard_normal(n) * draw(st.sampled_from([0.1, 1.0, 5.0, 50.0, 1000.0]))
    if draw(st.booleans()):
        _special(rng, lead, max(1, n // 10))
    slope = draw(st.sampled_from([0.0, 0.5, 2.0, 10.0, 1e6]))
    threshold = draw(st.sampled_from([0.0, 0.1, 0.35, 0.5, 0.999, 1.0]))
    return lead, slope, threshold


@needs_numba
@settings(max_examples=200, deadline=None)
@given(leads())
def test_friction_equilibrium_is_the_reference(case: tuple[np.ndarray, float, float]) -> None:
    lead, slope, threshold = case
    with kernels.using("numpy"):
        expected = markets.friction_equilibrium(lead, slope, threshold)
    with kernels.using("numba"):
        fast = markets.friction_equilibrium(lead, slope, threshold)
    assert identical(fast, expected)
    finite = np.isfinite(lead)
    assert np.all(fast[~finite] == 0.0)


@needs_numba
def test_friction_equilibrium_solves_its_equation() -> None:
    # not only equal to the reference: the root satisfies s = 1 / (1 + (1 + κ max(0, s − θ)) e^{−z})
    lead = np.linspace(-4.0, 6.0, 41)
    slope, threshold = 3.0, 0.2
    with kernels.using("numba"):
        share = markets.friction_equilibrium(lead, slope, threshold)
    implied = 1.0 / (1.0 + (1.0 + slope * np.maximum(0.0, share - threshold)) * np.exp(-lead))
    np.testing.assert_allclose(share, implied, rtol=0, atol=1e-12)
    assert np.all(np.diff(share) > 0)


def _pay_both(
    weights: np.ndarray, field: np.ndarray, n_fields: int, budget: np.ndarray, efficiency: np.ndarray | float
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``payments.pay_institutions`` on either path: (unpaid, funding after, ledger row)."""
    from types import SimpleNamespace

    from nswn.core.ledger import Ledger
    from nswn.instruments.payments import pay_institutions

    out = {}
    for name in kernels.BACKENDS:
        funding = np.linspace(0.0, 1.0, len(field))
        state = SimpleNamespace(institutions=SimpleNamespace(field=field, funding=funding), n_technologies=n_fields)
        ledger = Ledger(("x",), n_fields)
        ledger.payments[0, 0] = 0.25  # booked earlier this year: the payment is added to it
        with kernels.using(name), np.errstate(all="ignore"):
            unpaid = pay_institutions(state, SimpleNamespace(ledger=ledger), "x", budget, weights, efficiency)  # type: ignore[arg-type]
        out[name] = (unpaid, state.institutions.funding, ledger.payments[0, 0].copy())
    return out


@needs_numba
@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.integers(1, 7), st.booleans(), st.booleans())
def test_institution_payments_are_the_reference(seed: int, n: int, n_fields: int, special: bool, scalar: bool) -> None:
    rng = np.random.default_rng(seed)
    field = rng.integers(0, n_fields, n).astype(np.int32)  # institutions are not sorted by field
    weights = rng.choice([0.0, 1.0, 0.5], n) if rng.random() < 0.5 else rng.exponential(1.0, n)
    budget = rng.exponential(10.0, n_fields)
    budget[rng.random(n_fields) < 0.2] = 0.0
    if special:
        _special(rng, weights, max(1, n // 20))
        _special(rng, budget, 1)
    efficiency: np.ndarray | float = 0.7 if scalar else rng.uniform(0.2, 1.0, n_fields)
    runs = _pay_both(weights, field, n_fields, budget, efficiency)
    for a, b in zip(runs["numpy"], runs["numba"], strict=True):
        assert identical(a, b)


@needs_numba
def test_institution_payments_pay_by_weight_and_return_what_found_no_one() -> None:
    field = np.array([1, 0, 1, 1], dtype=np.int32)
    weights = np.array([1.0, 0.0, 3.0, 0.0])
    runs = _pay_both(weights, field, 3, np.array([5.0, 8.0, 2.0]), 0.5)
    unpaid, funding, booked = runs["numba"]
    assert identical(unpaid, np.array([5.0, 0.0, 2.0]))  # field 0 has no weight, field 2 no one
    assert identical(funding - np.linspace(0.0, 1.0, 4), np.array([1.0, 0.0, 3.0, 0.0]))  # 8 · 1/4, 8 · 3/4, × 0.5
    assert identical(booked, np.array([0.25, 8.25, 0.25]))


@needs_numba
@settings(max_examples=200, deadline=None)
@given(weighted_segments())
def test_group_rank_is_the_reference_on_long_and_short_segments(
    case: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    # segments of up to 300 values: long ones are sorted by NumPy before the kernel, short ones
    # by insertion in it; ties, NaN, ±inf and -0.0 keep the stable order either way
    values, _, bounds = case
    groups = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds)).astype(np.int32)
    n = len(bounds) - 1
    expected = segments.group_rank(values, groups, n)
    with kernels.using("numba"):
        fast = ops.group_rank(values, groups, n)
    assert identical(fast, expected)
    stable = np.lexsort((np.arange(len(values)), -values, groups))  # by group, value down, index
    position = np.empty(len(values), dtype=np.intp)
    position[stable] = np.arange(len(values))
    assert identical(fast, position - bounds[groups])


@needs_numba
@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 120), st.integers(1, 6), st.integers(0, 2))
def test_table_compaction_is_the_reference(seed: int, n: int, n_tech: int, n_blocks: int) -> None:
    # every dtype of the firm table, ages bumped (int16, wrapping at its limit), new rows given
    # as float or int arrays (cast to the column's dtype), some technologies left empty
    rng = np.random.default_rng(seed)
    technology = np.sort(rng.integers(0, n_tech, n)).astype(np.int32)
    columns = {
        "technology": technology,
        "capability": rng.standard_normal(n),
        "province": rng.integers(0, 30, n).astype(np.int16),
        "soe": rng.random(n) < 0.3,
        "founder": rng.integers(0, 3, n).astype(np.int8),
        "age": rng.choice(np.array([0, 5, 32767], dtype=np.int16), n),
    }
    _special(rng, columns["capability"], max(1, n // 10))
    kept = np.flatnonzero(rng.random(n) < 0.7)
    blocks = [rng.integers(0, 3, n_tech) for _ in range(n_blocks)]
    size = int(sum(b.sum() for b in blocks))
    block_tech = np.concatenate([np.repeat(np.arange(n_tech), b) for b in blocks]) if blocks else np.zeros(0, int)
    new_rows = {
        "technology": block_tech,
        "capability": rng.standard_normal(size),
        "province": rng.integers(0, 30, size),  # int64: cast to int16
        "soe": rng.random(size),  # floats: cast to bool
        "founder": rng.integers(0, 3, size).astype(float),
        "age": np.zeros(size),
    }
    runs = {}
    for name in kernels.BACKENDS:
        with kernels.using(name):
            runs[name] = ops.rebuild_sorted(
                columns, kept, technology[kept], new_rows if size else None, blocks, n_tech, bump="age"
            )
    (expected, expected_bounds), (fast, fast_bounds) = runs["numpy"], runs["numba"]
    assert identical(fast_bounds, expected_bounds)
    assert list(fast) == list(expected)
    for name in expected:
        assert identical(fast[name], expected[name]), name
    assert np.all(np.diff(fast["technology"]) >= 0)
