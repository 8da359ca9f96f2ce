"""Per-group reductions over agent arrays (per technology, per province).

All functions take a value array and an integer group array of the same length and
return one value per group, computed with ``np.bincount`` or ufunc reductions — never
with a Python loop over agents. Empty groups get the documented neutral value.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def group_sum(
    values: NDArray[np.floating] | NDArray[np.bool_], groups: NDArray[np.integer], n_groups: int
) -> FloatArray:
    """Sum of ``values`` per group (0.0 for an empty group)."""
    return np.bincount(groups, weights=values, minlength=n_groups).astype(np.float64, copy=False)


def group_count(groups: NDArray[np.integer], n_groups: int) -> IntArray:
    """Number of members per group."""
    return np.bincount(groups, minlength=n_groups)


def group_mean(values: NDArray[np.floating], groups: NDArray[np.integer], n_groups: int) -> FloatArray:
    """Mean of ``values`` per group (NaN for an empty group)."""
    total = group_sum(values, groups, n_groups)
    count = group_count(groups, n_groups)
    out = np.full(n_groups, np.nan)
    np.divide(total, count, out=out, where=count > 0)
    return out


def group_max(values: NDArray[np.floating], groups: NDArray[np.integer], n_groups: int) -> FloatArray:
    """Maximum of ``values`` per group (-inf for an empty group)."""
    out = np.full(n_groups, -np.inf)
    np.maximum.at(out, groups, values)
    return out


def group_argmax(values: NDArray[np.floating], groups: NDArray[np.integer], n_groups: int) -> IntArray:
    """Index of the (first) maximum of ``values`` per group (-1 for an empty group)."""
    order = np.lexsort((-values, groups))  # by group, then descending value
    sorted_groups = groups[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_groups[1:] != sorted_groups[:-1]
    out = np.full(n_groups, -1, dtype=np.intp)
    out[sorted_groups[first]] = order[first]
    return out


def _sorted_bounds(groups: NDArray[np.integer], n_groups: int) -> IntArray | None:
    """Segment offsets when ``groups`` is sorted (firms by technology, institutions by field), else ``None``."""
    if len(groups) > 1 and np.any(groups[1:] < groups[:-1]):
        return None
    return segment_bounds(groups, n_groups)


def group_rank(values: NDArray[np.floating], groups: NDArray[np.integer], n_groups: int) -> IntArray:
    """Rank of each element within its group, 0 for the largest value (ties: lower index first)."""
    bounds = _sorted_bounds(groups, n_groups)
    ranks = np.empty(len(values), dtype=np.intp)
    if bounds is not None:
        # contiguous groups: one sort per group (the loop is over groups, not agents). The
        # unstable sort is several times faster; a group where it could have reordered ties
        # (equal keys, or NaN) is sorted again stably, so the ranks are exactly the stable ones.
        for g in range(n_groups):
            lo, hi = bounds[g], bounds[g + 1]
            if hi > lo:
                keys = -values[lo:hi]
                order = np.argsort(keys)
                if hi - lo > 1:
                    ordered = keys[order]
                    if np.isnan(ordered[-1]) or np.any(ordered[1:] == ordered[:-1]):
                        order = np.argsort(keys, kind="stable")
                ranks[lo + order] = np.arange(hi - lo)
        return ranks
    order = np.lexsort((-values, groups))  # stable: ties keep index order
    sorted_groups = groups[order]
    starts = np.zeros(n_groups + 1, dtype=np.intp)
    np.cumsum(np.bincount(sorted_groups, minlength=n_groups), out=starts[1:])
    ranks[order] = np.arange(len(values)) - starts[sorted_groups]
    return ranks


def group_top(
    values: NDArray[np.floating], groups: NDArray[np.integer], n_groups: int, k: NDArray[np.integer] | int
) -> NDArray[np.bool_]:
    """Mask of the ``k`` largest values of each group (``k`` a number or one per group).

    Ties at the k-th value are broken by index order, exactly as ``group_rank(...) < k``.
    """
    limit = np.broadcast_to(np.asarray(k), (n_groups,))
    bounds = _sorted_bounds(groups, n_groups)
    if bounds is None:
        by_rank: NDArray[np.bool_] = group_rank(values, groups, n_groups) < limit[groups]
        return by_rank
    mask = np.zeros(len(values), dtype=bool)
    for g in range(n_groups):
        lo, hi = bounds[g], bounds[g + 1]
        size, want = hi - lo, int(min(limit[g], hi - lo))
        if want <= 0:
            continue
        if want == size:
            mask[lo:hi] = True
            continue
        segment = values[lo:hi]
        threshold = np.partition(segment, size - want)[size - want]  # the want-th largest value
        above = np.flatnonzero(segment > threshold)
        ties = np.flatnonzero(segment == threshold)[: want - len(above)]
        mask[lo + above] = True
        mask[lo + ties] = True
    return mask


def group_softmax(scores: NDArray[np.floating], groups: NDArray[np.integer], n_groups: int) -> FloatArray:
    """Softmax of ``scores`` within each group: weights are positive and sum to 1 per group."""
    peak = group_max(scores, groups, n_groups)
    expo = np.exp(scores - peak[groups])
    out: FloatArray = expo / group_sum(expo, groups, n_groups)[groups]
    return out


def group_share(values: NDArray[np.floating], groups: NDArray[np.integer], n_groups: int) -> FloatArray:
    """``values`` divided by their group's sum (0 where the group's sum is 0)."""
    total = group_sum(values, groups, n_groups)[groups]
    out = np.zeros(len(values))
    np.divide(values, total, out=out, where=total > 0)
    return out


def segment_bounds(sorted_groups: NDArray[np.integer], n_groups: int) -> IntArray:
    """Start offsets (length ``n_groups + 1``) of each group in an array sorted by group."""
    bounds = np.zeros(n_groups + 1, dtype=np.intp)
    np.cumsum(np.bincount(sorted_groups, minlength=n_groups), out=bounds[1:])
    return bounds


def segment_quantile(sorted_values_by_group: FloatArray, bounds: IntArray, q: float) -> FloatArray:
    """Quantile ``q`` of each contiguous segment (NaN for an empty one).

    The loop runs over groups (technologies, ~60), not agents; each segment is reduced by
    NumPy.
    """
    n_groups = len(bounds) - 1
    out = np.full(n_groups, np.nan)
    for g in range(n_groups):
        lo, hi = bounds[g], bounds[g + 1]
        if hi > lo:
            out[g] = np.quantile(sorted_values_by_group[lo:hi], q)
    return out


def segment_weighted_median(sorted_values_by_group: FloatArray, weights: FloatArray, bounds: IntArray) -> FloatArray:
    """Weighted median of each contiguous segment: the value at which half the segment's
    weight is reached (NaN for an empty segment or one with zero weight).

    The loop runs over groups (technologies), not agents.
    """
    n_groups = len(bounds) - 1
    out = np.full(n_groups, np.nan)
    for g in range(n_groups):
        lo, hi = bounds[g], bounds[g + 1]
        w = weights[lo:hi]
        total = w.sum()
        if hi > lo and total > 0:
            values = sorted_values_by_group[lo:hi]
            # the unstable (SIMD) sort is several times faster; where it could have reordered
            # ties (equal values, or NaN) the segment is sorted again stably: the stable order
            order = np.argsort(values)
            ordered = values[order]
            if hi - lo > 1 and (np.isnan(ordered[-1]) or np.any(ordered[1:] == ordered[:-1])):
                order = np.argsort(values, kind="stable")
            cumulative = np.cumsum(w[order])
            out[g] = values[order][np.searchsorted(cumulative, 0.5 * total)]
    return out


def group_median(values: FloatArray, groups: NDArray[np.integer], n_groups: int) -> FloatArray:
    """Median of ``values`` per group (NaN for an empty group), as ``np.median`` of each group
    (the mean of the two middle values for an even count)."""
    out = np.full(n_groups, np.nan)
    bounds = _sorted_bounds(groups, n_groups)
    if bounds is not None:
        for g in range(n_groups):
            lo, hi = bounds[g], bounds[g + 1]
            if hi > lo:
                size = hi - lo
                middle = np.partition(values[lo:hi], [(size - 1) // 2, size // 2])
                out[g] = 0.5 * (middle[(size - 1) // 2] + middle[size // 2])
        return out
    order = np.lexsort((values, groups))
    ordered = values[order]
    counts = np.bincount(groups, minlength=n_groups)
    starts = np.zeros(n_groups, dtype=np.intp)
    np.cumsum(counts[:-1], out=starts[1:])
    present = counts > 0
    low = starts[present] + (counts[present] - 1) // 2
    high = starts[present] + counts[present] // 2
    out[present] = 0.5 * (ordered[low] + ordered[high])
    return out


def herfindahl(weights: NDArray[np.floating]) -> float:
    """Herfindahl–Hirschman index of non-negative weights (0 when all are zero)."""
    total = float(np.sum(weights))
    if total <= 0.0:
        return 0.0
    shares = weights / total
    return float(np.sum(shares * shares))
