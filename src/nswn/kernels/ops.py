"""The kernels mechanisms call: compiled when ``nswn.kernels.compiled()``, else NumPy.

Each function returns exactly what its NumPy reference returns (``core.segments`` or the
NumPy lines it replaces); the compiled path applies where its preconditions hold (firms
sorted by technology) and falls back to the reference otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from nswn.core import segments
from nswn.kernels import compiled, module


def sorted_bounds(groups: NDArray[np.integer], n_groups: int) -> NDArray[np.intp] | None:
    """Segment offsets (length ``n_groups + 1``) when ``groups`` is sorted, else ``None``."""
    if compiled():
        ok, bounds = module().sorted_bounds(groups, n_groups)
        return bounds if ok else None
    return segments._sorted_bounds(groups, n_groups)


def group_max(values: NDArray[np.floating], groups: NDArray[np.integer], n_groups: int) -> np.ndarray:
    """As :func:`nswn.core.segments.group_max` (``np.maximum.at`` is slow)."""
    if compiled():
        return module().group_max(np.asarray(values, dtype=np.float64), groups, n_groups)  # type: ignore[no-any-return]
    return segments.group_max(values, groups, n_groups)


def group_sum(values: NDArray[Any], groups: NDArray[np.integer], n_groups: int) -> np.ndarray:
    """As :func:`nswn.core.segments.group_sum`."""
    if compiled():
        return module().group_sum(np.asarray(values, dtype=np.float64), groups, n_groups)  # type: ignore[no-any-return]
    return segments.group_sum(values, groups, n_groups)


def group_softmax(scores: NDArray[np.floating], groups: NDArray[np.integer], n_groups: int) -> np.ndarray:
    """As :func:`nswn.core.segments.group_softmax` (``exp`` stays in NumPy)."""
    if compiled():
        k = module()
        scores = np.asarray(scores, dtype=np.float64)
        expo = np.exp(scores - k.group_max(scores, groups, n_groups)[groups])
        return k.divide_by_group(expo, k.group_sum(expo, groups, n_groups), groups)  # type: ignore[no-any-return]
    return segments.group_softmax(scores, groups, n_groups)


def pay_sorted(
    weights: np.ndarray,
    technology: np.ndarray,
    n_tech: int,
    soe: np.ndarray,
    budget: np.ndarray,
    efficiency: np.ndarray | float,
    subsidy: np.ndarray,
    bounds: NDArray[np.intp] | None = None,
) -> np.ndarray | None:
    """One fused pass of ``payments.pay_firms`` (compiled path, firms sorted by technology).

    Adds each firm's payment times the efficiency to ``subsidy`` in place and returns the
    amounts paid per technology and ownership, ``(n_tech, 2)`` (private, SOE); returns
    ``None`` (and changes nothing) when the NumPy reference must run instead. ``bounds``:
    the segment offsets of ``technology`` when known (``State.technology_bounds``), so that
    they are not looked for again.
    """
    if not compiled():
        return None
    if bounds is None:
        bounds = sorted_bounds(technology, n_tech)
    if bounds is None or subsidy.dtype != np.float64 or not subsidy.flags.c_contiguous:
        return None
    eta = np.array(np.broadcast_to(np.asarray(efficiency, dtype=np.float64), (n_tech,)))  # a writable copy
    return module().pay_sorted(  # type: ignore[no-any-return]
        np.asarray(weights, dtype=np.float64), bounds, soe, np.asarray(budget, dtype=np.float64), eta, subsidy
    )


# mean segment size above which NumPy's SIMD sort beats the compiled one (measured on the 2-core
# box: compiled faster at 166 and 333 values per segment, even at ~650, 3x slower at 1 666)
COMPILED_RANK_BELOW = 512


def group_rank(values: NDArray[np.floating], groups: NDArray[np.integer], n_groups: int) -> NDArray[np.intp]:
    """As :func:`nswn.core.segments.group_rank`."""
    if compiled() and len(values) < COMPILED_RANK_BELOW * max(n_groups, 1):
        bounds = sorted_bounds(groups, n_groups)
        if bounds is not None:
            values = np.asarray(values, dtype=np.float64)
            return module().rank_presorted(values, bounds, _presort(-values, bounds))  # type: ignore[no-any-return]
    return segments.group_rank(values, groups, n_groups)


def _presort(keys: np.ndarray, bounds: NDArray[np.intp]) -> NDArray[np.intp]:
    """NumPy's unstable ``argsort`` of each segment of ``keys`` longer than the kernels'
    ``INSERTION_UP_TO`` (positions within the segment), -1 elsewhere: the ``order`` argument of
    ``_compiled.rank_presorted`` and ``_compiled.weighted_median_sorted``. Shorter segments are
    sorted by insertion inside the kernels (quadratic, so long ones come sorted by NumPy's SIMD
    argsort, ~10x faster than numba's: 2 937 values in 56 us against 500 us on the 2-core box)."""
    order = np.full(len(keys), -1, dtype=np.intp)
    for g in np.flatnonzero(np.diff(bounds) > module().INSERTION_UP_TO):
        lo, hi = bounds[g], bounds[g + 1]
        order[lo:hi] = np.argsort(keys[lo:hi])
    return order


def percentile_in_group(values: NDArray[np.floating], groups: NDArray[np.integer], n_groups: int) -> np.ndarray:
    """Percentile (0 worst … 1 best) of each value within its group (1 in a group of one)."""
    rank = group_rank(values, groups, n_groups)
    size = segments.group_count(groups, n_groups)[groups]
    return np.asarray(np.where(size > 1, 1.0 - rank / np.maximum(size - 1, 1), 1.0))


def group_top(
    values: NDArray[np.floating], groups: NDArray[np.integer], n_groups: int, k: NDArray[np.integer] | int
) -> NDArray[np.bool_]:
    """As :func:`nswn.core.segments.group_top`."""
    if compiled():
        bounds = sorted_bounds(groups, n_groups)
        if bounds is not None:
            limit = np.array(np.broadcast_to(np.asarray(k), (n_groups,)), dtype=np.int64)  # a writable copy
            return module().top_sorted(np.asarray(values, dtype=np.float64), bounds, limit)  # type: ignore[no-any-return]
    return segments.group_top(values, groups, n_groups, k)


def demography_totals(
    bounds: NDArray[np.intp] | None,
    weight: np.ndarray,
    capability: np.ndarray,
    soe: np.ndarray,
    loss_streak: np.ndarray,
    exit_after: int,
    revenue: np.ndarray,
    profit: np.ndarray,
) -> tuple[np.ndarray, ...] | None:
    """Entry and exit's per-technology totals in one pass (compiled path, firms sorted).

    Returns ``(count, best, exits, revenue, profit, leaving)`` exactly as the NumPy lines of
    ``mechanisms.entry_exit`` compute them, or ``None`` when those lines must run instead.
    """
    if not compiled() or bounds is None:
        return None
    return module().demography_totals(  # type: ignore[no-any-return]
        bounds, weight, capability, soe, loss_streak, int(exit_after), revenue, profit
    )


def rebuild_sorted(
    columns: dict[str, np.ndarray],
    kept: NDArray[np.intp],
    kept_technology: np.ndarray,
    new_rows: dict[str, np.ndarray] | None,
    blocks: list[np.ndarray],
    n_tech: int,
    bump: str | None = None,
) -> tuple[dict[str, np.ndarray], NDArray[np.intp]]:
    """One compaction of a table sorted by technology: keep rows ``kept`` (in order), add new
    rows, and return every column already in the stable order by technology, with the new
    segment offsets.

    The result is exactly ``take(kept)``, then ``extend(new_rows)``, then a stable sort by
    technology: per technology, the kept rows (in order), then the new rows of each block in
    ``blocks`` (per-technology counts of consecutive, technology-sorted blocks of
    ``new_rows``). Each column is written once instead of three times. ``bump`` names a
    column to which 1 is added for the kept rows (firm age).

    Parameters
    ----------
    columns
        Name → column, shape ``(n,)``, rows sorted by technology.
    kept
        Positions of the rows kept, increasing, shape ``(m,)``.
    kept_technology
        Technology of each kept row, shape ``(m,)``.
    new_rows
        Name → column of the new rows (every name of ``columns``), or ``None``.
    blocks
        Per-technology counts (shape ``(n_tech,)``) of each block of new rows.
    n_tech
        Number of technologies.
    """
    kept_count = np.bincount(kept_technology, minlength=n_tech)
    size = kept_count.copy()
    for counts in blocks:
        size = size + counts
    bounds = np.zeros(n_tech + 1, dtype=np.intp)
    np.cumsum(size, out=bounds[1:])
    start = bounds[:-1]

    def exclusive(counts: np.ndarray) -> np.ndarray:
        out = np.zeros(n_tech, dtype=np.intp)
        np.cumsum(counts[:-1], out=out[1:])
        return out

    dest_kept = np.arange(len(kept), dtype=np.intp) + (start - exclusive(kept_count))[kept_technology]
    dest_new: list[np.ndarray] = []
    offset = start + kept_count
    for counts in blocks:
        counts = np.asarray(counts, dtype=np.intp)
        where = np.repeat(np.arange(n_tech), counts)
        dest_new.append(np.arange(len(where), dtype=np.intp) + (offset - exclusive(counts))[where])
        offset = offset + counts
    dest = np.concatenate(dest_new) if dest_new else np.zeros(0, dtype=np.intp)
    total = int(bounds[-1])
    out: dict[str, np.ndarray] = {}
    # compiled moves only with every index in range (the NumPy lines raise IndexError otherwise)
    rows = min((len(v) for v in columns.values()), default=0)
    in_range = len(kept) == 0 or (int(kept[0]) >= 0 and int(kept[-1]) < rows)
    fast = module() if compiled() and in_range else None
    for name, values in columns.items():
        column = np.empty(total, dtype=values.dtype)
        if fast is not None:  # compiled: one pass per column (the same moves, no temporaries)
            adding = new_rows is not None and len(dest) > 0
            new = np.asarray(new_rows[name]).astype(values.dtype) if adding else values[:0]  # type: ignore[index]
            if values.ndim == 1 and len(new) == (len(dest) if adding else 0):
                move = fast.move_rows_aged if name == bump else fast.move_rows
                move(values, kept, dest_kept, new, dest if adding else dest[:0], column)
                out[name] = column
                continue
        moved = values[kept]
        if name == bump:
            moved += 1
        column[dest_kept] = moved
        if new_rows is not None and len(dest):
            column[dest] = np.asarray(new_rows[name]).astype(values.dtype)
        out[name] = column
    return out, bounds


def challenge_top(
    capability: np.ndarray,
    noise: np.ndarray,
    bounds: NDArray[np.intp] | None,
    alignment: float,
    sigma: float,
    k: int,
) -> tuple[NDArray[np.bool_], np.ndarray] | None:
    """Firms' open-challenge bids and each technology's ``k`` best (compiled path, firms sorted).

    Returns ``(mask, bids)`` with ``mask`` exactly ``group_top(bids, technology, n_tech, k)``
    for ``bids = percentile_in_group(capability) + alignment + sigma · noise``, and ``bids``
    valid where ``mask`` is set (the others may be left at 0); ``None`` when the NumPy lines
    of ``instruments.unveiling_the_list`` must run instead.
    """
    if not compiled() or bounds is None:
        return None
    return module().challenge_top(  # type: ignore[no-any-return]
        np.asarray(capability, dtype=np.float64),
        np.asarray(noise, dtype=np.float64),
        bounds,
        float(alignment),
        float(sigma),
        int(k),
    )


# ---- innovation and markets ----
# Thin wrappers of the fused passes of ``mechanisms.innovation`` and ``mechanisms.markets``
# (compiled path only: each returns ``None`` when the NumPy reference must run instead). The
# mechanisms apply ``exp``/``expm1``/``log``/``log1p`` between the passes, with NumPy.


def _f64(values: Any) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64)


