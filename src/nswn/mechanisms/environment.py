"""External environment: frontier growth, demand growth, export controls, decoupling.

What it models (model.md §6.1, §7)
    The foreign frontier ``F_t`` grows by ``g_F,t`` a year; domestic and world demand grow
    at the catalog rates. Export controls come in batches ``{technologies, year,
    fence_height, announced, coverage, duration}``; from a batch's year (for ``duration``
    years, or for ever) it is in force, and the fence ``h_t`` of each listed technology is the
    highest ``coverage · fence_height`` of the batches in force (``coverage``: the share of
    foreign supply that follows the controls). Between ``announced`` and ``year`` buyers
    stock up ahead of the fence (:func:`surge_factor`, a judged rule). Decoupling of joint
    research and returnee flows is ``d(y) = min(d_max, δ_dec · max(0, y − y_dec))``. Foreign know-how access is
    ``A_t = (1 − h_t)(1 − d(y))``; the foreign firms' access to the Chinese market is
    ``A^dom_t = a_f · (1 − κ_sales · h_t)`` — controls that stop foreign sales of a controlled
    item to China also hand its home market to Chinese firms.

    Difference from the shared specification: market growth starts at the catalog's
    2024 rate and converges to a long-run rate (default 3 %/yr), since rates such as
    15 %/yr for EVs cannot compound for 26 years. A scenario's ``schedule`` may change a
    technology's growth rates (demand, world demand, frontier) from a given year
    (:class:`GrowthPaths`); a changed market rate applies in full in its year and converges
    from there.

State read: year, catalog growth rates. State written: ``frontier``, ``demand``,
``world_demand``, ``fence``, ``knowhow_access``, ``market_access``, ``macro.decoupling``.

Brief: the opening section on the October 2022 and October 2023 U.S. controls ("small
yard, high fence"), declining joint publications, and Apple/Tesla selling in China in a
controlled setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nswn.core import segments
from nswn.core.model import Context
from nswn.core.params import param
from nswn.core.state import State
from nswn.mechanisms import attribution

SEMICONDUCTOR_2022 = ("lithography_machines", "high_end_chips", "chip_design_software")


def in_window(first: int, duration: int | None, year: int) -> bool:
    """Whether a measure in force from ``first`` for ``duration`` years (None: no expiry) applies in ``year``."""
    return first <= year and (duration is None or year < first + duration)


@dataclass(frozen=True)
class ExportControlBatch:
    """One batch of foreign export controls."""

    technologies: tuple[str, ...] = param((), unit="technology ids", basis="policy", doc="Catalog ids the batch covers")
    year: int = param(2022, lo=1990, hi=2100, unit="year", basis="policy", doc="First year the batch is in force")
    fence_height: float = param(
        0.5,
        lo=0.0,
        hi=1.0,
        unit="share",
        basis="policy",
        doc="How much of the flow of know-how (and sales) the fence stops",
    )
    announced: int | None = param(
        None,
        lo=1990,
        hi=2100,
        unit="year",
        basis="policy",
        doc="Year the batch is announced (≤ year); until year buyers may stock up. None: announced when it binds",
    )
    coverage: float = param(
        1.0,
        lo=0.0,
        hi=1.0,
        unit="share",
        basis="policy",
        doc="Share of foreign supply (allies) that follows the batch; scales its know-how cut and sales block",
    )
    duration: int | None = param(
        None,
        lo=1,
        hi=200,
        unit="years",
        basis="policy",
        doc="Years the batch stays in force from year (it lapses afterwards). None: no expiry",
    )

    def problems(self) -> list[tuple[str, str]]:
        """Cross-field rule: a batch cannot be announced after it takes effect."""
        if self.announced is not None and self.announced > self.year:
            return [("announced", f"announced ({self.announced}) must not be after year ({self.year})")]
        return []

    def in_force(self, year: int) -> bool:
        """Whether the batch binds in ``year``: from ``year`` for ``duration`` years (no expiry if None)."""
        return in_window(self.year, self.duration, year)

    def pending(self, year: int) -> bool:
        """Whether ``year`` lies in the announcement window ``announced ≤ year < year-in-force``."""
        return self.announced is not None and self.announced <= year < self.year


def _default_batches() -> tuple[ExportControlBatch, ...]:
    return (
        ExportControlBatch(technologies=SEMICONDUCTOR_2022, year=2022, fence_height=0.5),
        ExportControlBatch(technologies=SEMICONDUCTOR_2022, year=2023, fence_height=0.7),
    )


@dataclass(frozen=True)
class ExportControlParams:
    """Foreign export controls, the 'yard' (technologies) and the 'fence' (height)."""

    batches: tuple[ExportControlBatch, ...] = field(
        default_factory=_default_batches,
        metadata={
            "unit": "list of batches",
            "basis": "sourced",
            "lo": None,
            "hi": None,
            "doc": "Control batches; default: the Oct 2022 and Oct 2023 U.S. batches",
        },
    )


@dataclass(frozen=True)
class TradeDefenceMeasure:
    """One foreign trade-defence measure on Chinese goods (a tariff or its equivalent)."""

    technologies: tuple[str, ...] = param(
        (), unit="technology ids", basis="policy", doc="Catalog ids whose Chinese exports the measure taxes"
    )
    year: int = param(2024, lo=1990, hi=2100, unit="year", basis="policy", doc="First year the measure is in force")
    tariff: float = param(
        0.25,
        lo=0.0,
        hi=10.0,
        unit="ad valorem (0.25 = 25 %)",
        basis="policy",
        doc="Tariff-equivalent on Chinese goods in the markets that apply it (duties, safeguards, surtaxes)",
    )
    coverage: float = param(
        0.1,
        lo=0.0,
        hi=1.0,
        unit="share of the market outside China",
        basis="policy",
        doc="Share of the market outside China (by value) that applies the measure",
    )
    duration: int | None = param(
        None,
        lo=1,
        hi=200,
        unit="years",
        basis="policy",
        doc="Years the measure stays in force from year (it lapses afterwards). None: no expiry",
    )

    def in_force(self, year: int) -> bool:
        """Whether the measure applies in ``year``: from ``year`` for ``duration`` years (no expiry if None)."""
        return in_window(self.year, self.duration, year)


@dataclass(frozen=True)
class TradeDefenceParams:
    """Foreign tariffs and their equivalents on Chinese exports, by technology and year."""

    measures: tuple[TradeDefenceMeasure, ...] = field(
        default_factory=tuple,
        metadata={
            "unit": "list of measures",
            "basis": "policy",
            "lo": None,
            "hi": None,
            "doc": "Trade-defence measures; default: none beyond those already in the start year's world shares",
        },
    )

    def problems(self) -> list[tuple[str, str]]:
        """Cross-measure rule: the measures in force on one technology in one year cover at most the
        whole market outside China (their markets are disjoint)."""
        years = sorted({m.year for m in self.measures})
        for year in years:
            total: dict[str, float] = {}
            for m in self.measures:
                if m.in_force(year):
                    for tech in m.technologies:
                        total[tech] = total.get(tech, 0.0) + m.coverage
            for tech, cover in sorted(total.items()):
                if cover > 1.0 + 1e-9:
                    return [
                        (
                            "measures",
                            f"measures in force on {tech} in {year} cover {cover:g} of the market outside China "
                            "(at most 1: each measure's markets are disjoint)",
                        )
                    ]
        return []


def tariff_segments(defence: TradeDefenceParams, ids: tuple[str, ...], year: int) -> tuple[np.ndarray, np.ndarray]:
    """The market outside China split by the trade-defence measures in force in ``year``.

    Returns
    -------
    coverage, tariff : arrays, shape (n_technologies, n_measures)
        Share of the market outside China that applies measure ``k`` to technology ``t`` (0
        where it does not) and that measure's ad-valorem tariff-equivalent. The rest of the
        market, ``1 − Σ_k coverage``, applies none. Empty (``n_measures = 0``) without measures.
    """
    n = len(defence.measures)
    coverage = np.zeros((len(ids), n))
    tariff = np.zeros((len(ids), n))
    position = {tech: i for i, tech in enumerate(ids)}
    for k, measure in enumerate(defence.measures):
        if measure.in_force(year):
            for tech in measure.technologies:
                coverage[position[tech], k] = measure.coverage
                tariff[position[tech], k] = measure.tariff
    return coverage, tariff


@dataclass(frozen=True)
class EnvironmentParams:
    """Assumptions about the world outside China's policy."""

    frontier_growth_scale: float = param(
        1.0,
        lo=0.0,
        hi=3.0,
        unit="× catalog rate",
        doc="Multiplies every technology's frontier growth g_F",
    )
    demand_growth_scale: float = param(
        1.0,
        lo=0.0,
        hi=3.0,
        unit="× catalog rate",
        doc="Multiplies domestic and world demand growth",
    )
    long_run_demand_growth: float = param(
        0.03, lo=-0.05, hi=0.2, unit="1/yr", doc="Growth rate every market's growth converges to"
    )
    demand_growth_convergence: float = param(
        0.15,
        lo=0.0,
        hi=1.0,
        unit="1/yr",
        doc="Yearly share of the gap to long-run growth that closes",
    )
    decoupling_rate: float = param(
        0.01,
        lo=0.0,
        hi=0.1,
        unit="1/yr",
        doc="Yearly rise of decoupling of joint research and returnee flows",
    )
    decoupling_max: float = param(0.5, lo=0.0, hi=1.0, unit="share", doc="Ceiling of decoupling")
    decoupling_start: int = param(
        2018,
        lo=1990,
        hi=2100,
        unit="year",
        doc="Year decoupling starts to rise (joint papers peak)",
    )
    foreign_market_access: float = param(
        1.0,
        lo=0.0,
        hi=1.0,
        unit="share",
        doc="Foreign firms' access to the Chinese market without controls",
    )
    foreign_emulation_rate: float = param(
        0.3,
        lo=0.0,
        hi=1.0,
        unit="1/yr",
        doc="λ_f, speed at which the foreign frontier learns from a Chinese leader (judged: the specification's "
        "emulation rate 0.3; incumbent foreign leaders are strong absorbers)",
    )
    controls_block_sales: float = param(
        0.5,
        lo=0.0,
        hi=1.0,
        unit="× fence height",
        doc="How far a control also stops foreign firms selling the item in China",
    )
    preemptive_buying: float = param(
        1.0,
        lo=0.0,
        hi=5.0,
        unit="× announced sales block",
        doc="Judged: in an announcement window foreign access in China rises by this × the coming sales block "
        "(buyers purchase ahead of the fence); 0 turns the surge off",
    )


