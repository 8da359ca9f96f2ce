"""Why a technology moved: its capability change split over channels, every year.

What it records (docs/model.md §9, ``technology_attribution_year``)
    The measure is the one the run summary uses: the log relative capability of a
    technology's best firm, ``m_t = c_best,t − F_t`` (``relative_capability = exp(m_t)``).
    Between two recorded years only three mechanisms move it — the environment (the
    frontier ``F``), innovation (firms' capabilities) and entry/exit (which firms exist) —
    and each adds its part, so the channels of a technology-year add up to
    ``m_t − m_{t−1}`` exactly (to rounding, ~1e-15):

    ``frontier_growth``, ``frontier_learning``
        ``−ΔF``: the frontier's own growth ``g_F`` and its catch-up on a Chinese leader
        (both ≤ 0).
    ``emulation``
        Catch-up on the foreign template at the know-how access export controls leave
        untouched, ``A_free = 1 − d`` (decoupling only), with the absorptive capacity that
        the firm's own R&D buys: ``λ e A_free α_own gap``.
    ``subsidy_<source>``
        What subsidies bought: the rise of absorptive capacity from ``α_own`` to ``α``
        (``λ e A_free (α − α_own) gap``) plus the subsidy terms of the innovation split
        below, shared over the sources (central instruments, ``export_discipline``,
        ``local_discretion``) by what each paid the firm this year. ``subsidy_other`` holds
        subsidy no recorded source paid (none in a full run).
    ``controls_knowhow_cut``
        Emulation lost because controls cut know-how access: ``λ e (A − A_free) α gap`` (≤ 0).
    ``own_innovation``, ``knowledge``
        A realised frontier-innovation step is split in proportion to the terms of its
        success intensity ``∝ K · RD`` with ``K = K0 + K_U`` (``K0 = 1 − b`` the gate
        without usable knowledge, ``K_U`` what usable knowledge — institutions' aligned
        output and the foreign inflow, through the transfer rate — adds) and
        ``RD = RD_own + RD_sub``: ``K0 RD_own`` is own innovation, ``K_U RD_own`` knowledge,
        ``K0 RD_sub`` subsidies, and the interaction ``K_U RD_sub`` is halved between
        knowledge and subsidies (the Shapley split of a product of two sums). Judged: the
        split is by intensity, not by success probability, which is concave in it.
    ``leader_change``
        Composition, not a residual: when another firm becomes the best during the
        innovation step, ``c_new leader,before − c_best,before`` (≤ 0); the new leader's own
        increment goes to the channels above.
    ``exit``, ``entry``
        The change of the best capability when leavers are removed (≤ 0) and when
        entrants join (≥ 0).

    A technology-year in which the technology had no firm at some point (measure
    undefined) is recorded as NaN in every channel.

Nothing here changes the state the model reads or draws a random number: the hooks read
arrays and write ``state.attribution`` only (bit-identical runs with and without them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nswn.core import segments
from nswn.core.record import Breakdown
from nswn.core.state import State
from nswn.kernels import ops

FIXED_CHANNELS = (
    "frontier_growth",
    "frontier_learning",
    "emulation",
    "controls_knowhow_cut",
    "own_innovation",
    "knowledge",
    "leader_change",
    "exit",
    "entry",
)
SUBSIDY_PREFIX = "subsidy_"
OTHER_SUBSIDY = "subsidy_other"


def best_mark(state: State) -> np.ndarray:
    """Best capability per technology now (−inf where it has no firm); shape (n_technologies,)."""
    return ops.group_max(state.firms.capability, state.firms.technology, state.n_technologies)


def note_frontier(state: State, growth: np.ndarray, learning: np.ndarray) -> None:
    """Environment hook: the frontier moved by ``growth + learning`` (log capability, per technology)."""
    state.attribution.add("frontier_growth", -np.broadcast_to(growth, (state.n_technologies,)))
    state.attribution.add("frontier_learning", -np.asarray(learning))


def reset_subsidies(state: State) -> None:
    """Central-budget hook: this year's subsidies start from zero."""
    state.attribution.firm_subsidy = {}