def innovation_terms(
    technology: np.ndarray,
    revenue: np.ndarray,
    subsidy: np.ndarray,
    soe: np.ndarray,
    weight: np.ndarray,
    capability: np.ndarray,
    founder: np.ndarray,
    partner: np.ndarray,
    half_of: np.ndarray,
    technology_columns: tuple[np.ndarray, ...],
    params: tuple[float, ...],
    boosted: tuple[int, int],
) -> tuple[np.ndarray, ...] | None:
    """First fused pass of ``Innovation.step`` (see ``_compiled.innovation_terms``), or ``None``.

    ``technology_columns``: ``(frontier, entrepreneurship, transfer_bonus, knowledge,
    knowledge_required, science_intensity)``, each shape ``(n_technologies,)``.
    """
    if not compiled():
        return None
    frontier, rho, bonus, knowledge, required, science = (_f64(c) for c in technology_columns)
    return module().innovation_terms(  # type: ignore[no-any-return]
        technology,
        _f64(revenue),
        _f64(subsidy),
        soe,
        _f64(weight),
        _f64(capability),
        founder,
        partner,
        _f64(half_of),
        frontier,
        rho,
        bonus,
        knowledge,
        required,
        science,
        np.array(params, dtype=np.float64),
        np.array(boosted, dtype=np.int64),
    )