def demand_growth(params: EnvironmentParams, start_growth: np.ndarray, years: int | np.ndarray) -> np.ndarray:
    """Market growth ``years`` after the rate was set: the rate (scaled) converging to the
    long-run rate, ``g(y) = g_lr + (s·g0 − g_lr)(1 − κ)^(y − y0 − 1)``.

    Parameters
    ----------
    start_growth
        ``g0`` per technology, 1/yr, shape (n_technologies,): the catalog's rate, or the rate a
        scenario's schedule set.
    years
        ``y − y0``: years since the start (one number), or per technology since the year before
        its rate was set, shape (n_technologies,) (:class:`GrowthPaths`); 1 is the first year
        at the full rate.

    Returns
    -------
    array, shape (n_technologies,)
        This year's growth rate, 1/yr.
    """
    kappa = 1.0 - params.demand_growth_convergence
    if np.ndim(years) == 0:
        decay: float | np.ndarray = kappa ** max(int(years) - 1, 0)
    else:  # element by element, each as the scalar rule computes it
        decay = np.array([kappa ** max(int(y) - 1, 0) for y in np.asarray(years)])
    long_run = params.long_run_demand_growth
    return np.asarray(long_run + (params.demand_growth_scale * start_growth - long_run) * decay)


@dataclass(frozen=True)
class GrowthPaths:
    """Growth rates a scenario's ``schedule`` set (model.md §8): in force from a change year on.

    Every array has shape (n_technologies,), in catalog order. Rates are 1/yr (markets) and
    log capability a year (frontier). ``*_since`` is the year before a rate was set (the
    start year for a rate never changed): market growth converges to the long-run rate from
    there, as the catalog's rate does from the start (:func:`demand_growth`).
    """

    demand_growth: np.ndarray
    world_demand_growth: np.ndarray
    frontier_growth: np.ndarray
    demand_since: np.ndarray
    world_demand_since: np.ndarray


