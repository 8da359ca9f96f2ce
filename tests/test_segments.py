"""``nswn.core.segments``: every reduction equals a naive Python loop, empty groups included."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nswn.core import segments


@st.composite
def grouped(draw: st.DrawFn, values: st.SearchStrategy[float] | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """(values, groups, n_groups) with at most 40 members; some groups are usually empty."""
    n_groups = draw(st.integers(1, 8))
    size = draw(st.integers(0, 40))
    groups = np.array(draw(st.lists(st.integers(0, n_groups - 1), min_size=size, max_size=size)), dtype=np.intp)
    element = values if values is not None else st.floats(-1e3, 1e3, allow_nan=False)
    vals = np.array(draw(st.lists(element, min_size=size, max_size=size)), dtype=np.float64)
    return vals, groups, n_groups


def members(groups: np.ndarray, g: int) -> list[int]:
    return [i for i in range(len(groups)) if groups[i] == g]


def sort_by_group(values: np.ndarray, groups: np.ndarray, *more: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.argsort(groups, kind="stable")
    return (values[order], groups[order], *(m[order] for m in more))


@given(grouped())
def test_group_sum_and_count_equal_loop(data: tuple[np.ndarray, np.ndarray, int]) -> None:
    values, groups, n = data
    total = segments.group_sum(values, groups, n)
    count = segments.group_count(groups, n)
    assert total.shape == (n,) and total.dtype == np.float64
    for g in range(n):
        expected = 0.0
        for i in members(groups, g):
            expected += values[i]
        assert total[g] == pytest.approx(expected, rel=1e-12, abs=1e-9)
        assert count[g] == len(members(groups, g))


def test_group_sum_accepts_boolean_values() -> None:
    flags = np.array([True, False, True, True])
    groups = np.array([0, 0, 2, 2])
    np.testing.assert_array_equal(segments.group_sum(flags, groups, 4), [1.0, 0.0, 2.0, 0.0])


@given(grouped())
def test_group_mean_equals_loop_and_is_nan_for_empty_groups(data: tuple[np.ndarray, np.ndarray, int]) -> None:
    values, groups, n = data
    mean = segments.group_mean(values, groups, n)
    for g in range(n):
        idx = members(groups, g)
        if not idx:
            assert math.isnan(mean[g])
        else:
            assert mean[g] == pytest.approx(sum(values[i] for i in idx) / len(idx), rel=1e-12, abs=1e-9)


@given(grouped())
def test_group_max_equals_loop_and_is_minus_inf_for_empty_groups(data: tuple[np.ndarray, np.ndarray, int]) -> None:
    values, groups, n = data
    peak = segments.group_max(values, groups, n)
    for g in range(n):
        idx = members(groups, g)
        assert peak[g] == (max(values[i] for i in idx) if idx else -math.inf)


@given(grouped(values=st.integers(-3, 3).map(float)))  # few distinct values: ties are common
def test_group_argmax_is_first_maximum_and_minus_one_for_empty(data: tuple[np.ndarray, np.ndarray, int]) -> None:
    values, groups, n = data
    arg = segments.group_argmax(values, groups, n)
    for g in range(n):
        best = -1
        for i in members(groups, g):
            if best == -1 or values[i] > values[best]:
                best = i
        assert arg[g] == best


@given(grouped(values=st.integers(-3, 3).map(float)))
def test_group_rank_equals_loop(data: tuple[np.ndarray, np.ndarray, int]) -> None:
    values, groups, n = data
    rank = segments.group_rank(values, groups, n)
    for g in range(n):
        idx = members(groups, g)
        # largest first; ties: lower index first
        ordered = sorted(idx, key=lambda i: (-values[i], i))
        for position, i in enumerate(ordered):
            assert rank[i] == position


@given(grouped(values=st.integers(-3, 3).map(float)), st.data())
def test_group_top_equals_loop(data: tuple[np.ndarray, np.ndarray, int], choose: st.DataObject) -> None:
    values, groups, n = data
    per_group = choose.draw(st.booleans())
    k = np.array(choose.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))) if per_group else 2
    top = segments.group_top(values, groups, n, k)
    for g in range(n):
        idx = members(groups, g)
        limit = int(k[g]) if per_group else k
        chosen = set(sorted(idx, key=lambda i: (-values[i], i))[:limit])
        assert {i for i in idx if top[i]} == chosen


@given(grouped(values=st.floats(-50, 50, allow_nan=False)))
def test_group_softmax_equals_loop_and_sums_to_one(data: tuple[np.ndarray, np.ndarray, int]) -> None:
    values, groups, n = data
    weights = segments.group_softmax(values, groups, n)
    assert weights.shape == values.shape
    for g in range(n):
        idx = members(groups, g)
        if not idx:
            continue
        top = max(values[i] for i in idx)
        denominator = sum(math.exp(values[i] - top) for i in idx)
        for i in idx:
            assert weights[i] == pytest.approx(math.exp(values[i] - top) / denominator, rel=1e-12)
            assert weights[i] > 0
        assert sum(weights[i] for i in idx) == pytest.approx(1.0, rel=1e-12)


@given(grouped(values=st.one_of(st.just(0.0), st.floats(0, 1e3, allow_nan=False))))
def test_group_share_equals_loop(data: tuple[np.ndarray, np.ndarray, int]) -> None:
    values, groups, n = data
    share = segments.group_share(values, groups, n)
    for g in range(n):
        idx = members(groups, g)
        total = sum(values[i] for i in idx)
        for i in idx:
            assert share[i] == pytest.approx(values[i] / total if total > 0 else 0.0, rel=1e-12, abs=1e-15)


@given(grouped(), st.floats(0.0, 1.0))
def test_segment_bounds_and_quantile_equal_loop(data: tuple[np.ndarray, np.ndarray, int], q: float) -> None:
    values, groups, n = sort_by_group(*data[:2]) + (data[2],)
    bounds = segments.segment_bounds(groups, n)
    assert bounds.shape == (n + 1,)
    quantile = segments.segment_quantile(values, bounds, q)
    start = 0
    for g in range(n):
        idx = members(groups, g)
        assert (bounds[g], bounds[g + 1]) == (start, start + len(idx))
        start += len(idx)
        if not idx:
            assert math.isnan(quantile[g])
            continue
        ordered = sorted(values[i] for i in idx)
        position = q * (len(ordered) - 1)
        lo = math.floor(position)
        hi = min(lo + 1, len(ordered) - 1)
        expected = ordered[lo] + (position - lo) * (ordered[hi] - ordered[lo])
        assert quantile[g] == pytest.approx(expected, rel=1e-9, abs=1e-9)


@st.composite
def weighted(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    values, groups, n = draw(grouped(values=st.integers(-5, 5).map(float)))
    element = st.one_of(st.just(0.0), st.floats(0.0, 10.0, allow_nan=False))
    weights = np.array(draw(st.lists(element, min_size=len(values), max_size=len(values))), dtype=np.float64)
    return values, groups, weights, n


@given(weighted())
def test_segment_weighted_median_equals_loop(data: tuple[np.ndarray, np.ndarray, np.ndarray, int]) -> None:
    values, groups, weights, n = data
    values, groups, weights = sort_by_group(values, groups, weights)
    median = segments.segment_weighted_median(values, weights, segments.segment_bounds(groups, n))
    for g in range(n):
        idx = members(groups, g)
        total = sum(weights[i] for i in idx)
        if not idx or total <= 0:
            assert math.isnan(median[g])
            continue
        # the smallest value at which the cumulative weight (in value order) reaches half the total
        pairs = sorted(((values[i], weights[i]) for i in idx), key=lambda pair: pair[0])
        cumulative = 0.0
        for value, weight in pairs:
            cumulative += weight
            if cumulative >= 0.5 * total:
                expected = value
                break
        assert median[g] == expected


def test_segment_weighted_median_by_hand() -> None:
    # segment 0: values 1,2,3 weights 1,1,4 -> half (3) reached at value 3; segment 1 empty; segment 2: 5,7 weights 2,2
    values = np.array([3.0, 1.0, 2.0, 7.0, 5.0])
    weights = np.array([4.0, 1.0, 1.0, 2.0, 2.0])
    bounds = np.array([0, 3, 3, 5])
    result = segments.segment_weighted_median(values, weights, bounds)
    assert result[0] == 3.0
    assert math.isnan(result[1])
    assert result[2] == 5.0


@given(st.lists(st.one_of(st.just(0.0), st.floats(0.0, 1e6, allow_nan=False)), max_size=30))
def test_herfindahl_equals_loop(weights: list[float]) -> None:
    total = sum(weights)
    expected = sum((w / total) ** 2 for w in weights) if total > 0 else 0.0
    assert segments.herfindahl(np.array(weights, dtype=np.float64)) == pytest.approx(expected, rel=1e-12)


def test_herfindahl_by_hand() -> None:
    assert segments.herfindahl(np.array([1.0, 1.0, 1.0, 1.0])) == pytest.approx(0.25)
    assert segments.herfindahl(np.array([0.0, 7.0, 0.0])) == pytest.approx(1.0)
    assert segments.herfindahl(np.array([3.0, 1.0])) == pytest.approx(0.75**2 + 0.25**2)
    assert segments.herfindahl(np.zeros(4)) == 0.0


def test_reductions_of_empty_arrays_give_neutral_values() -> None:
    values = np.zeros(0)
    groups = np.zeros(0, dtype=np.intp)
    np.testing.assert_array_equal(segments.group_sum(values, groups, 3), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(segments.group_count(groups, 3), [0, 0, 0])
    assert np.isnan(segments.group_mean(values, groups, 3)).all()
    np.testing.assert_array_equal(segments.group_max(values, groups, 3), [-np.inf] * 3)
    np.testing.assert_array_equal(segments.group_argmax(values, groups, 3), [-1, -1, -1])
    assert segments.group_softmax(values, groups, 3).shape == (0,)
    assert segments.group_share(values, groups, 3).shape == (0,)
    bounds = segments.segment_bounds(groups, 3)
    np.testing.assert_array_equal(bounds, [0, 0, 0, 0])
    assert np.isnan(segments.segment_quantile(values, bounds, 0.5)).all()
    assert np.isnan(segments.segment_weighted_median(values, values, bounds)).all()


@given(grouped(), st.booleans())
def test_group_median_equals_numpy_median_per_group(data: tuple[np.ndarray, np.ndarray, int], contiguous: bool) -> None:
    values, groups, n = data
    if contiguous:  # the fast path for groups stored contiguously (firms by technology)
        values, groups = sort_by_group(values, groups)
    median = segments.group_median(values, groups, n)
    for g in range(n):
        idx = members(groups, g)
        if idx:
            assert median[g] == pytest.approx(float(np.median(values[idx])), rel=1e-12, abs=1e-12)
        else:
            assert np.isnan(median[g])
