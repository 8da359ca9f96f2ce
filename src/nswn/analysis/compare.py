"""Paired comparison of two scenarios under common random numbers.

Both arms run with the same seeds, so each seed's difference removes the noise the arms
share; the interval is a Student-t interval over the paired differences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONTROLLED = "controlled"  # technologies under export controls in either arm, at any year


@dataclass(frozen=True)
class KeyIndicator:
    """One headline number computed from a run's tables."""

    name: str
    label: str
    compute: Callable[[pd.DataFrame, pd.DataFrame, tuple[str, ...]], float]


def _at(macro: pd.DataFrame, column: str, year: int) -> float:
    """Value in ``year``; NaN when the run does not reach it (shown as "—")."""
    rows = macro[macro["year"] == year]
    return float(rows[column].iloc[0]) if len(rows) else float("nan")


def _tech_at(tech: pd.DataFrame, year: int) -> pd.DataFrame:
    """Rows of ``year`` (empty when the run does not reach it)."""
    return tech[tech["year"] == year]


def _stranglehold(tech: pd.DataFrame) -> pd.DataFrame:
    return tech[tech["group"] == "stranglehold"]


def _count_at(tech: pd.DataFrame, year: int) -> float:
    """Stranglehold technologies at parity in ``year`` (NaN when the run does not reach it)."""
    rows = _stranglehold(_tech_at(tech, year))
    return float(rows["parity_reached"].sum()) if len(rows) else float("nan")


def _broken_by(tech: pd.DataFrame, year: int) -> float:
    """Stranglehold bottlenecks broken by ``year`` (:mod:`nswn.analysis.parity`; NaN when the run does not reach it)."""
    from nswn.analysis.parity import broken_by, parity_status

    if year > int(tech["year"].max()):
        return float("nan")
    return float(broken_by(parity_status(_stranglehold(tech), by=()), year).sum())


def _at_start(tech: pd.DataFrame) -> float:
    """Stranglehold technologies at parity in the start year (never counted as broken)."""
    from nswn.analysis.parity import parity_status

    return float(parity_status(_stranglehold(tech), by=())["parity_at_start"].sum())


def years_to_parity(tech: pd.DataFrame) -> pd.Series:
    """Years from the start to first parity per technology (NaN if never)."""
    start = int(tech["year"].min())
    first = tech.groupby("technology_id")["first_parity_year"].first()
    return first - start


def median_years_to_parity(tech: pd.DataFrame, ids: pd.Index | None = None) -> float:
    """Median years to parity, counting technologies that never reach it as beyond the horizon.

    A technology that never reaches parity counts as ``horizon + 1`` years, so the median is
    defined whenever more than half reach parity and otherwise reports the horizon + 1.
    """
    years = years_to_parity(tech)
    if ids is not None:
        years = years[years.index.isin(ids)]
    horizon = int(tech["year"].max()) - int(tech["year"].min())
    return float(np.median(years.fillna(horizon + 1))) if len(years) else float("nan")


def _controlled_mean(column: str, year: int) -> Callable[[pd.DataFrame, pd.DataFrame, tuple[str, ...]], float]:
    def compute(tech: pd.DataFrame, macro: pd.DataFrame, controlled: tuple[str, ...]) -> float:
        rows = _tech_at(tech, year)
        rows = rows[rows["technology_id"].isin(controlled)]
        return float(rows[column].mean()) if len(rows) else float("nan")

    return compute


def _controlled_sum(column: str) -> Callable[[pd.DataFrame, pd.DataFrame, tuple[str, ...]], float]:
    def compute(tech: pd.DataFrame, macro: pd.DataFrame, controlled: tuple[str, ...]) -> float:
        rows = tech[tech["technology_id"].isin(controlled) & (tech["year"] > tech["year"].min())]
        return float(rows[column].sum()) if len(rows) else float("nan")

    return compute