def innovation_steps(
    technology: np.ndarray,
    n_tech: int,
    member_rd: np.ndarray,
    half: np.ndarray,
    gap_expm1: np.ndarray,
    chance_expm1: np.ndarray,
    uniform: np.ndarray,
    normal: np.ndarray,
    capability: np.ndarray,
    emulability: np.ndarray,
    access: np.ndarray,
    emulation_rate: float,
    step_mean: float,
    step_sd: float,
) -> tuple[np.ndarray, ...]:
    """Second fused pass of ``Innovation.step`` (see ``_compiled.innovation_steps``; compiled path)."""
    return module().innovation_steps(  # type: ignore[no-any-return]
        technology,
        int(n_tech),
        member_rd,
        half,
        gap_expm1,
        chance_expm1,
        _f64(uniform),
        _f64(normal),
        _f64(capability),
        _f64(emulability),
        _f64(access),
        float(emulation_rate),
        float(step_mean),
        float(step_sd),
    )


def market_experience(
    bounds: NDArray[np.intp],
    weight: np.ndarray,
    output: np.ndarray,
    china_output: np.ndarray,
    scale: np.ndarray,
    spillover: float,
) -> np.ndarray:
    """``Q^eff_i / Q0_t`` per firm, firms sorted by technology (see ``_compiled.market_experience``).

    ``china_output`` is the industry pool per technology, ``markets.learning_pool``
    (``Q^CN_t + ξ Q^f_t``), not the Chinese industry's output alone unless ``ξ = 0``.
    """
    return module().market_experience(  # type: ignore[no-any-return]
        bounds, _f64(weight), _f64(output), _f64(china_output), _f64(scale), float(spillover)
    )