def decoupling(params: EnvironmentParams, year: int) -> float:
    """Decoupling ``d(y)`` of joint research and returnee flows."""
    return min(params.decoupling_max, params.decoupling_rate * max(0, year - params.decoupling_start))


def fence_heights(controls: ExportControlParams, ids: tuple[str, ...], year: int) -> np.ndarray:
    """Effective fence per technology in ``year``: the highest ``coverage · fence_height`` of the
    batches in force on it (0 if none). With full coverage and no expiry this is the highest
    fence height of the batches whose year has come."""
    return _highest_fence(controls, ids, lambda batch: batch.in_force(year))


def announced_fences(controls: ExportControlParams, ids: tuple[str, ...], year: int) -> np.ndarray:
    """Highest ``coverage · fence_height`` per technology of the batches announced but not yet in force."""
    return _highest_fence(controls, ids, lambda batch: batch.pending(year))


def _highest_fence(
    controls: ExportControlParams, ids: tuple[str, ...], selected: Callable[[ExportControlBatch], bool]
) -> np.ndarray:
    fence = np.zeros(len(ids))
    position = {tech: i for i, tech in enumerate(ids)}
    for batch in controls.batches:
        if selected(batch):
            for tech in batch.technologies:
                i = position[tech]
                fence[i] = max(fence[i], batch.coverage * batch.fence_height)
    return fence


