"""Calibration report: the baseline against the pattern-oriented targets of model.md §11.

Every target comes from ``shared/data/macro_facts.csv`` (through the catalog's
``macro.csv``) with its source. The model's value is given with a 5–95 % band over seeds
and the miss is reported as it is. No parameter is fitted here: targets that hold "by
construction" are calibration closures of the initialisation and are labelled so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Target:
    """One calibration target."""

    id: str
    label: str
    value: float
    unit: str
    tolerance: float
    source: str
    scenario: str
    compute: Callable[[pd.DataFrame, pd.DataFrame], float]
    note: str = ""


def _slope(macro: pd.DataFrame, column: str, start: int, end: int) -> float:
    rows = macro[(macro["year"] >= start) & (macro["year"] <= end)]
    return float(np.polyfit(rows["year"], rows[column], 1)[0])


def _first_simulated(macro: pd.DataFrame, column: str) -> float:
    return float(macro[column].iloc[1])


def _gerd(macro: pd.DataFrame) -> float:
    row = macro.iloc[1]
    return float(row["firm_rd"] + row["institution_funding"])


TARGETS: tuple[Target, ...] = (
    Target(
        "manufacturing_share_2024",
        "manufacturing value added / GDP, 2024",
        24.9,
        "% of GDP",
        1.0,
        "macro_facts.csv: CCID Research Institute, 工业和信息化研究 no.1 2026",
        "baseline",
        lambda t, m: 100 * float(m["manufacturing_share"].iloc[0]),
        "by construction: traditional value added is the closure",
    ),
    Target(
        "manufacturing_share_slope",
        "slope of the manufacturing share under let_it_decline",
        -0.41,
        "points per year",
        0.15,
        "macro_facts.csv: 32 % in 2006 (CCID) and 26.29 % in 2020 (China Industrial Economy Information Network); "
        "the brief's 2008–2020 figure cannot be checked (2008 is missing)",
        "let_it_decline",
        lambda t, m: 100 * _slope(m, "manufacturing_share", 2025, 2038),
        "model slope fitted over 2025–2038",
    ),
    Target(
        "gerd_share",
        "R&D (GERD) / GDP",
        2.65,
        "% of GDP",
        0.3,
        "macro_facts.csv: 2023 National S&T Funding Statistical Communique",
        "baseline",
        lambda t, m: 100 * _gerd(m) / _first_simulated(m, "gdp"),
        "model R&D = modelled firms' R&D + institutions' funding, first simulated year; the model covers only "
        "the catalog's industries, so a shortfall is expected",
    ),
    Target(
        "basic_research_share",
        "basic research / R&D",
        6.77,
        "% of R&D",
        1.5,
        "macro_facts.csv: 2023 National S&T Funding Statistical Communique",
        "baseline",
        lambda t, m: 100 * float(t.loc[t["year"] == t["year"].min() + 1, "funding_basic_research"].sum()) / _gerd(m),
        "model basic research = the basic_research instrument's funding",
    ),
    Target(
        "fiscal_st_share",
        "fiscal S&T spending / GDP",
        0.80,
        "% of GDP",
        0.2,
        "derived in macro.csv from macro_facts.csv fiscal_st_expenditure 2019 and GDP 2019",
        "baseline",
        lambda t, m: (
            100
            * (_first_simulated(m, "central_budget") + _first_simulated(m, "local_budget"))
            / float(m["gdp"].iloc[0])
        ),
        "model = central S&T budget + local subsidies to modelled firms",
    ),
    Target(
        "debt_to_gdp_2024",
        "debt / GDP at the start",
        287.8,
        "% of GDP",
        5.0,
        "macro_facts.csv: NIFD, end-2023",
        "baseline",
        lambda t, m: 100 * float(m["debt_to_gdp"].iloc[0]),
        "by construction (starting value)",
    ),
)


def calibrate(
    seeds: int = 10, firms: int | None = None, progress: Callable[[str, int], None] | None = None
) -> pd.DataFrame:
    """Run the target scenarios over ``seeds`` and tabulate model bands against the targets."""
    from nswn import api

    values: dict[str, list[float]] = {t.id: [] for t in TARGETS}
    for scenario in dict.fromkeys(t.scenario for t in TARGETS):
        loaded = api.with_overrides(api.load_scenario(scenario), firms=firms)
        for seed in range(seeds):
            result = api.simulate(loaded, seed=seed)
            for target in TARGETS:
                if target.scenario == scenario:
                    values[target.id].append(target.compute(result.technology_year, result.macro_year))
            if progress is not None:
                progress(scenario, seed)
    rows = []
    for target in TARGETS:
        v = np.array(values[target.id])
        p5, p50, p95 = np.percentile(v, [5, 50, 95])
        miss = p50 - target.value
        rows.append(
            {
                "id": target.id,
                "target": target.label,
                "observed": target.value,
                "unit": target.unit,
                "model_p5": p5,
                "model_median": p50,
                "model_p95": p95,
                "miss": miss,
                "within_tolerance": bool(abs(miss) <= target.tolerance),
                "tolerance": target.tolerance,
                "scenario": target.scenario,
                "source": target.source,
                "note": target.note,
            }
        )
    return pd.DataFrame(rows)
