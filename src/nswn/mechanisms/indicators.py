"""The §9 indicators: what every run records per technology and year, and per year.

Per technology: best and median capability, gap ``F − c_best``, relative capability
``exp(c_best − F)``, whether the bottleneck is broken (relative capability ≥ ``parity``)
and the first year it was, Chinese firms' domestic share, exports, funding (total and by
instrument), publications, patents, usable knowledge relative to what firms need
(``knowledge`` = ``U_t / U_req,t``, 1 at the start), firm count, entries, exits, the
foreign competitor's Chinese sales and exports, priority weight and fence height.

Macro: GDP, manufacturing share, debt/GDP, exports, TFP index and growth, publications and
patents (with growth), HHI of priority weights and of funding, share of funding to SOEs,
budgets, allocation quality, firm count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nswn.core import segments
from nswn.core.params import param
from nswn.core.record import MacroIndicator, Recorder, TechnologyIndicator
from nswn.core.state import State
from nswn.kernels import ops


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
    firms = state.firms
    return segments.group_median(firms.capability, firms.technology, state.n_technologies)


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
            "firms": lambda s: segments.group_count(s.firms.technology, s.n_technologies).astype(float),
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


def macro_indicators() -> dict[str, MacroIndicator]:
    """Economy-wide indicators."""
    return {
        "gdp": lambda s: s.macro.gdp,
        "manufacturing_share": lambda s: (s.macro.va_traditional + s.macro.va_strategic) / s.macro.gdp,
        "debt_to_gdp": lambda s: s.macro.debt / s.macro.gdp,
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
        "institution_funding": lambda s: float(s.institutions.funding.sum()),
        "local_budget": lambda s: s.macro.local_budget,
        "manufacturing_subsidy": lambda s: s.macro.manufacturing_subsidy,
        "ledger_imbalance": lambda s: s.ledger.imbalance(),
        "allocation_quality": lambda s: s.macro.allocation_quality,
        "labour_cost": lambda s: s.macro.labour_cost,
        "decoupling": lambda s: s.macro.decoupling,
        "firms": lambda s: float(len(s.firms)),
        "entries": lambda s: float(s.technologies.entries.sum()),
        "exits": lambda s: float(s.technologies.exits.sum()),
    }


def make_recorder(instruments: tuple[str, ...]) -> Recorder:
    """A recorder declaring every §9 indicator."""
    shared = YearValues()
    return Recorder(technology_indicators(instruments, shared), macro_indicators(), prepare=shared.prepare)


def finalise(technology: dict[str, Any], macro: dict[str, Any], parity: float) -> None:
    """Add derived columns in place: parity flags and first year, growth rates.

    ``technology`` and ``macro`` are the recorder's column dicts (rows ordered by year,
    then technology).
    """
    relative = np.nan_to_num(technology["relative_capability"], nan=0.0)
    broken = relative >= parity
    technology["parity_reached"] = broken
    years = technology["year"]
    ids = technology["technology_id"]
    first = np.full(len(years), np.nan)
    unique_ids, position = np.unique(ids, return_inverse=True)
    earliest = np.full(len(unique_ids), np.inf)
    np.minimum.at(earliest, position[broken], years[broken])
    first[:] = np.where(np.isfinite(earliest[position]), earliest[position], np.nan)
    technology["first_parity_year"] = first
    for name in ("publications", "patents", "gdp"):
        values = np.asarray(macro[name], dtype=float)
        growth = np.full(len(values), np.nan)
        growth[1:] = values[1:] / np.where(values[:-1] != 0, values[:-1], np.nan) - 1.0
        macro[f"{name}_growth"] = growth
