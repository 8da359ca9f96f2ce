"""numba kernels (``cache=True``). Imported only when the compiled path is chosen.

Every kernel reproduces a NumPy reference exactly: sums run sequentially in index order
from 0.0 (as ``np.bincount`` with weights does), maxima follow ``np.maximum``'s rule, and
no kernel evaluates ``exp`` or ``log``. Loops over technology segments are ``prange``
loops: each iteration writes only its own segment and sums in its own order, so results
do not depend on the number of threads.

Sorting and selection (ranks, top-k, medians) stay in NumPy: its SIMD sorts and
``np.partition`` were faster than numba's on the same segments (measured: rank of 100 000
values in 60 segments 10 ms with NumPy's unstable sort and tie fallback, 26 ms compiled).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def sorted_bounds(groups, n_groups):  # type: ignore[no-untyped-def]
    """``(True, offsets)`` when ``groups`` is non-decreasing, else ``(False, empty)``; one pass."""
    n = len(groups)
    counts = np.zeros(n_groups + 1, dtype=np.intp)
    previous = groups[0] if n else 0
    for i in range(n):
        g = groups[i]
        if g < previous:
            return False, np.zeros(0, dtype=np.intp)
        previous = g
        counts[g + 1] += 1
    for g in range(n_groups):
        counts[g + 1] += counts[g]
    return True, counts


@njit(cache=True)
def group_max(values, groups, n_groups):  # type: ignore[no-untyped-def]
    """``np.maximum.at(full(-inf), groups, values)``: the same comparisons in the same order."""
    out = np.full(n_groups, -np.inf)
    for i in range(len(values)):
        g = groups[i]
        a = out[g]
        b = values[i]
        out[g] = a if (a >= b or a != a) else b
    return out


@njit(cache=True)
def group_sum(values, groups, n_groups):  # type: ignore[no-untyped-def]
    """``np.bincount(groups, weights=values)``: sequential sums in index order."""
    out = np.zeros(n_groups)
    for i in range(len(values)):
        out[groups[i]] += values[i]
    return out


@njit(cache=True, parallel=True)
def segment_sum(values, bounds):  # type: ignore[no-untyped-def]
    """Sum of each contiguous segment, sequential in index order (equal to ``np.bincount``)."""
    n_groups = len(bounds) - 1
    out = np.zeros(n_groups)
    for g in prange(n_groups):
        total = 0.0
        for i in range(bounds[g], bounds[g + 1]):
            total += values[i]
        out[g] = total
    return out


@njit(cache=True)
def divide_by_group(values, totals, groups):  # type: ignore[no-untyped-def]
    """``values / totals[groups]``."""
    out = np.empty(len(values))
    for i in range(len(values)):
        out[i] = values[i] / totals[groups[i]]
    return out


@njit(cache=True, parallel=True)
def pay_sorted(weights, bounds, soe, budget, efficiency, subsidy):  # type: ignore[no-untyped-def]
    """Pay ``budget[t]`` to each segment ∝ ``weights``; add ``amount · efficiency[t]`` to ``subsidy``.

    Returns the amounts booked per technology and ownership, ``(n_tech, 2)`` (private, SOE),
    each summed in index order like ``np.bincount(t * 2 + soe, amount)``.
    """
    n_tech = len(bounds) - 1
    by_owner = np.zeros((n_tech, 2))
    for g in prange(n_tech):
        lo = bounds[g]
        hi = bounds[g + 1]
        total = 0.0
        for i in range(lo, hi):
            total += weights[i]
        private = 0.0
        state = 0.0
        for i in range(lo, hi):
            share = weights[i] / total if total > 0 else 0.0
            amount = budget[g] * share
            subsidy[i] = subsidy[i] + amount * efficiency[g]
            if soe[i]:
                state += amount
            else:
                private += amount
        by_owner[g, 0] = private
        by_owner[g, 1] = state
    return by_owner


def warm_up() -> None:
    """Compile (or load from the cache) every kernel for the argument types the model uses."""
    groups = np.array([0, 0, 1], dtype=np.int32)
    values = np.array([1.0, 2.0, 3.0])
    ok, bounds = sorted_bounds(groups, 2)
    sorted_bounds(groups.astype(np.int64), 2)
    group_max(values, groups, 2)
    group_max(values, groups.astype(np.int16), 2)
    group_sum(values, groups, 2)
    group_sum(values, groups.astype(np.int16), 2)
    segment_sum(values, bounds)
    divide_by_group(values, np.ones(2), groups)
    divide_by_group(values, np.ones(2), groups.astype(np.int16))
    pay_sorted(values, bounds, np.zeros(3, dtype=np.bool_), np.ones(2), np.ones(2), np.zeros(3))