def subsidy_mark(state: State) -> np.ndarray:
    """``firms.subsidy`` before a payment (a copy), for :func:`note_subsidy`."""
    return state.firms.subsidy.copy()


def note_subsidy(state: State, source: str, before: np.ndarray) -> None:
    """Payment hook: ``source`` paid each firm ``firms.subsidy − before`` (bn CNY)."""
    note_subsidy_paid(state, source, state.firms.subsidy - before)


def note_subsidy_paid(state: State, source: str, amount: np.ndarray) -> None:
    """Payment hook: ``source`` paid each firm ``amount`` (shape (n_firms,), bn CNY)."""
    book = state.attribution.firm_subsidy
    current = book.get(source)
    if current is None or len(current) != len(amount):
        book[source] = np.array(amount, dtype=np.float64)
    else:
        book[source] = current + amount


def _source_shares(state: State, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Each subsidy source's share of the subsidy of the firms at ``rows`` this year (they sum to 1 where paid)."""
    firms = state.firms
    n = len(firms)
    sources = {k: v[rows] for k, v in state.attribution.firm_subsidy.items() if len(v) == n}
    subsidy = firms.subsidy[rows]
    recorded = np.zeros(len(rows))
    for values in sources.values():
        recorded = recorded + values
    other = subsidy - recorded
    other = np.where(other > 1e-9 * np.abs(subsidy), other, 0.0)
    total = recorded + other
    safe = np.where(total > 0, total, 1.0)
    shares = {name: np.where(total > 0, values / safe, 0.0) for name, values in sources.items()}
    if np.any(other > 0):
        shares[OTHER_SUBSIDY[len(SUBSIDY_PREFIX) :]] = other / safe
    return shares


def _leaders(values: np.ndarray, groups: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Index of the first firm at its technology's maximum ``best`` (−1 where none), shape (n_groups,).

    Firms are kept sorted by technology, so the first hit per group is found in one pass; an
    unsorted population falls back to :func:`nswn.core.segments.group_argmax`.
    """
    if len(groups) > 1 and np.any(groups[1:] < groups[:-1]):
        return segments.group_argmax(values, groups, len(best))
    hits = np.flatnonzero(values == best[groups])
    first = np.ones(len(hits), dtype=bool)
    first[1:] = groups[hits[1:]] != groups[hits[:-1]]
    out = np.full(len(best), -1, dtype=np.intp)
    out[groups[hits[first]]] = hits[first]
    return out


def note_innovation(
    state: State,
    params: Any,
    member_rd: np.ndarray,
    half: np.ndarray,
    gate: np.ndarray,
    emulation: np.ndarray,
    innovation: np.ndarray,
    *,
    after_capability: np.ndarray | None = None,
    best_before: np.ndarray | None = None,
    best_after: np.ndarray | None = None,
) -> None:
    """Innovation hook, called before ``firms.capability += emulation + innovation``.

    Only the firm that is each technology's best after the step matters for the measure, so
    the split is computed for those firms alone (one per technology).

    Parameters
    ----------
    params
        The :class:`~nswn.mechanisms.innovation.InnovationParams` of the step.
    member_rd, half, gate
        One member's effective R&D (bn CNY), ``RD½`` and the knowledge gate ``K``, shape (n_firms,).
    emulation, innovation
        The step's two capability increments, shape (n_firms,), log capability.
    after_capability, best_before, best_after
        Optional, when the caller has them already (the compiled innovation pass):
        ``capability + (emulation + innovation)``, shape (n_firms,), and the best capability
        per technology before and after the step (``ops.group_max``'s values), shape
        (n_technologies,). Computed here when ``None``.
    """
    firms, tech = state.firms, state.technologies
    n_tech = state.n_technologies
    t_all = firms.technology
    record = state.attribution

    # the best firm after the step, and the best capability before it
    before = ops.group_max(firms.capability, t_all, n_tech) if best_before is None else best_before
    if after_capability is None:
        after_capability = firms.capability + (emulation + innovation)
    if best_after is None:
        best_after = ops.group_max(after_capability, t_all, n_tech)
    leader = _leaders(after_capability, t_all, best_after)
    techs = np.flatnonzero(leader >= 0)
    i = leader[techs]  # one firm per technology with firms
    t = t_all[i]

    # own R&D alone (no subsidy), as innovation.rd_spend computes it
    soe = firms.soe[i]
    own_share = np.where(soe, params.rd_share_soe, params.rd_share_private)
    efficiency = np.where(soe, params.soe_rd_efficiency, 1.0)
    own_rd = own_share * firms.revenue[i] * efficiency / firms.weight[i]
    rd = member_rd[i]
    sub_rd = rd - own_rd
    absorptive = rd / (rd + half[i])
    absorptive_own = own_rd / (own_rd + half[i])
    from nswn.mechanisms.innovation import catch_up_gap  # the emulation rule's own term (import cycle)

    gap = catch_up_gap(tech.frontier[t] - firms.capability[i])
    common = params.emulation_rate * tech.emulability[t] * gap
    access_free = 1.0 - state.macro.decoupling
    emulation_own = common * access_free * absorptive_own
    emulation_sub = common * access_free * (absorptive - absorptive_own)
    controls = common * (tech.knowhow_access[t] - access_free) * absorptive

    gate0 = 1.0 - tech.science_intensity[t]
    gate_knowledge = gate[i] - gate0
    denominator = gate[i] * rd
    step = innovation[i]
    scale = np.divide(step, denominator, out=np.zeros_like(step), where=denominator > 0)
    innovation_own = scale * gate0 * own_rd
    innovation_knowledge = scale * gate_knowledge * (own_rd + 0.5 * sub_rd)
    innovation_sub = scale * sub_rd * (gate0 + 0.5 * gate_knowledge)

    def per_technology(values: np.ndarray) -> np.ndarray:
        out = np.zeros(n_tech)
        out[techs] = values
        return out

    record.add("leader_change", per_technology(firms.capability[i] - before[techs]))
    record.add("emulation", per_technology(emulation_own))
    record.add("controls_knowhow_cut", per_technology(controls))
    record.add("own_innovation", per_technology(innovation_own))
    record.add("knowledge", per_technology(innovation_knowledge))
    subsidy_part = emulation_sub + innovation_sub
    for source, share in _source_shares(state, i).items():
        record.add(SUBSIDY_PREFIX + source, per_technology(subsidy_part * share))


def note_turnover(state: State, channel: str, before: np.ndarray, after: np.ndarray | None = None) -> np.ndarray:
    """Entry/exit hook: the best capability moved from ``before`` by removing or adding firms.

    ``after`` is the best capability per technology once the change is made (default: the
    firm table now; the compiled entry/exit path, which never builds the table without the
    leavers, passes the best of the kept rows). Returns the new mark for the next call.
    """
    after = best_mark(state) if after is None else after
    both = np.isfinite(before) & np.isfinite(after)
    state.attribution.add(channel, np.where(both, after - np.where(both, before, 0.0), np.nan))
    return after


def _columns(state: State) -> dict[str, np.ndarray]:
    record = state.attribution
    tech = state.technologies
    best = best_mark(state)
    measure = np.where(np.isfinite(best), best - tech.frontier, np.nan)
    taken = record.take()
    previous = record.last_measure
    valid = np.isfinite(measure) & (np.isfinite(previous) if previous is not None else True)
    record.last_measure = measure
    names = [*FIXED_CHANNELS, *sorted(c for c in record.known if c not in FIXED_CHANNELS)]
    n = state.n_technologies
    values = [np.where(valid, taken.get(name, np.zeros(n)), np.nan) for name in names]
    return {
        "technology_id": np.tile(np.array(tech.ids, dtype=object), len(names)),
        "channel": np.repeat(np.array(names, dtype=object), n),
        "log_capability_change": np.concatenate(values) if values else np.zeros(0),
    }


def attribution_breakdown() -> Breakdown:
    """The ``technology_attribution_year`` table: one row per technology, channel and year.

    ``log_capability_change`` is what the channel moved ``c_best − F`` by since the previous
    recorded year (0 in the start year); a technology-year's channels sum to the change of
    ``log(relative_capability)`` in ``technology_year``.
    """
    return Breakdown(name="technology_attribution_year", keys=("technology_id", "channel"), columns=_columns)