def foreign_learning(state: State, params: EnvironmentParams) -> np.ndarray:
    """The foreign frontier's catch-up on a Chinese leader, log capability per year.

    ``ΔF_t = λ_f · e_t · A_t · max(0, c_best,t − F_t)``: when the best Chinese firm leads, the
    foreign aggregate emulates it as Chinese firms emulate a foreign template (linear in the
    lead; Chinese emulation uses the logistic form ``1 − e^{−gap}``, which agrees with it on
    the small leads seen), with the same emulability ``e_t`` and through the same channel
    ``A_t = (1 − h_t)(1 − d(y))`` (controls
    and decoupling cut know-how flows both ways). A lead is therefore contested: it settles
    where the leader's own advance ``v`` equals ``g_F + λ_f e A L``, i.e. at
    ``L* = (v − g_F) / (λ_f e A)`` (docs/model.md §6.1).

    Returns
    -------
    array, shape (n_technologies,)
        Addition to ``F_t`` this year (0 where China does not lead or has no firms).
    """
    tech, firms = state.technologies, state.firms
    best = segments.group_max(firms.capability, firms.technology, len(tech))
    lead = np.where(np.isfinite(best), np.maximum(0.0, best - tech.frontier), 0.0)
    return np.asarray(params.foreign_emulation_rate * tech.emulability * tech.knowhow_access * lead)


def surge_factor(env: EnvironmentParams, fence: np.ndarray, announced: np.ndarray) -> np.ndarray:
    """Buying ahead of an announced fence (judged rule; model.md §7).

    In an announcement window (a batch announced, not yet in force) buyers in China stock up
    on the items the coming batch will block: foreign access is multiplied by
    ``1 + b · κ_sales · max(0, h^ann − h)``, where ``h^ann`` is the announced (covered) fence,
    ``h`` the fence already in force, ``κ_sales`` the share of a fence that also blocks sales
    and ``b`` = ``preemptive_buying``. It is 1 outside windows and when ``b = 0``. The rule's
    sign follows the purchases of lithography tools by Chinese buyers ahead of the 2023–2024
    Dutch and U.S. rules; its size ``b`` is judged.
    """
    return np.asarray(1.0 + env.preemptive_buying * env.controls_block_sales * np.maximum(0.0, announced - fence))


def apply_access(state: State, env: EnvironmentParams, controls: ExportControlParams) -> None:
    """Set fence, know-how access and market access for ``state.year`` (used at start too)."""
    tech = state.technologies
    d = decoupling(env, state.year)
    tech.fence = fence_heights(controls, tech.ids, state.year)
    tech.knowhow_access = (1.0 - tech.fence) * (1.0 - d)
    tech.market_access = env.foreign_market_access * (1.0 - env.controls_block_sales * tech.fence)
    if any(batch.announced is not None for batch in controls.batches):
        tech.market_access = tech.market_access * surge_factor(
            env, tech.fence, announced_fences(controls, tech.ids, state.year)
        )
    state.macro.decoupling = d


class Environment:
    """Frontier, demand, controls and decoupling (model.md §6.1, §7)."""

    name = "environment"

    def __init__(
        self, params: EnvironmentParams, controls: ExportControlParams, paths: GrowthPaths | None = None
    ) -> None:
        self.params = params
        self.controls = controls
        self.paths = paths  # None: the catalog's rates, set at the start

    def step(self, state: State, ctx: Context) -> None:
        tech, paths = state.technologies, self.paths
        p = self.params
        frontier_growth = tech.frontier_growth if paths is None else paths.frontier_growth
        growth, learning = p.frontier_growth_scale * frontier_growth, foreign_learning(state, p)
        tech.frontier += growth + learning
        attribution.note_frontier(state, growth, learning)  # instrumentation: reads only
        if paths is None:
            tech.demand *= 1.0 + demand_growth(p, tech.demand_growth, state.year - state.start_year)
            tech.world_demand *= 1.0 + demand_growth(p, tech.world_demand_growth, state.year - state.start_year)
        else:
            year = state.year
            tech.demand *= 1.0 + demand_growth(p, paths.demand_growth, year - paths.demand_since)
            tech.world_demand *= 1.0 + demand_growth(p, paths.world_demand_growth, year - paths.world_demand_since)
        apply_access(state, p, self.controls)
