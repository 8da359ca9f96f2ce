"""numba kernels (``cache=True``). Imported only when the compiled path is chosen.

Every kernel reproduces a NumPy reference exactly: sums run sequentially in index order
from 0.0 (as ``np.bincount`` with weights does), maxima follow ``np.maximum``'s rule, and
no kernel evaluates ``exp`` or ``log``. Loops over technology segments are ``prange``
loops (parallel in ``_parallel``): each iteration writes only its own segment and sums in
its own order, so results do not depend on the number of threads.

Sorting: NumPy's SIMD sorts beat numba's on large segments (rank of 100 000 values in 60
segments: 10 ms with NumPy's unstable sort and tie fallback, 26 ms compiled), but a Python
loop over segments costs more than the sorting when segments are small; ``ops`` picks by
the mean segment size (both give the same ranks). Top-k for small k is one scan per
segment keeping a k-long buffer instead of a partition.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# False here: one thread, fast to compile and to load. ``_parallel`` compiles this same source
# with True (and its own cache files) when NSWN_THREADS asks for more than one thread.
PARALLEL = False


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


@njit(cache=True)
def divide_by_group(values, totals, groups):  # type: ignore[no-untyped-def]
    """``values / totals[groups]``."""
    out = np.empty(len(values))
    for i in range(len(values)):
        out[i] = values[i] / totals[groups[i]]
    return out


@njit(cache=True, parallel=PARALLEL)
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


@njit(cache=True, parallel=PARALLEL)
def demography_totals(bounds, weight, capability, soe, loss_streak, exit_after, revenue, profit):  # type: ignore[no-untyped-def]
    """The per-technology totals entry and exit starts from, in one pass over sorted firms.

    Returns ``(count, best, exits, revenue, profit, leaving)``: real firms (sum of weights),
    best capability (``np.maximum.at`` rule, -inf when empty), real firms leaving, revenue
    and profit sums (each summed in index order from 0.0, as ``np.bincount``), and the mask of
    leaving agents (private with ``loss_streak >= exit_after``).
    """
    n_tech = len(bounds) - 1
    count = np.zeros(n_tech)
    best = np.full(n_tech, -np.inf)
    exits = np.zeros(n_tech)
    revenue_sum = np.zeros(n_tech)
    profit_sum = np.zeros(n_tech)
    leaving = np.zeros(len(weight), dtype=np.bool_)
    for g in prange(n_tech):
        c = 0.0
        b = -np.inf
        x = 0.0
        r = 0.0
        q = 0.0
        for i in range(bounds[g], bounds[g + 1]):
            w = weight[i]
            c += w
            v = capability[i]
            b = b if (b >= v or b != b) else v
            go = (not soe[i]) and loss_streak[i] >= exit_after
            leaving[i] = go
            x += (1.0 if go else 0.0) * w
            r += revenue[i]
            q += profit[i]
        count[g] = c
        best[g] = b
        exits[g] = x
        revenue_sum[g] = r
        profit_sum[g] = q
    return count, best, exits, revenue_sum, profit_sum, leaving


@njit(cache=True)
def _same(a, b):  # type: ignore[no-untyped-def]
    return a == b or (a != a and b != b)


@njit(cache=True)
def _rank_segment(values, lo, hi, ranks):  # type: ignore[no-untyped-def]
    """Ranks of ``values[lo:hi]`` into ``ranks[lo:hi]``, 0 for the largest (ties: lower index first).

    An unstable sort, then each run of equal keys put back in index order: exactly a stable
    sort of ``-values`` (NaN last, as NumPy sorts).
    """
    m = hi - lo
    if m <= 0:
        return
    keys = -values[lo:hi]
    order = np.argsort(keys)
    start = 0
    while start < m:
        end = start + 1
        first = keys[order[start]]
        while end < m and _same(keys[order[end]], first):
            end += 1
        if end - start > 1:
            order[start:end] = np.sort(order[start:end])
        start = end
    for j in range(m):
        ranks[lo + order[j]] = j


@njit(cache=True, parallel=PARALLEL)
def rank_sorted(values, bounds):  # type: ignore[no-untyped-def]
    """Rank within each contiguous segment, 0 for the largest (ties: lower index first)."""
    ranks = np.empty(len(values), dtype=np.intp)
    for g in prange(len(bounds) - 1):
        _rank_segment(values, bounds[g], bounds[g + 1], ranks)
    return ranks


@njit(cache=True)
def _top_by_partition(values, lo, hi, want, mask):  # type: ignore[no-untyped-def]
    """``segments.group_top`` on one segment, line by line (threshold by partition)."""
    size = hi - lo
    segment = values[lo:hi]
    threshold = np.partition(segment.copy(), size - want)[size - want]
    above = 0
    for i in range(size):
        if segment[i] > threshold:
            mask[lo + i] = True
            above += 1
    need = want - above
    for i in range(size):
        if need <= 0:
            break
        if segment[i] == threshold:
            mask[lo + i] = True
            need -= 1


@njit(cache=True)
def _top_by_scan(values, lo, hi, want, mask):  # type: ignore[no-untyped-def]
    """The ``want`` best of a NaN-free segment by (value descending, index ascending), in one
    scan keeping a small sorted buffer: the same set as the threshold rule."""
    best = np.empty(want)
    where = np.empty(want, dtype=np.intp)
    held = 0
    for i in range(lo, hi):
        v = values[i]
        if held == want and not v > best[held - 1]:
            continue
        j = held if held < want else want - 1
        while j > 0 and v > best[j - 1]:
            if j < want:
                best[j] = best[j - 1]
                where[j] = where[j - 1]
            j -= 1
        best[j] = v
        where[j] = i
        if held < want:
            held += 1
    for j in range(held):
        mask[where[j]] = True


@njit(cache=True, parallel=PARALLEL)
def top_sorted(values, bounds, limit):  # type: ignore[no-untyped-def]
    """Mask of the ``limit[g]`` largest values of each contiguous segment (ties: lower index
    first), exactly as ``segments.group_top``."""
    mask = np.zeros(len(values), dtype=np.bool_)
    for g in prange(len(bounds) - 1):
        lo = bounds[g]
        hi = bounds[g + 1]
        size = hi - lo
        want = min(limit[g], size)
        if want <= 0:
            continue
        if want == size:
            mask[lo:hi] = True
            continue
        has_nan = False
        for i in range(lo, hi):
            if values[i] != values[i]:
                has_nan = True
                break
        if want <= 16 and not has_nan:
            _top_by_scan(values, lo, hi, want, mask)
        else:
            _top_by_partition(values, lo, hi, want, mask)
    return mask


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
    divide_by_group(values, np.ones(2), groups)
    divide_by_group(values, np.ones(2), groups.astype(np.int16))
    pay_sorted(values, bounds, np.zeros(3, dtype=np.bool_), np.ones(2), np.ones(2), np.zeros(3))
    rank_sorted(values, bounds)
    top_sorted(values, bounds, np.array([1, 1], dtype=np.int64))
    demography_totals(
        bounds, values, values, np.zeros(3, dtype=np.bool_), np.zeros(3, dtype=np.int8), 3, values, values
    )
