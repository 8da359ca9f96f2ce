"""numba kernels (``cache=True``). Imported only when the compiled path is chosen.

Every kernel reproduces a NumPy reference exactly: sums run sequentially in index order
from 0.0 (as ``np.bincount`` with weights does), maxima follow ``np.maximum``'s rule, and
no kernel evaluates ``exp`` or ``log``. Loops over technology segments are ``prange``
loops (parallel in ``_parallel``): each iteration writes only its own segment and sums in
its own order, so results do not depend on the number of threads.

Sorting: NumPy's SIMD sorts beat numba's on large segments (rank of 100 000 values in 60
segments: 10 ms with NumPy's unstable sort and tie fallback, 26 ms compiled; one segment of
2 937 values: 56 us against 500 us), but a Python loop over segments costs more than the
sorting when segments are small. ``ops`` picks by the mean segment size (both give the same
ranks), and the rank and weighted-median kernels take NumPy's unstable order of each long
segment as an argument (short ones are sorted here by insertion), then put equal keys back
in index order. Top-k for small k is one scan per segment keeping a k-long buffer instead of
a partition.
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
        out[g] = a if (a > b or a != a) else b  # a tie of zeros: b, as NumPy
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
            b = b if (b > v or b != b) else v
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


# segments up to this length are sorted by insertion (stable, no allocation but the result);
# numba's argsort costs more on short arrays and ~10x NumPy's on long ones
INSERTION_UP_TO = 48


@njit(cache=True)
def _less(a, b):  # type: ignore[no-untyped-def]
    """NumPy's ``<`` for sorting and ``searchsorted``: NaN after every number."""
    return a < b or (b != b and a == a)


@njit(cache=True)
def _insertion_order(keys):  # type: ignore[no-untyped-def]
    """The stable ascending order of ``keys`` (NaN last, as NumPy sorts), by insertion: a later
    key passes only strictly greater ones."""
    m = len(keys)
    rank = np.empty(m, dtype=np.intp)
    for j in range(m):
        v = keys[j]
        i = j
        while i > 0 and _less(v, keys[rank[i - 1]]):
            rank[i] = rank[i - 1]
            i -= 1
        rank[i] = j
    return rank