def market_competitiveness(
    bounds: NDArray[np.intp],
    capability: np.ndarray,
    learned: np.ndarray,
    log_weight: np.ndarray,
    log_foreign: np.ndarray,
    labour: float,
    learning: float,
    capability_weight: float,
    cost_weight: float,
    elasticity: float,
) -> tuple[np.ndarray, ...]:
    """Arguments of the two ``exp`` calls of the logit shares and the export composite, and the
    two peaks per technology (see ``_compiled.market_competitiveness``)."""
    return module().market_competitiveness(  # type: ignore[no-any-return]
        bounds,
        _f64(capability),
        _f64(learned),
        _f64(log_weight),
        _f64(log_foreign),
        float(labour),
        float(learning),
        float(capability_weight),
        float(cost_weight),
        float(elasticity),
    )


def market_logit_shares(
    bounds: NDArray[np.intp],
    share: np.ndarray,
    relative: np.ndarray,
    shifted: np.ndarray,
    foreign: np.ndarray,
    speed: float,
) -> tuple[np.ndarray, ...]:
    """New logit shares, export weights, and per-technology totals (see ``_compiled.market_logit_shares``)."""
    return module().market_logit_shares(  # type: ignore[no-any-return]
        bounds, _f64(share), _f64(relative), _f64(shifted), _f64(foreign), float(speed)
    )


