"""The §9 indicators: what every run records per technology and year, and per year.

Per technology: best and median capability, gap ``F − c_best``, relative capability
``exp(c_best − F)``, whether it is at parity that year (relative capability ≥ ``parity``),
the first year it was, whether it was at parity at the start and the year its bottleneck
broke (:func:`lasting_parity`: crossed after the start and at parity through the end),
Chinese firms' domestic share, exports, funding (total and by instrument), publications,
patents, usable knowledge relative to what firms need
(``knowledge`` = ``U_t / U_req,t``, 1 at the start), firm count, entries, exits, the
foreign competitor's Chinese sales and exports, priority weight and fence height.

Macro: GDP (real and nominal), the GDP deflator, manufacturing share (real, at start-year
relative prices, and nominal), debt/GDP (nominal),
exports, TFP index and growth, publications and patents (with growth), HHI of priority
weights and of funding, share of funding to SOEs, budgets, allocation quality, firm count.

Breakdowns (further tidy tables): ``province_year`` (firms, SOE firms, subsidies, revenue,
exports and R&D by province) and ``technology_ownership_year`` (each technology's outputs
split between private and SOE firms), all group sums over firms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nswn.core import segments
from nswn.core.params import param
from nswn.core.record import Breakdown, MacroIndicator, Recorder, TechnologyIndicator
from nswn.core.state import State
from nswn.kernels import ops
from nswn.mechanisms.attribution import attribution_breakdown


@dataclass(frozen=True)
class IndicatorParams:
    """Definitions used by the indicators."""

    parity: float = param(
        0.9,
        lo=0.1,
        hi=2.0,
        unit="relative capability",
        doc="Relative capability at which a bottleneck counts as broken",
    )


# support to traditional industry is booked in the ledger but is not S&T funding
INDUSTRIAL_POLICY = ("keep_manufacturing", "upgrade_traditional")


def _best(state: State) -> np.ndarray:
    firms, tech = state.firms, state.technologies
    best = ops.group_max(firms.capability, firms.technology, len(tech))
    return np.where(np.isfinite(best), best, np.nan)


def _median(state: State) -> np.ndarray:
    """Median capability of the real firms of each technology (agents weighted by the firms
    they stand for; firms are kept sorted by technology)."""
    firms = state.firms
    bounds = state.technology_bounds()
    if bounds is None:
        bounds = segments.segment_bounds(firms.technology, state.n_technologies)
    return ops.segment_weighted_median(firms.capability, firms.weight, bounds)


class YearValues:
    """Values several indicators share, computed once per recorded year (the recorder's ``prepare``)."""

    def __init__(self) -> None:
        self.best = np.zeros(0)

    def prepare(self, state: State) -> None:
        self.best = _best(state)


def _by_tech(state: State, values: np.ndarray) -> np.ndarray:
    return ops.group_sum(values, state.firms.technology, state.n_technologies)


def _inst_by_field(state: State, values: np.ndarray) -> np.ndarray:
    return segments.group_sum(values, state.institutions.field, state.n_technologies)


def technology_indicators(
    instruments: tuple[str, ...], shared: YearValues | None = None
) -> dict[str, TechnologyIndicator]:
    """Per-technology indicators, including one funding column per ledger instrument.

    With ``shared`` (prepared by the recorder each year) the best capability is computed once
    per year instead of once per indicator that needs it.
    """
    best = _best if shared is None else (lambda s: shared.best)
    columns: dict[str, TechnologyIndicator] = {
        "best_capability": best,
        "median_capability": _median,
        "frontier": lambda s: s.technologies.frontier.copy(),
        "gap": lambda s: s.technologies.frontier - best(s),
        "relative_capability": lambda s: np.exp(best(s) - s.technologies.frontier),
        "china_domestic_share": lambda s: _by_tech(s, s.firms.share),
        "china_exports": lambda s: s.technologies.china_exports.copy(),
        "china_world_share": lambda s: s.technologies.world_share.copy(),
        "foreign_china_sales": lambda s: s.technologies.foreign_share * s.technologies.demand,
        "foreign_exports": lambda s: s.technologies.foreign_exports.copy(),
        "demand": lambda s: s.technologies.demand.copy(),
        "funding_total": lambda s: s.ledger.by_technology(exclude=INDUSTRIAL_POLICY),
    }
    for i, name in enumerate(instruments):
        if name in INDUSTRIAL_POLICY:
            continue
        columns[f"funding_{name}"] = (lambda idx: lambda s: s.ledger.payments[idx].sum(axis=0))(i)
    columns.update(
        {
            "publications": lambda s: _inst_by_field(s, s.institutions.publications),
            "patents": lambda s: _inst_by_field(s, s.institutions.patents),
            "knowledge": lambda s: s.technologies.knowledge / s.technologies.knowledge_required,
            "firms": lambda s: segments.group_sum(s.firms.weight, s.firms.technology, s.n_technologies),
            "entries": lambda s: s.technologies.entries.copy(),
            "exits": lambda s: s.technologies.exits.copy(),
            "priority_weight": lambda s: s.technologies.priority.copy(),
            "fence_height": lambda s: s.technologies.fence.copy(),
            "knowhow_access": lambda s: s.technologies.knowhow_access.copy(),
        }
    )
    return columns


def _funding_share_soe(state: State) -> float:
    """SOE firms' share of S&T funding (central and local; industrial policy excluded)."""
    by = state.ledger.by_recipient()
    by.pop("traditional_sector", None)
    total = sum(by.values())
    return by["soe_firm"] / total if total > 0 else 0.0


def _gerd(state: State) -> float:
    """National R&D, bn CNY at 2024 prices: the modelled industries' (firms' R&D, institutions'
    funding) plus the rest of the economy's at its intensity (set at the start by
    ``initialisation.rd_closures``, rising with income in the macro step)."""
    m = state.macro
    modelled = float(state.firms.rd.sum() + state.institutions.funding.sum())
    return modelled + m.rd_rest_intensity * max(m.gdp - m.va_strategic, 0.0)


def _basic_research(state: State) -> float:
    """Basic research as the statistics count it, bn CNY: the counted share of knowledge
    institutions' research funding (``initialisation.rd_closures``)."""
    return state.macro.basic_research_statistical_share * float(state.institutions.funding.sum())


def macro_indicators() -> dict[str, MacroIndicator]:
    """Economy-wide indicators."""
    return {
        "gdp": lambda s: s.macro.gdp,
        "manufacturing_share": lambda s: (s.macro.va_traditional + s.macro.va_strategic) / s.macro.gdp,
        # nominal share = real share x manufacturing's price relative to the GDP deflator (1 at the start)
        "manufacturing_share_nominal": lambda s: (
            (s.macro.va_traditional + s.macro.va_strategic) / s.macro.gdp * s.macro.manufacturing_relative_price
        ),
        "debt_to_gdp": lambda s: s.macro.debt / (s.macro.gdp * s.macro.price_level),  # nominal / nominal
        "price_level": lambda s: s.macro.price_level,
        "gdp_nominal": lambda s: s.macro.gdp * s.macro.price_level,
        "va_traditional": lambda s: s.macro.va_traditional,
        "va_strategic": lambda s: s.macro.va_strategic,
        "strategic_exports": lambda s: float(s.technologies.china_exports.sum()),
        "tfp_index": lambda s: s.macro.tfp_index,
        "tfp_growth": lambda s: s.macro.tfp_growth,
        "publications": lambda s: float(s.institutions.publications.sum()),
        "patents": lambda s: float(s.institutions.patents.sum()),
        "hhi_priority": lambda s: segments.herfindahl(s.technologies.priority),
        "hhi_funding": lambda s: segments.herfindahl(s.ledger.by_technology(exclude=INDUSTRIAL_POLICY)),
        "soe_funding_share": _funding_share_soe,
        "central_budget": lambda s: s.macro.central_budget,
        "firm_rd": lambda s: float(s.firms.rd.sum()),
        "gerd": _gerd,
        "gerd_share": lambda s: _gerd(s) / s.macro.gdp,
        "basic_research": _basic_research,
        "basic_research_share": lambda s: _basic_research(s) / _gerd(s) if _gerd(s) > 0 else 0.0,
        "institution_funding": lambda s: float(s.institutions.funding.sum()),
        "local_budget": lambda s: s.macro.local_budget,
        "manufacturing_subsidy": lambda s: s.macro.manufacturing_subsidy,
        "ledger_imbalance": lambda s: s.ledger.imbalance(),
        "allocation_quality": lambda s: s.macro.allocation_quality,
        "labour_cost": lambda s: s.macro.labour_cost,
        "decoupling": lambda s: s.macro.decoupling,
        "firms": lambda s: float(s.firms.weight.sum()),
        "agents": lambda s: float(len(s.firms)),
        "entries": lambda s: float(s.technologies.entries.sum()),
        "exits": lambda s: float(s.technologies.exits.sum()),
    }


OWNERSHIP = ("private", "soe")  # code 0, 1: ``firms.soe``


def _province_columns(state: State) -> dict[str, np.ndarray]:
    firms, n = state.firms, len(state.provinces)
    province = firms.province.astype(np.int64)
    columns: dict[str, np.ndarray] = {"province_id": np.array(state.provinces.ids, dtype=object)}
    # real firms: an agent stands for ``weight`` firms (super-individuals); money is already the group's total
    columns["firms"] = np.bincount(province, weights=firms.weight, minlength=n)
    for name, values in (
        ("soe_firms", firms.weight * firms.soe),
        ("subsidies", firms.subsidy),
        ("revenue", firms.revenue),
        ("exports", firms.exports),
        ("rd", firms.rd),
    ):
        columns[name] = np.bincount(province, weights=values, minlength=n)
    return columns


def province_breakdown() -> Breakdown:
    """``province_year``: real firms, SOE firms and firms' subsidies, revenue, exports and R&D by province.

    Money in bn CNY (2024 prices); subsidies are what firms received that year (central
    instruments and local allocation).
    """
    return Breakdown(name="province_year", keys=("province_id",), columns=_province_columns)


def _ownership_columns(state: State) -> dict[str, np.ndarray]:
    """Cells ``2 · technology + soe``; sums are ``np.bincount`` over firms, the best a group max."""
    firms, tech = state.firms, state.technologies
    n = 2 * state.n_technologies
    codes = 2 * firms.technology.astype(np.int64) + firms.soe
    columns: dict[str, np.ndarray] = {
        "technology_id": np.repeat(np.array(tech.ids, dtype=object), 2),
        "ownership": np.tile(np.array(OWNERSHIP, dtype=object), state.n_technologies),
        "firms": np.bincount(codes, weights=firms.weight, minlength=n),  # real firms (agents × weight)
    }
    for name, values in (
        ("domestic_share", firms.share),
        ("exports", firms.exports),
        ("revenue", firms.revenue),
        ("rd", firms.rd),
        ("subsidies", firms.subsidy),
    ):
        columns[name] = np.bincount(codes, weights=values, minlength=n)
    best = ops.group_max(firms.capability, codes, n)  # compiled: np.maximum.at is slow
    columns["best_capability"] = np.where(np.isfinite(best), best, np.nan)
    columns["relative_capability"] = np.exp(columns["best_capability"] - np.repeat(tech.frontier, 2))
    return columns


def ownership_breakdown() -> Breakdown:
    """``technology_ownership_year``: each technology's outputs split between SOE and private firms.

    Per technology and ownership (``private``/``soe``): firms, domestic market share (share
    of the Chinese market, 0–1), exports, revenue, R&D and subsidies (bn CNY), best
    capability and its relative capability ``exp(best − F)`` (NaN with no firm).
    """
    return Breakdown(name="technology_ownership_year", keys=("technology_id", "ownership"), columns=_ownership_columns)


def make_recorder(instruments: tuple[str, ...]) -> Recorder:
    """A recorder declaring every §9 indicator, the province and ownership breakdowns and the
    capability attribution (``mechanisms.attribution``)."""
    shared = YearValues()
    return Recorder(
        technology_indicators(instruments, shared),
        macro_indicators(),
        (province_breakdown(), ownership_breakdown(), attribution_breakdown()),
        prepare=shared.prepare,
    )


def lasting_parity(keys: np.ndarray, years: np.ndarray, at_parity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The one definition of a *broken* bottleneck, used by every shell.

    A technology's bottleneck is **broken** when it is below parity in the start year, crosses
    parity later and stays at parity in every year through the end of the run; its broken
    year is the first year of that lasting spell. A technology already at parity in the start
    year is counted as **at parity at start** and never as broken, even if it falls below
    later and climbs back (lidar starts above parity and falls behind in the baseline).

    Parameters
    ----------
    keys
        Integer code of the series each row belongs to (one per run and technology), ≥ 0.
    years
        Calendar year of each row.
    at_parity
        Whether the row is at parity (relative capability ≥ the parity threshold).

    Returns
    -------
    at_start, broken_year
        Per row, for the row's series: at parity in its first year (bool); and the broken
        year (float, NaN when the series is not broken).
    """
    keys = np.asarray(keys, dtype=np.int64)
    years = np.asarray(years, dtype=np.int64)
    hit = np.asarray(at_parity, dtype=bool)
    if keys.size == 0:
        return np.zeros(0, dtype=bool), np.zeros(0)
    n = int(keys.max()) + 1
    start = np.full(n, np.iinfo(np.int64).max)
    end = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(start, keys, years)
    np.maximum.at(end, keys, years)
    last_miss = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last_miss, keys[~hit], years[~hit])
    at_start = np.zeros(n, dtype=bool)
    at_end = np.zeros(n, dtype=bool)
    first_row, last_row = years == start[keys], years == end[keys]
    at_start[keys[first_row & hit]] = True
    at_end[keys[last_row & hit]] = True
    broken = at_end & ~at_start
    # the spell starts the year after the last year below parity (which exists: not at parity at start)
    broken_year = np.where(broken, last_miss + 1, np.nan).astype(float)
    return at_start[keys], broken_year[keys]


def finalise(technology: dict[str, Any], macro: dict[str, Any], parity: float) -> None:
    """Add derived columns in place: parity flags, first and broken years, growth rates.

    ``technology`` and ``macro`` are the recorder's column dicts (rows ordered by year,
    then technology).
    """
    relative = np.nan_to_num(technology["relative_capability"], nan=0.0)
    hit = relative >= parity
    technology["parity_reached"] = hit
    years = technology["year"]
    ids = technology["technology_id"]
    first = np.full(len(years), np.nan)
    unique_ids, position = np.unique(ids, return_inverse=True)
    earliest = np.full(len(unique_ids), np.inf)
    np.minimum.at(earliest, position[hit], years[hit])
    first[:] = np.where(np.isfinite(earliest[position]), earliest[position], np.nan)
    technology["first_parity_year"] = first
    at_start, broken_year = lasting_parity(position, years, hit)
    technology["parity_at_start"] = at_start
    technology["broken_year"] = broken_year
    for name in ("publications", "patents", "gdp"):
        values = np.asarray(macro[name], dtype=float)
        growth = np.full(len(values), np.nan)
        growth[1:] = values[1:] / np.where(values[:-1] != 0, values[:-1], np.nan) - 1.0
        macro[f"{name}_growth"] = growth