@njit(cache=True)
def _ties_in_index_order(keys, order):  # type: ignore[no-untyped-def]
    """Put each run of equal keys (``-0.0 == 0.0``, NaN with NaN) of a sorted order back in index
    order, in place: an unstable ``argsort`` becomes the stable one."""
    m = len(order)
    start = 0
    while start < m:
        end = start + 1
        first = keys[order[start]]
        while end < m and _same(keys[order[end]], first):
            end += 1
        if end - start > 1:
            order[start:end] = np.sort(order[start:end])
        start = end


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
    if m <= INSERTION_UP_TO:
        order = _insertion_order(keys)
        for j in range(m):
            ranks[lo + order[j]] = j
        return
    order = np.argsort(keys)
    _ties_in_index_order(keys, order)
    for j in range(m):
        ranks[lo + order[j]] = j


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
    scan keeping a small sorted buffer (``_top_of`` over the segment's positions)."""
    _top_of(values, np.arange(lo, hi), want, mask)


@njit(cache=True, parallel=PARALLEL)
def top_sorted(values, bounds, limit):  # type: ignore[no-untyped-def]
    """Mask of the ``limit[g]`` largest values of each contiguous segment (ties: lower index
    first), exactly as ``segments.group_top``."""
    mask = np.zeros(len(values), dtype=np.bool_)
    for g in prange(len(bounds) - 1):
        _top_segment(values, bounds[g], bounds[g + 1], limit[g], mask)
    return mask


@njit(cache=True)
def _percentile(rank, size):  # type: ignore[no-untyped-def]
    """``np.where(size > 1, 1.0 - rank / np.maximum(size - 1, 1), 1.0)`` for one value."""
    if size > 1:
        return 1.0 - rank / max(size - 1, 1)
    return 1.0


_BUCKETS = 1024


@njit(cache=True)
def _bucket(v, low, scale):  # type: ignore[no-untyped-def]
    """Bucket of ``v``: non-decreasing in ``v`` (rounding is monotone), in ``[0, _BUCKETS)``."""
    b = int((v - low) * scale)
    return min(max(b, 0), _BUCKETS - 1)


@njit(cache=True)
def _count_ranks(values, lo, hi, candidates, ranks, budget):  # type: ignore[no-untyped-def]
    """Exact ranks (0 for the largest; ties: lower index first) of ``candidates`` (increasing
    positions in ``[lo, hi)``) within the finite, NaN-free segment ``values[lo:hi]``, without sorting it.

    ``rank_i = #{j: v_j > v_i} + #{j < i: v_j == v_i}``. Values are put in buckets by a
    non-decreasing map, so a member of a higher bucket than a candidate's is above it and one
    of a lower bucket below; only members sharing a candidate's bucket are compared. Returns
    ``False`` (``ranks`` then unusable) when that would cost more than ``budget`` comparisons.
    """
    low = values[lo]
    high = values[lo]
    for j in range(lo, hi):
        v = values[j]
        low = v if v < low else low
        high = v if v > high else high
    width = high - low
    if not (width > 0.0 and width < np.inf):
        return False
    scale = _BUCKETS / width
    count = np.zeros(_BUCKETS + 1, dtype=np.intp)
    for j in range(lo, hi):
        count[_bucket(values[j], low, scale)] += 1
    above = np.zeros(_BUCKETS + 1, dtype=np.intp)  # members in buckets above b
    for b in range(_BUCKETS - 1, -1, -1):
        above[b] = above[b + 1] + count[b + 1]
    m = len(candidates)
    # candidates grouped by bucket (a small CSR)
    cb = np.empty(m, dtype=np.intp)
    starts = np.zeros(_BUCKETS + 1, dtype=np.intp)
    for q in range(m):
        cb[q] = _bucket(values[candidates[q]], low, scale)
        starts[cb[q] + 1] += 1
    for b in range(_BUCKETS):
        starts[b + 1] += starts[b]
    fill = starts[:-1].copy()
    members = np.empty(m, dtype=np.intp)
    for q in range(m):
        members[fill[cb[q]]] = q
        fill[cb[q]] += 1
    for q in range(m):
        ranks[q] = above[cb[q]]
    spent = 0
    for j in range(lo, hi):
        v = values[j]
        b = _bucket(v, low, scale)
        first = starts[b]
        last = starts[b + 1]
        if last > first:
            spent += last - first
            if spent > budget:
                return False
            for r in range(first, last):
                q = members[r]
                c = candidates[q]
                w = values[c]
                if v > w or (v == w and j < c):
                    ranks[q] += 1
    return True


@njit(cache=True)
def _top_of(score, positions, want, mask):  # type: ignore[no-untyped-def]
    """Mark the ``want`` best of ``score[positions]`` (positions increasing; NaN-free) by
    (score descending, position ascending): the rule of ``segments.group_top``."""
    best = np.empty(want)
    where = np.empty(want, dtype=np.intp)
    held = 0
    for q in range(len(positions)):
        i = positions[q]
        v = score[i]
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


@njit(cache=True)
def _challenge_full(capability, noise, lo, hi, alignment, sigma, want, ranks, score, mask):  # type: ignore[no-untyped-def]
    """Every bid of one segment scored from the full ranks; the ``want`` best marked."""
    size = hi - lo
    _rank_segment(capability, lo, hi, ranks)
    has_nan = False
    for i in range(lo, hi):
        score[i] = (_percentile(ranks[i], size) + alignment) + sigma * noise[i]
        if score[i] != score[i]:
            has_nan = True
    if want == size:
        mask[lo:hi] = True
    elif want <= 16 and not has_nan:
        _top_by_scan(score, lo, hi, want, mask)
    else:
        _top_by_partition(score, lo, hi, want, mask)


@njit(cache=True, parallel=PARALLEL)
def challenge_top(capability, noise, bounds, alignment, sigma, k):  # type: ignore[no-untyped-def]
    """Firms' open-challenge bids: the ``k`` best per technology segment, without ranking every firm.

    A firm's bid is ``(percentile + alignment) + sigma · noise`` with its capability
    percentile in its technology (``1 − rank / (n − 1)``, rank 0 the best, ties by index);
    returns the mask of each segment's ``min(k, n)`` best bids (ties: lower index first) and
    the bids (valid where the mask is set), exactly as ranking every firm and then
    ``segments.group_top``. The percentile is at most 1, so a firm whose bid with percentile
    1 stays below a bid already known cannot win: the firms with the largest noise are
    ranked exactly first (their bids give a lower bound on the k-th best bid), then only the
    firms that could still reach it. Segments where this would not prune (small, noiseless,
    NaN capability, many ties) are ranked in full.
    """
    n = len(capability)
    mask = np.zeros(n, dtype=np.bool_)
    score = np.zeros(n)
    ranks = np.zeros(n, dtype=np.intp)
    top = 1.0 + alignment
    for g in prange(len(bounds) - 1):
        lo = bounds[g]
        hi = bounds[g + 1]
        size = hi - lo
        want = min(k, size)
        if want <= 0:
            continue
        clean = True
        for i in range(lo, hi):
            if capability[i] != capability[i] or noise[i] != noise[i]:
                clean = False
                break
        if want == size or size <= 64 or 16 * want > size or not clean or not sigma > 0.0:
            _challenge_full(capability, noise, lo, hi, alignment, sigma, want, ranks, score, mask)
            continue
        # 1. the firms with the largest noise, ranked exactly: a lower bound on the want-th bid
        # the cut: about the first-largest noise, estimated on every 16th firm (any cut serves
        # the bound as long as at least ``want`` firms reach it; else the exact one is taken)
        first = min(size, 8 * want + 56)
        sample = noise[lo:hi:16].copy()
        keep = max(first // 16, want)
        cut = np.partition(sample, len(sample) - keep)[len(sample) - keep] if keep < len(sample) else -np.inf
        picked = 0
        for i in range(lo, hi):
            if noise[i] >= cut:
                picked += 1
        if picked < want or picked > 8 * first:
            cut = np.partition(noise[lo:hi].copy(), size - first)[size - first]
            picked = 0
            for i in range(lo, hi):
                if noise[i] >= cut:
                    picked += 1
        lucky = np.empty(picked, dtype=np.intp)
        picked = 0
        for i in range(lo, hi):
            if noise[i] >= cut:
                lucky[picked] = i
                picked += 1
        lucky_ranks = np.empty(picked, dtype=np.intp)
        if not _count_ranks(capability, lo, hi, lucky, lucky_ranks, 4 * size):
            _challenge_full(capability, noise, lo, hi, alignment, sigma, want, ranks, score, mask)
            continue
        bids = np.empty(picked)
        for q in range(picked):
            bids[q] = (_percentile(lucky_ranks[q], size) + alignment) + sigma * noise[lucky[q]]
        bound = np.partition(bids.copy(), picked - want)[picked - want]  # the want-th best bid known
        if top + sigma * cut < bound:
            # every other firm's noise is below the cut, so its bid stays below the bound
            for q in range(picked):
                score[lucky[q]] = bids[q]
            _top_of(score, lucky, want, mask)
            continue
        # 2. every firm whose bid could reach that bound, ranked exactly
        able = 0
        for i in range(lo, hi):
            if top + sigma * noise[i] >= bound:
                able += 1
        if 4 * able > size:
            _challenge_full(capability, noise, lo, hi, alignment, sigma, want, ranks, score, mask)
            continue
        reach = np.empty(able, dtype=np.intp)
        able = 0
        for i in range(lo, hi):
            if top + sigma * noise[i] >= bound:
                reach[able] = i
                able += 1
        reach_ranks = np.empty(able, dtype=np.intp)
        if not _count_ranks(capability, lo, hi, reach, reach_ranks, 4 * size):
            _challenge_full(capability, noise, lo, hi, alignment, sigma, want, ranks, score, mask)
            continue
        for q in range(able):
            i = reach[q]
            score[i] = (_percentile(reach_ranks[q], size) + alignment) + sigma * noise[i]
        _top_of(score, reach, want, mask)
    return mask, score


def warm_up() -> None:
    """Compile (or load from the cache) every kernel for the argument types the model uses."""
    groups = np.array([0, 0, 1], dtype=np.int32)
    values = np.array([1.0, 2.0, 3.0])
    ok, bounds = sorted_bounds(groups, 2)
    sorted_bounds(groups.astype(np.int64), 2)
    group_max(values, groups, 2)
    group_max(values, groups.astype(np.int16), 2)
    group_max(values, groups.astype(np.int64), 2)
    group_sum(values, groups, 2)
    group_sum(values, groups.astype(np.int16), 2)
    divide_by_group(values, np.ones(2), groups)
    divide_by_group(values, np.ones(2), groups.astype(np.int16))
    pay_sorted(values, bounds, np.zeros(3, dtype=np.bool_), np.ones(2), np.ones(2), np.zeros(3))
    top_sorted(values, bounds, np.array([1, 1], dtype=np.int64))
    challenge_top(values, values, bounds, 0.3, 0.3, 1)
    demography_totals(
        bounds, values, values, np.zeros(3, dtype=np.bool_), np.zeros(3, dtype=np.int8), 3, values, values
    )
    warm_up_firm_layer()  # defined in the innovation and markets section below
    warm_up_allocation()  # defined in the local allocation section below
    warm_up_national_teams()  # defined in the national teams section below
    warm_up_indicators()  # defined in the indicators and trade friction section below


# ---- innovation and markets ----
# Fused per-firm passes of ``mechanisms.innovation`` and ``mechanisms.markets``. Each line
# repeats its NumPy reference's operations in the same association order; ``exp``, ``expm1``,
# ``log`` and ``log1p`` are applied by NumPy between the passes (the kernels return their
# arguments and take their results). ``np.maximum(a, b)`` is ``a if (a >= b or a != a) else b``
# and ``np.minimum(a, b)`` is ``a if (a < b or a != a) else b``: NaN propagates and the second
# argument wins a tie, so ``max(-0.0, 0.0)`` is ``0.0`` and ``max(0.0, -0.0)`` is ``-0.0``, as
# NumPy 2.4 gives on x86 (its SIMD loops follow ``maxpd``/``minpd``; pinned by
# tests/test_kernels_firm_layer.py). ``error_model="numpy"``:
# a division by zero gives ±inf or NaN, as in NumPy, instead of raising.


@njit(cache=True, error_model="numpy")
def _np_max(a, b):  # type: ignore[no-untyped-def]
    return a if (a > b or a != a) else b


@njit(cache=True, error_model="numpy")
def _np_min(a, b):  # type: ignore[no-untyped-def]
    return a if (a < b or a != a) else b


@njit(cache=True, error_model="numpy")
def innovation_terms(  # type: ignore[no-untyped-def]
    technology,
    revenue,
    subsidy,
    soe,
    weight,
    capability,
    founder,
    partner,
    half_of,
    frontier,
    rho,
    bonus,
    knowledge,
    required,
    science,
    params,
    boosted,
):
    """First pass of ``Innovation.step``: R&D, RD½, one member's R&D, the gate and the
    arguments of the two ``expm1`` calls, per firm.

    ``params``: ``(rd_share_private, rd_share_soe, soe_rd_efficiency, innovation_rate,
    soe_entrepreneurship, founder_entrepreneurship, transfer_efficiency,
    paired_transfer_efficiency)``; ``boosted``: the two founder codes with the founder drive.
    Returns ``(rd, member_rd, half, gate, gap_arg, intensity_arg)``: ``gap_arg =
    −max(0, F_t − c_i)`` (``catch_up_gap`` is ``−expm1(gap_arg)``) and ``intensity_arg = −intensity``.
    """
    n = len(technology)
    share_private, share_soe, soe_efficiency, rate = params[0], params[1], params[2], params[3]
    drive_soe, drive_founder, tau_lone, tau_pair = params[4], params[5], params[6], params[7]
    rd = np.empty(n)
    member = np.empty(n)
    half = np.empty(n)
    gate = np.empty(n)
    gap_arg = np.empty(n)
    intensity_arg = np.empty(n)
    for i in range(n):
        t = technology[i]
        state_owned = soe[i]
        own_share = share_soe if state_owned else share_private
        efficiency = soe_efficiency if state_owned else 1.0
        r = (own_share * revenue[i] + subsidy[i]) * efficiency
        rd[i] = r
        h = half_of[t]
        half[i] = h
        m = r / weight[i]
        member[i] = m
        gap_arg[i] = -_np_max(0.0, frontier[t] - capability[i])
        f = founder[i]
        if state_owned:
            owner = drive_soe
        elif f == boosted[0] or f == boosted[1]:
            owner = drive_founder
        else:
            owner = 1.0
        entrepreneurship = 1.0 - rho[t] * (1.0 - owner)
        tau = (tau_pair if partner[i] >= 0 else tau_lone) + bonus[t]
        ratio = knowledge[t] / required[t]
        b = science[t]
        k = (1.0 - b) + b * _np_min(1.0, tau * ratio)
        gate[i] = k
        intensity_arg[i] = -((((rate * entrepreneurship) * k) * m) / h)
    return rd, member, half, gate, gap_arg, intensity_arg


@njit(cache=True, error_model="numpy")
def innovation_steps(  # type: ignore[no-untyped-def]
    technology,
    n_tech,
    member,
    half,
    gap_expm1,
    chance_expm1,
    uniform,
    normal,
    capability,
    emulability,
    access,
    emulation_rate,
    step_mean,
    step_sd,
):
    """Second pass of ``Innovation.step``: emulation, innovation, the capability after the
    step, and the best capability per technology before and after it (``np.maximum.at``'s rule,
    −inf for a technology without firms).

    ``gap_expm1`` and ``chance_expm1`` are ``expm1(gap_arg)`` and ``expm1(intensity_arg)`` of
    :func:`innovation_terms`. Returns ``(emulation, innovation, after, best_before, best_after)``.
    """
    n = len(technology)
    emulation = np.empty(n)
    innovation = np.empty(n)
    after = np.empty(n)
    best_before = np.full(n_tech, -np.inf)
    best_after = np.full(n_tech, -np.inf)
    for i in range(n):
        t = technology[i]
        m = member[i]
        absorptive = m / (m + half[i])
        e = (((emulation_rate * emulability[t]) * access[t]) * absorptive) * (-gap_expm1[i])
        emulation[i] = e
        draw = step_mean + step_sd * normal[i]
        step = draw if (uniform[i] < -chance_expm1[i] and draw > 0.0) else 0.0
        innovation[i] = step
        c = capability[i]
        a = c + (e + step)
        after[i] = a
        best_before[t] = _np_max(best_before[t], c)
        best_after[t] = _np_max(best_after[t], a)
    return emulation, innovation, after, best_before, best_after


@njit(cache=True, parallel=PARALLEL, error_model="numpy")
def market_experience(bounds, weight, output, china_output, scale, spillover):  # type: ignore[no-untyped-def]
    """``Q^eff_i / Q0_t`` per firm (``markets.experience`` over ``output_scale``; ``log1p`` is
    applied by NumPy): ``(φ Q^CN_t + (((1 − φ) n_t) Q_i) / w_i) / Q0_t`` with ``n_t`` the
    segment's weights summed in index order from 0.0 (as ``np.bincount``)."""
    x = np.empty(len(weight))
    for g in prange(len(bounds) - 1):
        lo = bounds[g]
        hi = bounds[g + 1]
        count = 0.0
        for i in range(lo, hi):
            count += weight[i]
        industry = spillover * china_output[g]
        own = (1.0 - spillover) * count
        for i in range(lo, hi):
            x[i] = (industry + (own * output[i]) / weight[i]) / scale[g]
    return x


@njit(cache=True, parallel=PARALLEL, error_model="numpy")
def market_competitiveness(  # type: ignore[no-untyped-def]
    bounds, capability, learned, log_weight, log_foreign, labour, learning, capability_weight, cost_weight, elasticity
):
    """Firms' log competitiveness relative to each technology's peak, in both uses.

    ``ln E_i = σ_c c_i − σ_p (w − ℓ learned_i)`` (``learned = log1p(Q^eff/Q0)``). Returns
    ``(share_arg, export_arg, share_peak, export_peak)``: ``share_arg = (ln E_i + ln w_i) − P_t``
    with ``P_t = max(max_i (ln E_i + ln w_i), ln E^f_t)`` (0 where not finite), the argument
    of ``exp`` in ``markets._relative`` under the logit rule, and ``export_arg = σ_w (ln E_i − P'_t)``
    with ``P'_t = max_i ln E_i`` (0 where not finite), that of ``markets.china_composite``.
    """
    n = len(capability)
    n_tech = len(bounds) - 1
    log_e = np.empty(n)
    share_arg = np.empty(n)
    export_arg = np.empty(n)
    share_peak = np.empty(n_tech)
    export_peak = np.empty(n_tech)
    for g in prange(n_tech):
        lo = bounds[g]
        hi = bounds[g + 1]
        top = -np.inf
        top_weighted = -np.inf
        for i in range(lo, hi):
            v = capability_weight * capability[i] - cost_weight * (labour - learning * learned[i])
            log_e[i] = v
            top = _np_max(top, v)
            top_weighted = _np_max(top_weighted, v + log_weight[i])
        p = _np_max(top_weighted, log_foreign[g])
        p = p if (p == p and p != np.inf and p != -np.inf) else 0.0
        q = top if (top == top and top != np.inf and top != -np.inf) else 0.0
        share_peak[g] = p
        export_peak[g] = q
        for i in range(lo, hi):
            v = log_e[i]
            share_arg[i] = (v + log_weight[i]) - p
            export_arg[i] = elasticity * (v - q)
    return share_arg, export_arg, share_peak, export_peak


@njit(cache=True, parallel=PARALLEL, error_model="numpy")
def market_logit_shares(bounds, share, relative, shifted, foreign, speed):  # type: ignore[no-untyped-def]
    """Logit partial adjustment of firm shares and China's export weights, per segment.

    ``relative = exp(share_arg)``, ``shifted = exp(export_arg)`` (:func:`market_competitiveness`),
    ``foreign = e^f_t``. As ``markets.adjust_logit`` then ``markets.china_composite``: total
    ``T_t = Σ e_i + e^f_t`` (sum in index order from 0.0), new share ``(1 − χ) s_i + (χ e_i) / T_t``
    (``T_t`` replaced by 1 where not positive), within-China share ``s_i / Σ s``, part
    ``within · shifted``, composite ``Σ part`` and export weight ``part / composite`` (0 where a
    total is not positive). Returns ``(new_share, weights, total, composite)``.
    """
    n = len(share)
    n_tech = len(bounds) - 1
    new_share = np.empty(n)
    weights = np.empty(n)
    part = np.empty(n)
    totals = np.empty(n_tech)
    composite = np.empty(n_tech)
    keep = 1.0 - speed
    for g in prange(n_tech):
        lo = bounds[g]
        hi = bounds[g + 1]
        total = 0.0
        for i in range(lo, hi):
            total += relative[i]
        total = total + foreign[g]
        totals[g] = total
        safe = total if total > 0 else 1.0
        china = 0.0
        for i in range(lo, hi):
            s = keep * share[i] + (speed * relative[i]) / safe
            new_share[i] = s
            china += s
        c = 0.0
        for i in range(lo, hi):
            within = new_share[i] / china if china > 0 else 0.0
            x = within * shifted[i]
            part[i] = x
            c += x
        composite[g] = c
        for i in range(lo, hi):
            weights[i] = part[i] / c if c > 0 else 0.0
    return new_share, weights, totals, composite


@njit(cache=True, parallel=PARALLEL, error_model="numpy")
def market_settle(  # type: ignore[no-untyped-def]
    bounds, weights, share, china_exports, demand, margin, fixed, weight, loss_streak, output, soe, deflator
):
    """Exports, revenue, profit, loss streaks and output per firm (``markets.trade``'s last
    line and ``markets.settle``); ``output`` is updated in place.

    Returns ``(exports, revenue, profit, streak, produced_sum, soe_loss, soe_loss_count)``:
    ``produced_sum`` per technology (in index order from 0.0), and the profits of losing SOEs
    in index order in ``soe_loss[:soe_loss_count]`` (NumPy sums them, as the reference does).
    """
    n = len(weights)
    n_tech = len(bounds) - 1
    exports = np.empty(n)
    revenue = np.empty(n)
    profit = np.empty(n)
    streak = np.empty(n, dtype=np.int8)
    produced_sum = np.empty(n_tech)
    losing_soe = np.zeros(n, dtype=np.bool_)
    for g in prange(n_tech):
        lo = bounds[g]
        hi = bounds[g + 1]
        total = 0.0
        for i in range(lo, hi):
            x = china_exports[g] * weights[i]
            exports[i] = x
            r = share[i] * demand[g] + x
            revenue[i] = r
            p = margin[g] * r - fixed[g] * weight[i]
            profit[i] = p
            if p < 0:
                streak[i] = min(loss_streak[i] + 1, 100)
                losing_soe[i] = soe[i]
            else:
                streak[i] = 0
            made = r / deflator
            output[i] += made
            total += made
        produced_sum[g] = total
    soe_loss = np.empty(n)
    m = 0
    for i in range(n):
        if losing_soe[i]:
            soe_loss[m] = profit[i]
            m += 1
    return exports, revenue, profit, streak, produced_sum, soe_loss, m


def warm_up_firm_layer() -> None:
    """Compile (or load) the innovation and market kernels for the argument types the model uses."""
    technology = np.array([0, 0, 1], dtype=np.int32)
    bounds = np.array([0, 2, 3], dtype=np.intp)
    values = np.array([1.0, 2.0, 3.0])
    per_tech = np.ones(2)
    flags = np.zeros(3, dtype=np.bool_)
    terms = innovation_terms(
        technology,
        values,
        values,
        flags,
        values,
        values,
        np.zeros(3, dtype=np.int8),
        np.full(3, -1, dtype=np.int32),
        per_tech,
        per_tech,
        per_tech,
        per_tech,
        per_tech,
        per_tech,
        per_tech,
        np.ones(8),
        np.array([2, 3], dtype=np.int64),
    )
    innovation_steps(
        technology, 2, terms[1], terms[2], terms[4], terms[5], values, values, values, per_tech, per_tech, 0.1, 0.0, 0.1
    )
    learned = market_experience(bounds, values, values, per_tech, per_tech, 0.8)
    relative, shifted, _, _ = market_competitiveness(bounds, values, learned, values, per_tech, 0.0, 0.3, 3.0, 2.0, 1.5)
    share, weights, _, _ = market_logit_shares(bounds, values, relative, shifted, per_tech, 0.5)
    market_settle(
        bounds,
        weights,
        share,
        per_tech,
        per_tech,
        per_tech,
        per_tech,
        values,
        np.zeros(3, dtype=np.int8),
        values.copy(),
        flags,
        1.0,
    )


# ---- local allocation and instruments ----
# Fused passes for ``mechanisms.local_allocation``, ``instruments.innovation_associations`` and
# ``instruments.megaprojects``. The mechanisms draw their variates and take ``exp``/``log``
# in NumPy and pass the arrays in; every sum that NumPy computes pairwise (``ndarray.sum``)
# stays in NumPy, and only ``np.bincount``-style sums (sequential, index order) are done here.


@njit(cache=True)
def local_signals(
    exports,
    share,
    demand,
    technology,
    referee_factor,
    log_revenue,
    soe,
    local,
    province,
    n_prov,
    weight,
    soe_bias,
    noise,
    sharpness,
):  # type: ignore[no-untyped-def]  # noqa: E501
    """The referee's measured scores and the provinces' softmax arguments, in one pass.

    Returns ``(measured, shifted, count)``: ``measured = (x + (λ_s · s) · D[t]) · referee_factor``;
    ``shifted = signal − max_province(signal)`` with
    ``signal = β_loc · ((ln_revenue + b_SOE · SOE) + σ_loc · ε)`` and the maximum taken by
    ``np.maximum.at``'s rule in index order (NaN wins); ``count`` the firms per province
    (``np.bincount``). ``exp`` of ``shifted`` is left to NumPy.
    """
    n = len(exports)
    measured = np.empty(n)
    shifted = np.empty(n)
    peak = np.full(n_prov, -np.inf)
    count = np.zeros(n_prov, dtype=np.intp)
    for i in range(n):
        measured[i] = (exports[i] + weight * share[i] * demand[technology[i]]) * referee_factor[i]
        signal = sharpness * ((log_revenue[i] + soe_bias * (1.0 if soe[i] else 0.0)) + noise * local[i])
        shifted[i] = signal
        p = province[i]
        count[p] += 1
        a = peak[p]
        peak[p] = a if (a >= signal or a != a) else signal
    for i in range(n):
        shifted[i] = shifted[i] - peak[province[i]]
    return measured, shifted, count


@njit(cache=True)
def local_payments(measured, expo, province, provincial, pooled, total, technology, soe, n_tech, subsidy):  # type: ignore[no-untyped-def]
    """Pool and provincial payments; adds ``pool + local`` to ``subsidy`` in place.

    ``pool = pooled · measured / total`` (0 unless ``total > 0``), ``local = provincial[p] ·
    (expo / Σ_p expo)`` with the province sums in index order (``np.bincount``). Returns
    ``(pool, local, pool_by_owner, local_by_owner)``, the last two ``(n_tech, 2)`` (private,
    SOE) summed in index order as ``np.bincount(t · 2 + soe, amount)``.
    """
    n = len(measured)
    sums = np.zeros(len(provincial))
    for i in range(n):
        sums[province[i]] += expo[i]
    pool = np.empty(n)
    local = np.empty(n)
    pool_by_owner = np.zeros((n_tech, 2))
    local_by_owner = np.zeros((n_tech, 2))
    use_pool = total > 0
    for i in range(n):
        p = province[i]
        a = pooled * measured[i] / total if use_pool else 0.0
        b = provincial[p] * (expo[i] / sums[p])
        pool[i] = a
        local[i] = b
        subsidy[i] = subsidy[i] + (a + b)
        owner = 1 if soe[i] else 0
        pool_by_owner[technology[i], owner] += a
        local_by_owner[technology[i], owner] += b
    return pool, local, pool_by_owner, local_by_owner


@njit(cache=True)
def _top_segment(values, lo, hi, want, mask):  # type: ignore[no-untyped-def]
    """One segment of ``top_sorted`` (also used by the associations kernel): mark the ``want``
    largest of ``values[lo:hi]`` (ties: lower index)."""
    size = hi - lo
    want = min(want, size)
    if want <= 0:
        return
    if want == size:
        mask[lo:hi] = True
        return
    has_nan = False
    for i in range(lo, hi):
        if values[i] != values[i]:
            has_nan = True
            break
    if want <= 16 and not has_nan:
        _top_by_scan(values, lo, hi, want, mask)
    else:
        _top_by_partition(values, lo, hi, want, mask)


@njit(cache=True, parallel=PARALLEL)
def association_members(log_revenue, neg_gumbel, bounds, pairs):  # type: ignore[no-untyped-def]
    """Each technology's ``pairs[t]`` firms with the largest key ``ln_revenue + (−neg_gumbel)``.

    Exactly ``group_top(key, t, n_tech, pairs) & (pairs[t] > 0)``; keys are formed only in
    segments that choose someone. Returns ``(mask, weights)``, ``weights`` the mask as floats.
    """
    n = len(log_revenue)
    mask = np.zeros(n, dtype=np.bool_)
    key = np.empty(n)
    for g in prange(len(bounds) - 1):
        lo = bounds[g]
        hi = bounds[g + 1]
        if pairs[g] <= 0 or hi <= lo:
            continue
        for i in range(lo, hi):
            key[i] = log_revenue[i] + (-neg_gumbel[i])
        _top_segment(key, lo, hi, pairs[g], mask)
    weights = np.empty(n)
    for i in range(n):
        weights[i] = 1.0 if mask[i] else 0.0
    return mask, weights


@njit(cache=True, parallel=PARALLEL)
def megaproject_weights(revenue, soe, bounds, route, leaders):  # type: ignore[no-untyped-def]
    """Firm weights of the megaprojects: ``r · e + 1e-12 · e`` with ``r = max(revenue, 0)``.

    ``e`` (eligible) by the technology's ``route``: 0 every firm, 1 SOEs, 2 the ``leaders``
    largest private firms by ``r`` (``group_top`` of ``where(soe, −inf, r)``, ties by index,
    then SOEs removed); the top-k is taken only in route-2 segments.
    """
    n = len(revenue)
    r = np.empty(n)
    weights = np.empty(n)
    mask = np.zeros(n, dtype=np.bool_)
    for g in prange(len(bounds) - 1):
        lo = bounds[g]
        hi = bounds[g + 1]
        kind = route[g]
        for i in range(lo, hi):
            v = revenue[i]
            r[i] = v if (v >= 0.0 or v != v) else 0.0
        if kind == 2:
            for i in range(lo, hi):
                weights[i] = -np.inf if soe[i] else r[i]  # scratch: the ranking values
            _top_segment(weights, lo, hi, leaders, mask)
        for i in range(lo, hi):
            if kind == 0:
                e = 1.0
            elif kind == 1:
                e = 1.0 if soe[i] else 0.0
            else:
                e = 1.0 if (mask[i] and not soe[i]) else 0.0
            weights[i] = r[i] * e + 1e-12 * e
    return weights


def warm_up_allocation() -> None:
    """Compile (or load) the kernels of this section for the argument types the model uses."""
    t = np.array([0, 0, 1], dtype=np.int32)
    province = np.array([1, 0, 1], dtype=np.int16)
    values = np.array([1.0, 2.0, 3.0])
    soe = np.array([False, True, False])
    bounds = np.array([0, 2, 3], dtype=np.intp)
    measured, shifted, _ = local_signals(
        values, values, np.ones(2), t, values, values, soe, values, province, 2, 1.0, 1.0, 1.0, 1.0
    )
    local_payments(measured, np.exp(shifted), province, np.ones(2), 1.0, 6.0, t, soe, 2, np.zeros(3))
    association_members(values, values, bounds, np.array([1, 1], dtype=np.int64))
    megaproject_weights(values, soe, bounds, np.array([2, 1], dtype=np.int64), 1)


# ---- national teams ----
# The tournament of ``instruments.national_teams.select_team`` (model.md §6.8) in one pass over
# each priority technology's segment. The referee's noise is drawn by the mechanism's generator
# and ``exp(σ_ref ε)`` taken by NumPy; the kernels form the scores, run the province round and the
# national round, and return the team. No sums: only products, comparisons and moves.


@njit(cache=True)
def _keep_best(best, where, held, row, want, v, i):  # type: ignore[no-untyped-def]
    """Offer ``v`` (position ``i``) to row ``row`` of a ``want``-long buffer kept sorted by
    (value descending, position ascending); positions are offered in increasing order, so a
    later equal value stays behind (``_top_of``'s rule). ``held[row]``: entries in use."""
    h = held[row]
    if h == want and not v > best[row, want - 1]:
        return
    j = h if h < want else want - 1
    while j > 0 and v > best[row, j - 1]:
        best[row, j] = best[row, j - 1]
        where[row, j] = where[row, j - 1]
        j -= 1
    best[row, j] = v
    where[row, j] = i
    if h < want:
        held[row] = h + 1


@njit(cache=True, parallel=PARALLEL)
def national_team_score(  # type: ignore[no-untyped-def]
    exports,
    share,
    demand,
    local_factor,
    national_factor,
    province,
    n_prov,
    bounds,
    priority,
    weight,
    per_province,
    team_size,
):
    """The two-tier tournament per priority technology (firms sorted by technology).

    Score ``S_i = (x_i + (λ_s s_i) D_t) · factor_i`` with the grassroots factor, then the
    ``per_province`` best of each province advance; each advancer is scored again with the
    national factor and the ``team_size`` best of ``where(advance, S', −inf)`` form the team
    (then ``& advance``), ties by index in both rounds: exactly ``select_team``'s NumPy lines
    (``group_top`` by technology × province, then by technology) when no score of the
    rounds is NaN. Returns ``(ok, team)``; ``ok`` is False when a score is NaN (``group_top``'s
    NaN rule then depends on whether the groups are sorted: the NumPy lines must run).
    """
    n = len(exports)
    n_tech = len(bounds) - 1
    team = np.zeros(n, dtype=np.bool_)
    advance = np.zeros(n, dtype=np.bool_)
    clean = np.ones(n_tech, dtype=np.bool_)
    for g in prange(n_tech):
        lo = bounds[g]
        hi = bounds[g + 1]
        if not priority[g] > 0 or hi <= lo or per_province <= 0 or team_size <= 0:
            continue
        # province round: one scan keeping each province's best per_province
        best = np.empty((n_prov, per_province))
        where = np.empty((n_prov, per_province), dtype=np.intp)
        held = np.zeros(n_prov, dtype=np.intp)
        d = demand[g]
        for i in range(lo, hi):
            s = (exports[i] + weight * share[i] * d) * local_factor[i]
            if s != s:
                clean[g] = False
                break
            p = province[i]
            if held[p] == per_province and not s > best[p, per_province - 1]:
                continue  # the common case, tested here: a call passes its arrays by reference count
            _keep_best(best, where, held, p, per_province, s, i)
        if not clean[g]:
            continue
        for p in range(n_prov):
            for j in range(held[p]):
                advance[where[p, j]] = True
        # national round: the team_size best of where(advance, S', -inf), then & advance
        top = np.empty((1, team_size))
        at = np.empty((1, team_size), dtype=np.intp)
        count = np.zeros(1, dtype=np.intp)
        for i in range(lo, hi):
            if advance[i]:
                v = (exports[i] + weight * share[i] * d) * national_factor[i]
                if v != v:
                    clean[g] = False
                    break
            else:
                v = -np.inf
            if count[0] == team_size and not v > top[0, team_size - 1]:
                continue
            _keep_best(top, at, count, 0, team_size, v, i)
        if not clean[g]:
            continue
        for j in range(count[0]):
            team[at[0, j]] = advance[at[0, j]]
    ok = True
    for g in range(n_tech):
        ok = ok and clean[g]
    return ok, team


@njit(cache=True, parallel=PARALLEL)
def national_team_size(revenue, bounds, priority, team_size):  # type: ignore[no-untyped-def]
    """``selection: size``: each priority technology's ``team_size`` largest firms by revenue
    (ties: lower index first; ``segments.group_top``'s rule, NaN included), nobody elsewhere:
    exactly ``group_top(where(eligible, revenue, −inf), t, n_tech, team_size) & eligible``."""
    team = np.zeros(len(revenue), dtype=np.bool_)
    for g in prange(len(bounds) - 1):
        if priority[g] > 0:
            _top_segment(revenue, bounds[g], bounds[g + 1], team_size, team)
    return team


def warm_up_national_teams() -> None:
    """Compile (or load) the kernels of this section for the argument types the model uses."""
    values = np.array([1.0, 2.0, 3.0])
    province = np.array([1, 0, 1], dtype=np.int16)
    bounds = np.array([0, 2, 3], dtype=np.intp)
    national_team_score(values, values, np.ones(2), values, values, province, 2, bounds, np.ones(2), 1.0, 2, 1)
    national_team_size(values, bounds, np.ones(2), 1)


# ---- indicators, trade friction and institution payments ----
# ``segments.segment_weighted_median`` (the ``median_capability`` column, every recorded year),
# ``markets.friction_equilibrium`` (60 bisections per technology, every year) and
# ``payments.pay_institutions`` (every instrument, several times a year). The one
# pairwise sum of the median (``w.sum()`` per segment) is reproduced exactly by
# :func:`pairwise_sum` (NumPy's ``pairwise_sum`` of ``loops_utils.h.src``); ``np.exp`` of the
# friction solve stays in NumPy (its argument's exponential is passed in).

PAIRWISE_BLOCK = 128  # NumPy's PW_BLOCKSIZE


@njit(cache=True)
def _pairwise_block(a, lo, n):  # type: ignore[no-untyped-def]
    """NumPy's ``pairwise_sum`` of ``a[lo:lo + n]`` for ``n <= 128``: sequential from 0.0
    below 8 values, else eight interleaved accumulators, combined as a tree, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0 = a[lo]
    r1 = a[lo + 1]
    r2 = a[lo + 2]
    r3 = a[lo + 3]
    r4 = a[lo + 4]
    r5 = a[lo + 5]
    r6 = a[lo + 6]
    r7 = a[lo + 7]
    i = 8
    stop = n - (n % 8)
    while i < stop:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def _pairwise(a, lo, n):  # type: ignore[no-untyped-def]
    """NumPy's ``pairwise_sum`` of ``a[lo:lo + n]``: blocks of at most 128 values
    (:func:`_pairwise_block`); a longer range is split in two halves (the first rounded down to
    a multiple of 8) whose sums are added, first + second. NumPy recurses; this walks the same
    tree with an explicit stack (numba's cache cannot load a self-recursive function)."""
    if n <= PAIRWISE_BLOCK:
        return _pairwise_block(a, lo, n)
    # frames: (start, length, 0 = to split | 1 = add the two sums on top of the value stack)
    frame_lo = np.empty(256, dtype=np.intp)
    frame_n = np.empty(256, dtype=np.intp)
    frame_stage = np.empty(256, dtype=np.intp)
    sums = np.empty(256)
    frames = 1
    held = 0
    frame_lo[0] = lo
    frame_n[0] = n
    frame_stage[0] = 0
    while frames > 0:
        frames -= 1
        start = frame_lo[frames]
        length = frame_n[frames]
        if frame_stage[frames] == 1:
            held -= 1
            sums[held - 1] = sums[held - 1] + sums[held]
        elif length <= PAIRWISE_BLOCK:
            sums[held] = _pairwise_block(a, start, length)
            held += 1
        else:
            half = length // 2
            half -= half % 8
            frame_stage[frames] = 1  # after both halves: add them
            frames += 1
            frame_lo[frames] = start + half  # second half: runs after the first
            frame_n[frames] = length - half
            frame_stage[frames] = 0
            frames += 1
            frame_lo[frames] = start
            frame_n[frames] = half
            frame_stage[frames] = 0
            frames += 1
    return sums[0]


@njit(cache=True)
def pairwise_sum(a):  # type: ignore[no-untyped-def]
    """``a.sum()`` of a 1-D float64 array, bit for bit: 0.0 plus the pairwise sum of every
    value (NumPy's add reduction starts from its identity, so ``-0.0`` sums to ``0.0``)."""
    return 0.0 + _pairwise(a, 0, len(a))


@njit(cache=True)
def _stable_order(keys, order, lo):  # type: ignore[no-untyped-def]
    """The stable ascending order of ``keys`` (NaN last, as NumPy sorts): positions in ``keys``.

    ``order[lo:lo + len(keys)]`` is NumPy's unstable ``argsort(keys)`` when ``ops`` sorted the
    segment (``order[lo] >= 0``); each run of equal keys (``-0.0 == 0.0``, NaN with NaN) is then
    put back in index order. Otherwise the keys are sorted here by insertion, which is stable.
    """
    m = len(keys)
    if order[lo] >= 0:
        rank = order[lo : lo + m].copy()
        _ties_in_index_order(keys, rank)
        return rank
    return _insertion_order(keys)


@njit(cache=True)
def weighted_median_sorted(values, weights, bounds, order):  # type: ignore[no-untyped-def]
    """``segments.segment_weighted_median`` line by line, one segment at a time.

    Per segment with ``total = w.sum() > 0`` (:func:`pairwise_sum`): the stable order of the
    values (ascending, NaN last), the running sum of the weights in that order (sequential, as
    ``np.cumsum``), and NumPy's left ``searchsorted`` of ``0.5 · total`` (the same bisection,
    the same comparison). ``order[lo:hi]``: NumPy's unstable ``argsort`` of the segment where
    ``ops`` sorted it (long segments: NumPy's SIMD sort is ~10× numba's), else -1 in its first
    slot; a short segment is sorted here by insertion (stable). Runs of equal keys are then put
    back in index order, which makes either order the stable one. Returns ``(ok, out)``; ``ok``
    is False when a search runs past the end (the reference raises ``IndexError`` there: it
    must run instead).
    """
    n_groups = len(bounds) - 1
    out = np.full(n_groups, np.nan)
    for g in range(n_groups):
        lo = bounds[g]
        hi = bounds[g + 1]
        m = hi - lo
        if m <= 0:
            continue
        total = 0.0 + _pairwise(weights, lo, m)
        if not total > 0:
            continue
        keys = values[lo:hi]
        rank = _stable_order(keys, order, lo)
        cumulative = np.empty(m)
        running = weights[lo + rank[0]]
        cumulative[0] = running
        for j in range(1, m):
            running += weights[lo + rank[j]]
            cumulative[j] = running
        key = 0.5 * total
        low = 0
        high = m
        while low < high:
            mid = low + ((high - low) >> 1)
            if _less(cumulative[mid], key):
                low = mid + 1
            else:
                high = mid
        if low >= m:
            return False, out
        out[g] = keys[rank[low]]
    return True, out


@njit(cache=True, error_model="numpy")
def friction_bisection(free, decay, lead, slope, threshold, rounds):  # type: ignore[no-untyped-def]
    """``markets.friction_equilibrium`` after its ``exp``: ``free = 1 / (1 + e^{−z})`` and
    ``decay = e^{−z}`` per technology. The same bisection, operation by operation:
    ``low = minimum(free, θ)``, ``high = free``; ``rounds`` times ``mid = 0.5 (low + high)``,
    ``implied = 1 / (1 + (1 + κ maximum(0, mid − θ)) decay)``, ``mid > implied`` moves
    ``high`` else ``low``; the root is ``free`` where ``free <= θ``, else ``0.5 (low + high)``;
    0 where ``lead`` is not finite."""
    n = len(free)
    out = np.empty(n)
    for t in range(n):
        f = free[t]
        e = decay[t]
        low = _np_min(f, threshold)
        high = f
        for _ in range(rounds):
            mid = 0.5 * (low + high)
            friction = slope * _np_max(0.0, mid - threshold)
            implied = 1.0 / (1.0 + (1.0 + friction) * e)
            if mid > implied:
                high = mid
            else:
                low = mid
        share = f if f <= threshold else 0.5 * (low + high)
        z = lead[t]
        out[t] = share if (z == z and z != np.inf and z != -np.inf) else 0.0
    return out


@njit(cache=True)
def pay_institutions(weights, field, budget, efficiency, funding):  # type: ignore[no-untyped-def]
    """``payments.pay_institutions`` in two passes; adds ``amount · efficiency[f]`` to
    ``funding`` in place and returns the amounts paid per field.

    ``share = w_i / W_f`` where ``W_f > 0`` else 0 (``segments.group_share``: ``W_f`` the
    field's weights summed in index order from 0.0, as ``np.bincount``), ``amount =
    budget[f] · share``; the paid totals are the amounts summed in index order from 0.0
    (``np.bincount``, what ``Ledger.book`` and ``segments.group_sum`` compute).
    """
    n_fields = len(budget)
    totals = np.zeros(n_fields)
    for i in range(len(weights)):
        totals[field[i]] += weights[i]
    paid = np.zeros(n_fields)
    for i in range(len(weights)):
        f = field[i]
        total = totals[f]
        share = weights[i] / total if total > 0 else 0.0
        amount = budget[f] * share
        funding[i] += amount * efficiency[f]
        paid[f] += amount
    return paid


@njit(cache=True)
def rank_presorted(values, bounds, order):  # type: ignore[no-untyped-def]
    """Rank within each contiguous segment, 0 for the largest (ties: lower index first).

    ``order``: see :func:`_stable_order` (NumPy's unstable ``argsort(-values)`` of each long
    segment, -1 in the first slot of a short one); the ranks are those of a stable sort of
    ``-values`` (NaN last, as NumPy sorts), as ``segments.group_rank`` gives."""
    ranks = np.empty(len(values), dtype=np.intp)
    for g in range(len(bounds) - 1):
        lo = bounds[g]
        hi = bounds[g + 1]
        m = hi - lo
        if m <= 0:
            continue
        rank = _stable_order(-values[lo:hi], order, lo)
        for j in range(m):
            ranks[lo + rank[j]] = j
    return ranks


@njit(cache=True)
def move_rows(values, kept, dest_kept, new, dest, out):  # type: ignore[no-untyped-def]
    """``out[dest_kept] = values[kept]; out[dest] = new`` (``ops.rebuild_sorted``'s moves of one
    column; ``new`` already of ``out``'s dtype, so only values are copied)."""
    for j in range(len(kept)):
        out[dest_kept[j]] = values[kept[j]]
    for j in range(len(dest)):
        out[dest[j]] = new[j]


@njit(cache=True)
def move_rows_aged(values, kept, dest_kept, new, dest, out):  # type: ignore[no-untyped-def]
    """:func:`move_rows` with 1 added to each kept value (firm age), stored in ``out``'s dtype
    (wrapping as NumPy's in-place ``+= 1`` does)."""
    for j in range(len(kept)):
        out[dest_kept[j]] = values[kept[j]] + 1
    for j in range(len(dest)):
        out[dest[j]] = new[j]


def warm_up_indicators() -> None:
    """Compile (or load) the kernels of this section for the argument types the model uses."""
    values = np.array([1.0, 2.0, 3.0])
    bounds = np.array([0, 2, 3], dtype=np.intp)
    pairwise_sum(values)
    weighted_median_sorted(values, values, bounds, np.array([-1, 0, -1], dtype=np.intp))
    weighted_median_sorted(values, values, bounds, np.array([0, 1, 0], dtype=np.intp))
    rank_presorted(values, bounds, np.array([1, 0, -1], dtype=np.intp))
    friction_bisection(values, values, values, 1.0, 0.5, 2)
    pay_institutions(values, np.array([0, 0, 1], dtype=np.int32), np.ones(2), np.ones(2), np.zeros(3))
    index = np.array([0, 1], dtype=np.intp)
    for dtype in (np.float64, np.int32, np.int16, np.int8, np.bool_):  # the firm table's columns
        column = np.zeros(3, dtype=dtype)
        move_rows(column, index, index, column[:1], index[:1] + 2, column.copy())
    aged = np.zeros(3, dtype=np.int16)
    move_rows_aged(aged, index, index, aged[:1], index[:1] + 2, aged.copy())