KEY_INDICATORS: tuple[KeyIndicator, ...] = (
    KeyIndicator(
        "stranglehold_parity_at_start", "stranglehold techs at parity at the start", lambda t, m, c: _at_start(t)
    ),
    KeyIndicator(
        "stranglehold_broken_2035",
        "stranglehold bottlenecks broken by 2035 (crossed after the start, held to the end)",
        lambda t, m, c: _broken_by(t, 2035),
    ),
    KeyIndicator(
        "stranglehold_broken_2050",
        "stranglehold bottlenecks broken by 2050 (crossed after the start, held to the end)",
        lambda t, m, c: _broken_by(t, 2050),
    ),
    KeyIndicator(
        "stranglehold_parity_2035",
        "stranglehold techs at parity in 2035 (incl. at start)",
        lambda t, m, c: _count_at(t, 2035),
    ),
    KeyIndicator(
        "stranglehold_parity_2050",
        "stranglehold techs at parity in 2050 (incl. at start)",
        lambda t, m, c: _count_at(t, 2050),
    ),
    KeyIndicator(
        "median_years_to_parity",
        "median years to parity (stranglehold)",
        lambda t, m, c: median_years_to_parity(_stranglehold(t)),
    ),
    KeyIndicator(
        "stranglehold_relcap_2035",
        "mean relative capability 2035 (stranglehold)",
        lambda t, m, c: float(_stranglehold(_tech_at(t, 2035))["relative_capability"].mean()),
    ),
    KeyIndicator(
        "controlled_relcap_2035",
        "relative capability 2035 (controlled techs)",
        _controlled_mean("relative_capability", 2035),
    ),
    KeyIndicator(
        "controlled_domestic_share_2035",
        "Chinese domestic share 2035 (controlled techs)",
        _controlled_mean("china_domestic_share", 2035),
    ),
    KeyIndicator(
        "controlled_foreign_china_sales",
        "foreign sales in China, all years (controlled, bn CNY)",
        _controlled_sum("foreign_china_sales"),
    ),
    KeyIndicator(
        "controlled_foreign_exports",
        "foreign exports, all years (controlled, bn CNY)",
        _controlled_sum("foreign_exports"),
    ),
    KeyIndicator(
        "manufacturing_share_2035",
        "manufacturing share of GDP, 2035",
        lambda t, m, c: _at(m, "manufacturing_share", 2035),
    ),
    KeyIndicator("debt_to_gdp_2035", "debt / GDP, 2035", lambda t, m, c: _at(m, "debt_to_gdp", 2035)),
    KeyIndicator("gdp_2035", "GDP 2035 (bn CNY, 2024 prices)", lambda t, m, c: _at(m, "gdp", 2035)),
    KeyIndicator("tfp_index_2035", "TFP index 2035 (2024 = 1)", lambda t, m, c: _at(m, "tfp_index", 2035)),
    KeyIndicator("publications_2035", "publications 2035", lambda t, m, c: _at(m, "publications", 2035)),
    KeyIndicator(
        "strategic_exports_2035", "strategic exports 2035 (bn CNY)", lambda t, m, c: _at(m, "strategic_exports", 2035)
    ),
    KeyIndicator(
        "hhi_funding",
        "HHI of S&T funding across technologies (mean)",
        lambda t, m, c: float(m["hhi_funding"].iloc[1:].mean()),
    ),
    KeyIndicator(
        "soe_funding_share",
        "SOE share of S&T funding (mean)",
        lambda t, m, c: float(m["soe_funding_share"].iloc[1:].mean()),
    ),
    KeyIndicator(
        "allocation_quality",
        "allocation quality: corr(support, capability) (mean)",
        lambda t, m, c: float(m["allocation_quality"].iloc[1:].mean()),
    ),
    KeyIndicator("firms_2050", "firms at the end", lambda t, m, c: float(m["firms"].iloc[-1])),
)


def controlled_technologies(*technology_tables: pd.DataFrame) -> tuple[str, ...]:
    """Technologies with a fence in any of the tables, in any year."""
    ids: set[str] = set()
    for table in technology_tables:
        ids |= set(table.loc[table["fence_height"] > 0, "technology_id"])
    return tuple(sorted(ids))


def key_indicators(tech: pd.DataFrame, macro: pd.DataFrame, controlled: tuple[str, ...]) -> dict[str, float]:
    """Every key indicator of one run."""
    return {k.name: k.compute(tech, macro, controlled) for k in KEY_INDICATORS}


def paired_table(a: list[dict[str, float]], b: list[dict[str, float]], level: float = 0.9) -> pd.DataFrame:
    """Means of both arms and the paired difference (B − A) with a ``level`` t-interval.

    ``a[i]`` and ``b[i]`` must come from the same seed.
    """
    rows = []
    for k in KEY_INDICATORS:
        xa = np.array([run[k.name] for run in a], dtype=float)
        xb = np.array([run[k.name] for run in b], dtype=float)
        diff = xb - xa
        n = int(np.sum(np.isfinite(diff)))
        mean = float(np.nanmean(diff)) if n else float("nan")
        if n >= 2:
            half = float(stats.t.ppf(0.5 + level / 2, n - 1) * np.nanstd(diff, ddof=1) / np.sqrt(n))
        else:
            half = float("nan")
        rows.append(
            {
                "indicator": k.name,
                "label": k.label,
                "a": float(np.nanmean(xa)) if np.isfinite(xa).any() else float("nan"),
                "b": float(np.nanmean(xb)) if np.isfinite(xb).any() else float("nan"),
                "difference": mean,
                "low": mean - half,
                "high": mean + half,
                "seeds": n,
            }
        )
    return pd.DataFrame(rows)
