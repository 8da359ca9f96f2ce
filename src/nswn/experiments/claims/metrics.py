"""Metrics of the claims: pure functions of one run's tables (``technology_year``, ``macro_year``).

Nothing here runs a model; every function reads the tidy tables of model.md §9 and returns a
number. Technology sets come from the shipped catalog (before any scenario override), so
the same technologies are compared in every arm.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pandas as pd

from nswn.analysis.compare import median_years_to_parity

__all__ = [
    "PARITY_START",
    "all_ids",
    "annual_growth",
    "below_parity",
    "capability_gain",
    "catalog_frame",
    "controlled",
    "entrepreneurial",
    "gap_closed",
    "growth_gap",
    "high_e",
    "ids_where",
    "low_e",
    "macro_at",
    "mean_at",
    "median_years_to_parity",
    "shortlisted",
    "tfp_gain",
    "tfp_per_million_papers",
]

PARITY_START = 0.9  # relative capability at which a technology counts as at parity (model.md §9)


def _year(tech: pd.DataFrame, year: int) -> pd.DataFrame:
    return tech[tech["year"] == min(year, int(tech["year"].max()))]


def macro_at(macro: pd.DataFrame, column: str, year: int) -> float:
    """``column`` of the macro table in ``year`` (or the last simulated year if earlier)."""
    return float(macro.loc[macro["year"] == min(year, int(macro["year"].max())), column].iloc[0])


@cache
def catalog_frame() -> pd.DataFrame:
    """The shipped catalog's technologies, indexed by id."""
    from nswn import catalog

    return pd.DataFrame([t.__dict__ for t in catalog.technologies()]).set_index("id")


def ids_where(condition: Callable[[pd.DataFrame], pd.Series]) -> tuple[str, ...]:
    """Catalog technologies (simulated ones) meeting ``condition``."""
    cat = catalog_frame()
    cat = cat[cat["group"] != "traditional"]
    return tuple(cat.index[condition(cat)])


def mean_at(tech: pd.DataFrame, ids: tuple[str, ...], column: str, year: int) -> float:
    """Mean of ``column`` over technologies ``ids`` in ``year``."""
    rows = _year(tech, year)
    rows = rows[rows["technology_id"].isin(ids)]
    return float(rows[column].mean()) if len(rows) else float("nan")


def capability_gain(tech: pd.DataFrame, ids: tuple[str, ...], year: int) -> float:
    """Mean rise of the best Chinese capability (log units) from the start to ``year``."""
    start = mean_at(tech, ids, "best_capability", int(tech["year"].min()))
    return mean_at(tech, ids, "best_capability", year) - start


def gap_closed(tech: pd.DataFrame, ids: tuple[str, ...], year: int) -> float:
    """Mean gap to the frontier closed (log units) between the start and ``year``."""
    return mean_at(tech, ids, "gap", int(tech["year"].min())) - mean_at(tech, ids, "gap", year)


def controlled(tech: pd.DataFrame) -> tuple[str, ...]:
    """Technologies under an export control at some time of the run."""
    return tuple(sorted(set(tech.loc[tech["fence_height"] > 0, "technology_id"])))


def shortlisted(tech: pd.DataFrame) -> tuple[str, ...]:
    """Technologies with a positive priority weight in the start year."""
    start = _year(tech, int(tech["year"].min()))
    return tuple(sorted(start.loc[start["priority_weight"] > 0, "technology_id"]))


def annual_growth(macro: pd.DataFrame, column: str) -> float:
    """Annual growth from the first simulated year to the last (the start year's flows are a
    one-off opening allocation on the initial state, so growth is measured from the first
    simulated year)."""
    first, last = macro[column].iloc[1], macro[column].iloc[-1]
    years = int(macro["year"].iloc[-1] - macro["year"].iloc[1])
    return float((last / first) ** (1.0 / years) - 1.0) if first > 0 and years > 0 else float("nan")


def growth_gap(macro: pd.DataFrame) -> float:
    """Publication growth minus TFP growth (per year): the two-layers gap of one run."""
    return annual_growth(macro, "publications") - annual_growth(macro, "tfp_index")


def tfp_gain(macro: pd.DataFrame) -> float:
    """Rise of the TFP index from the start year to the last year (index points)."""
    return float(macro["tfp_index"].iloc[-1] - macro["tfp_index"].iloc[0])


def tfp_per_million_papers(macro: pd.DataFrame) -> float:
    """TFP gain per million publications of the simulated years (index points)."""
    papers = float(macro["publications"].iloc[1:].sum())
    return tfp_gain(macro) / papers * 1e6 if papers else float("nan")


@cache
def below_parity() -> tuple[str, ...]:
    """Simulated technologies below parity at the start (where catching up is at stake)."""
    return ids_where(lambda c: c["rel_capability0"] < PARITY_START)


@cache
def high_e() -> tuple[str, ...]:
    """Emulable technologies (e ≥ 0.7) below parity at the start."""
    return ids_where(lambda c: (c["emulability"] >= 0.7) & (c["rel_capability0"] < PARITY_START))


@cache
def low_e() -> tuple[str, ...]:
    """Technologies without a foreign template (e ≤ 0.4) below parity at the start."""
    return ids_where(lambda c: (c["emulability"] <= 0.4) & (c["rel_capability0"] < PARITY_START))


@cache
def entrepreneurial() -> tuple[str, ...]:
    """Technologies whose progress depends on private experimentation (ρ ≥ 0.6)."""
    return ids_where(lambda c: c["entrepreneurship"] >= 0.6)


@cache
def all_ids() -> tuple[str, ...]:
    """Every simulated technology."""
    return ids_where(lambda c: c["entrepreneurship"] >= 0)