def market_settle(
    bounds: NDArray[np.intp],
    weights: np.ndarray,
    share: np.ndarray,
    china_exports: np.ndarray,
    demand: np.ndarray,
    margin: np.ndarray,
    fixed: np.ndarray,
    weight: np.ndarray,
    loss_streak: np.ndarray,
    output: np.ndarray,
    soe: np.ndarray,
    deflator: float,
) -> tuple[Any, ...]:
    """Exports, revenue, profit, loss streaks; ``output`` updated in place (see ``_compiled.market_settle``)."""
    if output.dtype != np.float64 or not output.flags.c_contiguous:
        raise ValueError("output must be a contiguous float64 array (it is updated in place)")
    return module().market_settle(  # type: ignore[no-any-return]
        bounds,
        _f64(weights),
        _f64(share),
        _f64(china_exports),
        _f64(demand),
        _f64(margin),
        _f64(fixed),
        _f64(weight),
        loss_streak,
        output,
        soe,
        float(deflator),
    )


# ---- local allocation and instruments ----


def local_allocation(
    exports: np.ndarray,
    share: np.ndarray,
    demand: np.ndarray,
    technology: np.ndarray,
    referee_factor: np.ndarray,
    log_revenue: np.ndarray,
    soe: np.ndarray,
    local: np.ndarray,
    province: np.ndarray,
    n_prov: int,
    *,
    domestic_weight: float,
    soe_bias: float,
    local_noise: float,
    sharpness: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The per-firm first pass of ``mechanisms.local_allocation`` (compiled path).

    Parameters
    ----------
    exports, share, log_revenue, local, referee_factor
        Per firm, shape ``(n,)``: exports (bn CNY), market share, ``ln max(revenue, 1e-12)``,
        the local noise draws, and ``exp(σ_ref · ε_ref)``.
    demand
        Per technology, shape ``(n_tech,)`` (bn CNY).
    technology, soe, province
        Per firm, shape ``(n,)``.
    n_prov
        Number of provinces.

    Returns
    -------
    ``(measured, expo, count)``: the referee's measured score ``S_i · referee_factor``,
    shape ``(n,)``; the softmax numerators ``exp(signal − max_province(signal))``, shape
    ``(n,)`` (``exp`` taken by NumPy, in place); and firms per province, shape
    ``(n_prov,)``. ``None`` when the NumPy lines must run instead. Exactly the values the
    NumPy lines compute (model.md §6.4).
    """
    if not compiled():
        return None
    measured, shifted, count = module().local_signals(
        np.asarray(exports, dtype=np.float64),
        np.asarray(share, dtype=np.float64),
        np.asarray(demand, dtype=np.float64),
        technology,
        np.asarray(referee_factor, dtype=np.float64),
        np.asarray(log_revenue, dtype=np.float64),
        soe,
        np.asarray(local, dtype=np.float64),
        province,
        int(n_prov),
        float(domestic_weight),
        float(soe_bias),
        float(local_noise),
        float(sharpness),
    )
    np.exp(shifted, out=shifted)
    return measured, shifted, count


def local_payments(
    measured: np.ndarray,
    expo: np.ndarray,
    province: np.ndarray,
    provincial: np.ndarray,
    pooled: float,
    total: float,
    technology: np.ndarray,
    soe: np.ndarray,
    n_tech: int,
    subsidy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The paying pass of ``mechanisms.local_allocation`` (compiled path only).

    Adds ``pool + local`` to ``subsidy`` (float64, contiguous) in place and returns
    ``(pool, local, pool_by_owner, local_by_owner)``: shapes ``(n,)``, ``(n,)``,
    ``(n_tech, 2)``, ``(n_tech, 2)`` (private, SOE), bit-identical to the NumPy lines and
    ``payments.book_firm_payments``' bincounts.
    """
    return module().local_payments(  # type: ignore[no-any-return]
        measured,
        expo,
        province,
        np.asarray(provincial, dtype=np.float64),
        float(pooled),
        float(total),
        technology,
        soe,
        int(n_tech),
        subsidy,
    )


def association_members(
    log_revenue: np.ndarray, neg_gumbel: np.ndarray, bounds: NDArray[np.intp] | None, pairs: np.ndarray
) -> tuple[NDArray[np.bool_], np.ndarray] | None:
    """Firms chosen for innovation associations (compiled path, firms sorted by technology).

    Returns ``(mask, weights)`` with ``mask`` exactly
    ``group_top(log_revenue + (−neg_gumbel), t, n_tech, pairs) & (pairs[t] > 0)`` (shape
    ``(n,)``) and ``weights = mask.astype(float)``; ``None`` when the NumPy lines of
    ``instruments.innovation_associations`` must run instead.
    """
    if not compiled() or bounds is None:
        return None
    return module().association_members(  # type: ignore[no-any-return]
        np.asarray(log_revenue, dtype=np.float64),
        np.asarray(neg_gumbel, dtype=np.float64),
        bounds,
        np.asarray(pairs, dtype=np.int64),
    )


def megaproject_weights(
    revenue: np.ndarray, soe: np.ndarray, bounds: NDArray[np.intp] | None, route: np.ndarray, leaders: int
) -> np.ndarray | None:
    """Megaproject firm weights (compiled path, firms sorted by technology).

    ``route`` per technology, shape ``(n_tech,)``: 0 every firm eligible, 1 SOEs, 2 the
    ``leaders`` largest private firms by revenue. Returns ``r · e + 1e-12 · e`` per firm
    (``r = max(revenue, 0)``, ``e`` eligibility as 0/1), shape ``(n,)``, exactly as the NumPy
    lines of ``instruments.megaprojects``; ``None`` when they must run instead.
    """
    if not compiled() or bounds is None:
        return None
    return module().megaproject_weights(  # type: ignore[no-any-return]
        np.asarray(revenue, dtype=np.float64), soe, bounds, np.asarray(route, dtype=np.int64), int(leaders)
    )


# ---- national teams ----


def national_team_score(
    exports: np.ndarray,
    share: np.ndarray,
    demand: np.ndarray,
    grassroots_noise: np.ndarray,
    national_noise: np.ndarray,
    province: np.ndarray,
    n_prov: int,
    bounds: NDArray[np.intp] | None,
    priority: np.ndarray,
    *,
    referee_noise: float,
    domestic_weight: float,
    per_province: int,
    team_size: int,
) -> NDArray[np.bool_] | None:
    """The national-team tournament, ``selection: score`` (compiled path, firms sorted by technology).

    Parameters
    ----------
    exports, share, grassroots_noise, national_noise, province
        Per firm, shape ``(n,)``: exports (bn CNY), market share, the two rounds' standard
        normal referee draws, province index (``< n_prov``).
    demand, priority
        Per technology, shape ``(n_tech,)``: demand (bn CNY) and priority weight ``w_t``.
    bounds
        Segment offsets of the firms' technologies (``State.technology_bounds``), or ``None``.

    Returns
    -------
    The team mask, shape ``(n,)``, exactly as the NumPy lines of
    ``instruments.national_teams.select_team`` (model.md §6.8); ``None`` when they must run
    instead (NumPy switch, firms not sorted, or a NaN score). ``exp(σ_ref ε)`` of each round
    is taken here by NumPy, into new arrays (the draws are left as they are).
    """
    if not compiled() or bounds is None:
        return None
    local_factor = referee_noise * np.asarray(grassroots_noise, dtype=np.float64)
    np.exp(local_factor, out=local_factor)
    national_factor = referee_noise * np.asarray(national_noise, dtype=np.float64)
    np.exp(national_factor, out=national_factor)
    ok, team = module().national_team_score(
        np.asarray(exports, dtype=np.float64),
        np.asarray(share, dtype=np.float64),
        np.asarray(demand, dtype=np.float64),
        local_factor,
        national_factor,
        province,
        int(n_prov),
        bounds,
        np.asarray(priority, dtype=np.float64),
        float(domestic_weight),
        int(per_province),
        int(team_size),
    )
    return team if ok else None


def national_team_size(
    revenue: np.ndarray, bounds: NDArray[np.intp] | None, priority: np.ndarray, team_size: int
) -> NDArray[np.bool_] | None:
    """``selection: size``: the ``team_size`` largest firms by revenue of each priority
    technology (``priority > 0``), shape ``(n,)``, exactly as the NumPy lines of
    ``select_team`` (compiled path, firms sorted by technology); else ``None``."""
    if not compiled() or bounds is None:
        return None
    return module().national_team_size(  # type: ignore[no-any-return]
        np.asarray(revenue, dtype=np.float64), bounds, np.asarray(priority, dtype=np.float64), int(team_size)
    )


# ---- indicators, trade friction and institution payments ----


def segment_weighted_median(values: np.ndarray, weights: np.ndarray, bounds: NDArray[np.intp]) -> np.ndarray:
    """As :func:`nswn.core.segments.segment_weighted_median` (compiled: one pass, no Python
    loop over segments; the reference runs where it would raise)."""
    if compiled():
        values = _f64(values)
        bounds = np.asarray(bounds, dtype=np.intp)
        # long segments are sorted here by NumPy (its SIMD argsort is ~10x numba's), short ones
        # by insertion in the kernel; either way the kernel restores index order among equal keys
        ok, out = module().weighted_median_sorted(values, _f64(weights), bounds, _presort(values, bounds))
        if ok:
            return out  # type: ignore[no-any-return]
    return segments.segment_weighted_median(values, weights, bounds)


def friction_bisection(
    free: np.ndarray, decay: np.ndarray, lead: np.ndarray, slope: float, threshold: float, rounds: int
) -> np.ndarray:
    """The bisection of ``markets.friction_equilibrium`` after its ``exp`` (compiled path only;
    see ``_compiled.friction_bisection``): shape ``(n_technologies,)``."""
    return module().friction_bisection(  # type: ignore[no-any-return]
        _f64(free), _f64(decay), _f64(lead), float(slope), float(threshold), int(rounds)
    )


def pay_institutions(
    weights: np.ndarray,
    field: np.ndarray,
    n_fields: int,
    budget: np.ndarray,
    efficiency: np.ndarray | float,
    funding: np.ndarray,
) -> np.ndarray | None:
    """One fused pass of ``payments.pay_institutions`` (compiled path): adds each institution's
    payment times the efficiency to ``funding`` in place and returns the amounts paid per field,
    shape ``(n_fields,)``; ``None`` (nothing changed) when the NumPy lines must run instead.
    """
    if not compiled() or funding.dtype != np.float64 or not funding.flags.c_contiguous:
        return None
    budget = _f64(budget)
    if budget.shape != (n_fields,):
        return None
    eta = np.array(np.broadcast_to(np.asarray(efficiency, dtype=np.float64), budget.shape))  # a writable copy
    return module().pay_institutions(_f64(weights), field, budget, eta, funding)  # type: ignore[no-any-return]
