"""Hindcast: run the ``history`` scenario 2006 → 2024 and compare it with what happened.

Targets (``catalog/history/targets.csv``) carry their observed value, a tolerance written
from the data's own uncertainty before any run (revisions, source disagreement, definitions),
a source and a window (``train`` 2006–2018, ``test`` 2019–2024). For each target the
simulated median and 90 % interval over seeds are compared with the observation; a target
is *within* when the simulated median lies within observed ± tolerance. Targets the model
does not represent (the year China became the largest shipbuilder) are listed
as not modelled, never dropped.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

HISTORY_SCENARIO = "history"


@dataclass(frozen=True)
class Target:
    """One observed fact to reproduce."""

    target_id: str
    indicator: str
    technology: str
    year: int
    observed: float
    tolerance: float
    tolerance_basis: str
    window: str
    source: str


def targets() -> list[Target]:
    """The hindcast targets shipped with the catalog."""
    text = resources.files("nswn.catalog").joinpath("history").joinpath("targets.csv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(text.splitlines()):
        out.append(
            Target(
                target_id=row["target_id"],
                indicator=row["indicator"],
                technology=row["technology"] or "",
                year=int(row["year"]),
                observed=float(row["observed"]),
                tolerance=float(row["tolerance"]),
                tolerance_basis=row["tolerance_basis"],
                window=row["window"],
                source=row["source"],
            )
        )
    return out


def _years_in(target_id: str) -> list[int]:
    return [int(y) for y in re.findall(r"(?<!\d)(\d{4})(?!\d)", target_id)]


def global_share(tech: pd.DataFrame) -> pd.Series:
    """China's share of the WORLD market, home market included, % per technology-year.

    ``100 · ((1 − f_t) D_t + x_t) / (D_t + W_t)``: Chinese firms' sales at home
    (``china_domestic_share`` = 1 − foreign share, times home demand ``D``) plus their
    exports ``x`` over world demand including China (``D`` plus the market outside China
    ``W`` = Chinese plus foreign exports). This is what "China's share of world PV
    production", "Chinese makers' share of global EV-battery installations", "share of world
    ship completions" and "share of global EVs produced" measure. The model's
    ``china_world_share`` is different: China's share of the market *outside* China
    (``x / W``, the catalog's ``world_share0`` convention).
    """
    home = tech["china_domestic_share"] * tech["demand"]
    world = tech["demand"] + tech["china_exports"] + tech["foreign_exports"]
    return 100 * (home + tech["china_exports"]) / world


def demand_share(tech: pd.DataFrame, price_ratio: float = 1.0) -> pd.Series:
    """China's share of world demand in units, % per technology-year:
    ``100 · D_t / (D_t + W_t / R)``.

    "China's share of world electric-car sales" counts cars *bought* in China, whoever made
    them, in units; the model's markets ``D`` (home) and ``W`` (outside China) are in money
    (bn CNY at 2024 prices). ``R`` is the price of a car sold outside China over one sold in
    China (``ev_price_ratio_rest_to_china`` in ``history/macro_series.csv``: JATO list prices
    weighted by IEA unit sales, about 1.8-2.1 in 2022-2024), so ``W / R`` is the outside market
    at Chinese prices; ``R = 1`` is the share in value. In the model both markets follow
    exogenous paths (``demand0``, ``world_demand0`` and their growth rates,
    ``scenarios/history.yaml``), so this compares an input path with the observation, not a
    model result.

    Raises
    ------
    ValueError
        If ``price_ratio`` is not positive.
    """
    if not price_ratio > 0:
        raise ValueError(f"price ratio must be positive, got {price_ratio}")
    outside = tech["china_exports"] + tech["foreign_exports"]
    return 100 * tech["demand"] / (tech["demand"] + outside / price_ratio)


# each technology-share indicator of targets.csv and the quantity it measures (its ``note``)
SHARE_INDICATORS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "world_production_share": global_share,  # China's share of world PV production
    "world_share_ev_battery_installations": global_share,  # Chinese makers' share of global installations
    "world_share_ship_completions": global_share,  # share of world completions
    "world_share_ev_production": global_share,  # share of global EVs produced
    "world_share_ev_sales": demand_share,  # China's share of world EV sales in units (an input path)
}

# share indicators counted in units while the model's markets are in money: the price ratio
# (outside China / China) of each year, from ``history/macro_series.csv``
UNIT_PRICE_RATIOS = {"world_share_ev_sales": "ev_price_ratio_rest_to_china"}

# The 5th national economic census (2023) revised NBS's accounts; the revised sectoral series
# (``secondary_share``, ``services_share``, ``primary_share``, ``manufacturing_share_revised`` in
# ``history/macro_series.csv``) begin in 2020, and every manufacturing-share target from 2020 on
# is on that basis (targets.csv notes: "post-census basis"); those before are not.
CENSUS_BASIS_FROM = 2020


@cache
def census_factor() -> float:
    """Manufacturing's share on the post-census basis over the pre-census one: the secondary
    industry's ratio in 2020, the one year both vintages give, ``σ_rev(2020) / σ_pre(2020)``
    (NBS revised series and the 2020 communiqué, ``history/macro_series.csv``; 0.976).

    Why a conversion: the model's nominal manufacturing share is the real share times
    manufacturing's relative price, whose 2019 → 2020 step ``derived_inputs`` measures on one
    (pre-census) vintage, so that the revision is not taken for a price change; its level from
    2020 on is therefore the pre-census one with the revised series' movements, and the ratio of
    the two vintages in 2020 carries it onto the basis of the targets. Assumption (judged):
    manufacturing's share was revised in the same proportion as the secondary industry's. Where
    both vintages of both are in the data (revised over pre-census; ``manufacturing_share_revised``
    over the first-release ``manufacturing_share``, ``secondary_share`` over
    ``secondary_share_csy2024``) the ratios are 0.972 and 0.971 in 2021, 0.938 and 0.949 in 2022,
    0.955 and 0.933 in 2023: close in 2021, 1.2 % and 2.3 % apart after (the first-release
    manufacturing figures of 2022–2023 are secondary sources on other GDP vintages).
    """
    revised = _series("secondary_share")[CENSUS_BASIS_FROM]
    pre_census = _series("secondary_share_pre_census")[CENSUS_BASIS_FROM]
    return revised / pre_census


def published_manufacturing_share(macro: pd.DataFrame) -> pd.Series:
    """The manufacturing share as the statistics publish it, % of GDP per year of one run.

    The nominal share (real share × manufacturing's relative price; the real one where a run
    has no nominal column), times :func:`census_factor` from :data:`CENSUS_BASIS_FROM` on for a
    run that started before it: the pre-census basis before 2020 and the post-census basis
    after, as the targets are. A run starting in 2020 or later (the 2024 vintage, 24.9 %, is on
    the revised basis) is not converted.

    Parameters
    ----------
    macro : DataFrame
        A run's ``macro_year`` table (columns ``year`` and ``manufacturing_share_nominal`` or
        ``manufacturing_share``, shares of GDP).

    Returns
    -------
    Series
        Indexed by year, in % of GDP.
    """
    m = macro.set_index("year")
    column = "manufacturing_share_nominal" if "manufacturing_share_nominal" in m.columns else "manufacturing_share"
    years = m.index.to_numpy()
    # a run that starts on the post-census basis (a start year from 2020 on: the 2024 vintage) is on it already
    pre_census_start = len(years) > 0 and years.min() < CENSUS_BASIS_FROM
    factor = np.where(pre_census_start & (years >= CENSUS_BASIS_FROM), census_factor(), 1.0)
    return (100 * m[column].astype(float) * factor).rename("manufacturing_share_published")


def published_manufacturing_share_observed() -> dict[int, float]:
    """Observed manufacturing shares on the basis :func:`published_manufacturing_share` uses,
    % of GDP by year: first releases (pre-census) before :data:`CENSUS_BASIS_FROM`, the revised
    series from it, and values first published after the revision (2024). The 2020 first
    release (pre-census) is left out: no revised manufacturing value for 2020 was found."""
    first = _series("manufacturing_share")
    revised = _series("manufacturing_share_revised")
    out = {year: value for year, value in first.items() if year < CENSUS_BASIS_FROM}
    out.update(revised)
    last_revised = max(revised) if revised else CENSUS_BASIS_FROM - 1
    out.update({year: value for year, value in first.items() if year > last_revised})
    return dict(sorted(out.items()))


def simulated_value(target: Target, technology: pd.DataFrame, macro: pd.DataFrame) -> float | None:
    """The model's counterpart of a target in one run (None: not modelled).

    Units follow the targets file: shares and ratios in %, money in bn CNY at 2024 prices,
    counts as counts, years as years.
    """
    m = macro.set_index("year")
    y = target.year
    if y not in m.index:
        return None
    ind = target.indicator
    if ind in ("manufacturing_share", "manufacturing_share_revised"):
        # statistics report a nominal share (the model's value added is real, at start-year
        # prices), on the post-census basis from 2020 (census_factor)
        return float(published_manufacturing_share(macro).loc[y])
    if ind == "gdp_real_growth_mean":
        first, last = _years_in(target.target_id)[-2:]
        growth = m["gdp"].pct_change()
        return float(100 * growth.loc[first:last].mean())
    if ind == "gdp_real_index_2006":
        return float(m.loc[y, "gdp"] / m.loc[m.index.min(), "gdp"])
    if ind == "gdp_current":  # nominal GDP, bn CNY: real GDP times the deflator path (an input, see docs/history.md)
        return float(m.loc[y, "gdp_nominal"]) if "gdp_nominal" in m.columns else None
    if ind == "debt_to_gdp":
        return float(100 * m.loc[y, "debt_to_gdp"])
    if ind == "debt_to_gdp_change":
        return float(100 * (m.loc[y, "debt_to_gdp"] - m.loc[y - 1, "debt_to_gdp"])) if y - 1 in m.index else None
    if ind == "gerd_share_of_gdp":
        return float(100 * m.loc[y, "gerd_share"])
    if ind == "basic_research_share_of_gerd":
        return float(100 * m.loc[y, "basic_research_share"])
    if ind == "publications":
        return float(m.loc[y, "publications"])
    if ind == "publications_cagr":
        first, last = _years_in(target.target_id)[-2:]
        return float(100 * ((m.loc[last, "publications"] / m.loc[first, "publications"]) ** (1 / (last - first)) - 1))
    if ind == "invention_patent_grants":
        return float(m.loc[y, "patents"])
    tech = technology[technology["technology_id"] == target.technology]
    if tech.empty:
        return None
    at = tech.set_index("year")
    if ind in UNIT_PRICE_RATIOS:
        ratio = _series(UNIT_PRICE_RATIOS[ind]).get(y)
        if ratio is None:
            return None  # no sourced price ratio that year: units cannot be compared
        return float(demand_share(tech, ratio).set_axis(tech["year"]).loc[y])
    if ind in SHARE_INDICATORS:
        return float(SHARE_INDICATORS[ind](tech).set_axis(tech["year"]).loc[y])
    if ind == "relative_capability":
        return float(at.loc[y, "relative_capability"])
    if ind == "parity_year":
        first = at["first_parity_year"].dropna()
        return float(first.iloc[0]) if len(first) else float("nan")
    return None  # e.g. first-rank year: not represented by the model


# indicators whose runs may not produce a value because an event never happened (NaN): censored
CENSORED_INDICATORS = ("parity_year",)


def censored_band(sample: np.ndarray) -> tuple[float, float, float]:
    """5 %, 50 % and 95 % points of event years where NaN means "not reached by the horizon".

    Such a run is censored at +inf (later than every year): the median (``np.median``) exists
    while fewer than half of the runs are censored (NaN otherwise); the band is the order
    statistics around the 5 % and 95 % points (``lower``, ``higher``), so it is made of years
    or +inf, never an interpolation between a year and a censored run.

    Parameters
    ----------
    sample : ndarray, shape (runs,)
        Calendar years, NaN where the event did not happen by the end of the run.
    """
    censored = np.where(np.isnan(sample), np.inf, np.asarray(sample, dtype=float))
    median = float(np.median(censored))
    return (
        float(np.quantile(censored, 0.05, method="lower")),
        median if np.isfinite(median) else np.nan,
        float(np.quantile(censored, 0.95, method="higher")),
    )


def compare(runs: Iterable[tuple[pd.DataFrame, pd.DataFrame]], chosen: list[Target] | None = None) -> pd.DataFrame:
    """Observed vs simulated (median and 90 % interval over runs) for every target.

    Returns
    -------
    DataFrame, one row per target
        ``target_id, indicator, technology, year, window, observed, tolerance, median, p05,
        p95, status, deviation`` where status is ``within``, ``missed`` or ``not modelled`` and
        ``deviation`` is ``(median − observed) / tolerance`` (signed: above the observation is
        positive; within tolerance ⇔ |deviation| ≤ 1; NaN without a median), and ``horizon``,
        the last year of the longest run. A parity year (:data:`CENSORED_INDICATORS`) that a run
        of that length does not reach is censored: it counts as +inf ("after <horizon>" in the
        tables), so the median exists while fewer than half of the runs are censored; a shorter
        run that has not reached it tells nothing and is left out. The band of a parity year is
        always the order statistics around the 5 % and 95 % points (``lower``, ``higher``):
        years, never an interpolation between a year and a censored run.
    """
    chosen = chosen if chosen is not None else targets()
    values: dict[str, list[float]] = {t.target_id: [] for t in chosen}
    pairs = list(runs)
    ends = [int(macro["year"].max()) for _, macro in pairs if len(macro)]
    horizon = max(ends) if ends else None
    for technology, macro in pairs:
        short = len(macro) == 0 or int(macro["year"].max()) != horizon
        for target in chosen:
            value = simulated_value(target, technology, macro)
            if value is None:
                continue
            if short and target.indicator in CENSORED_INDICATORS and np.isnan(value):
                continue  # not reached by a run that stopped early: not comparable
            values[target.target_id].append(value)
    rows = []
    for target in chosen:
        sample = np.array(values[target.target_id], dtype=float)
        row: dict[str, object] = {
            "target_id": target.target_id,
            "indicator": target.indicator,
            "technology": target.technology,
            "year": target.year,
            "window": target.window,
            "observed": target.observed,
            "tolerance": target.tolerance,
        }
        if sample.size == 0:
            row.update(median=np.nan, p05=np.nan, p95=np.nan, status="not modelled")
        elif target.indicator in CENSORED_INDICATORS:
            p05, median, p95 = censored_band(sample)
            row.update(
                median=median,
                p05=p05,
                p95=p95,
                status="within" if abs(median - target.observed) <= target.tolerance else "missed",
            )
        else:
            finite = sample[np.isfinite(sample)]
            if finite.size == 0:  # e.g. parity never reached
                row.update(median=np.nan, p05=np.nan, p95=np.nan, status="missed")
            else:
                median = float(np.median(finite)) if finite.size == sample.size else np.nan
                row.update(
                    median=median,
                    p05=float(np.quantile(finite, 0.05)),
                    p95=float(np.quantile(finite, 0.95)),
                    status="within" if abs(median - target.observed) <= target.tolerance else "missed",
                )
        rows.append(row)
    table = pd.DataFrame(rows)
    table["deviation"] = (table["median"] - table["observed"]) / table["tolerance"]  # NaN where no median
    table["horizon"] = horizon if horizon is not None else np.nan
    return table


def year_text(value: float) -> str:
    """A calendar year (no thousands separator); a median between two years keeps its half: ``2017.5``."""
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def value_text(value: float, indicator: str, horizon: float, plain: Callable[[float], str]) -> str:
    """One value of a target in a table: ``after <horizon>`` when censored, a calendar year by
    :func:`year_text` (no thousands separator), anything else by ``plain``."""
    if (censored := censored_text(value, horizon)) is not None:
        return censored
    return year_text(value) if str(indicator).endswith("_year") and value == value else plain(value)


def band_text(row: Any, plain: Callable[[float], str]) -> str:
    """``median [p05, p95]`` of a :func:`compare` row (``—`` without a median), each by :func:`value_text`."""
    if row.median != row.median:
        return "—"
    horizon = getattr(row, "horizon", np.nan)
    low, mid, high = (value_text(v, row.indicator, horizon, plain) for v in (row.p05, row.median, row.p95))
    return f"{mid} [{low}, {high}]"


def censored_text(value: float, horizon: float) -> str | None:
    """How a censored quantile reads in the tables: ``after 2024`` (None for a finite value)."""
    if value != np.inf:
        return None
    return f"after {int(horizon)}" if horizon == horizon else "never"


def status_text(status: str, deviation: float) -> str:
    """A status with how far the median is from the observation, in tolerances: ``missed (+3.1)``."""
    if deviation != deviation:
        return status
    return f"{status} ({'0.0' if round(deviation, 1) == 0 else f'{deviation:+.1f}'})"  # never "-0.0"


def markdown_table(table: pd.DataFrame, seeds: int, firms: int | None) -> str:
    """The comparison table (:func:`compare`) as Markdown, with the count of targets within tolerance.

    Parameters
    ----------
    table
        Output of :func:`compare`.
    seeds, firms
        Seeds and agents of the runs (``None``: the whole real firm population), stated in the text.
    """
    from nswn.formatting import number

    resolution = "the whole real firm population" if firms is None else f"{firms} agents"
    lines = [
        f"Generated by `nswn hindcast --seeds {seeds}` ({resolution}); simulated median [90 % interval over seeds].",
        "",
        "| target | window | year | observed ± tolerance | simulated median [90 %] "
        "| status (median − observed, in tolerances) |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        name = row.target_id + (f" ({row.technology})" if row.technology else "")
        observed = value_text(row.observed, row.indicator, np.nan, number)
        lines.append(
            f"| {name} | {row.window} | {row.year} | {observed} ± {number(row.tolerance)} | "
            f"{band_text(row, number)} | {status_text(row.status, row.deviation)} |"
        )
    counts = table["status"].value_counts()
    within = int(counts.get("within", 0))
    modelled = within + int(counts.get("missed", 0))
    lines.append("")
    for window in ("train", "test"):
        part = table[table["window"] == window]["status"].value_counts()
        inside = int(part.get("within", 0))
        lines.append(
            f"* {window} window: {inside} of {inside + int(part.get('missed', 0))} modelled targets within tolerance."
        )
    lines += [
        f"* all: **{within} of {modelled}** modelled targets within tolerance; "
        f"{int(counts.get('not modelled', 0))} not modelled.",
        "",
    ]
    return "\n".join(lines)


def run_history(
    seeds: int,
    firms: int | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    store: Any = None,
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Run ``history`` for seeds 0..seeds−1 (in parallel processes when ``workers`` > 1);
    each finished run is also written to ``store`` (a results store) when one is given."""
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(seed, firms) for seed in range(seeds)]
    out: list[tuple[pd.DataFrame, pd.DataFrame]] = []

    def keep(i: int, result: Any) -> None:
        if store is not None:
            store.write(result)
        out.append((result.technology_year, result.macro_year))
        if progress:
            progress(i)

    if workers <= 1:
        for i, job in enumerate(jobs, start=1):
            keep(i, _one(job))
        return out
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for i, result in enumerate(pool.map(_one, jobs), start=1):
            keep(i, result)
    return out


def _one(job: tuple[int, int | None]) -> Any:
    from nswn import api

    seed, firms = job
    return api.simulate(HISTORY_SCENARIO, seed=seed, firms=firms)


def _series(indicator: str) -> dict[int, float]:
    """One indicator of ``history/macro_series.csv`` as ``{year: value}`` (a fresh dict)."""
    return {year: value for name, year, value in _macro_rows() if name == indicator}


@cache
def _history_rows(name: str) -> tuple[dict[str, str], ...]:
    """The rows of ``catalog/history/<name>`` (read once per process)."""
    text = resources.files("nswn.catalog").joinpath("history", name).read_text(encoding="utf-8")
    return tuple(csv.DictReader(text.splitlines()))


@cache
def _macro_rows() -> tuple[tuple[str, int, float], ...]:
    return tuple((row["indicator"], int(row["year"]), float(row["value"])) for row in _history_rows("macro_series.csv"))


def derived_inputs(
    start: int = 2006, end: int = 2024
) -> tuple[dict[str, dict[str, float]], dict[int, dict[str, float]]]:
    """Exogenous paths of the ``history`` scenario, derived from data (not from targets).

    The one place where the history scenario's inputs are computed from the data files;
    ``scenarios/history.yaml`` carries the result (``tests/test_history.py`` checks it).

    Returns
    -------
    catalog : {technology id: {"demand_growth", "world_demand_growth"}}
        Constant yearly growth that takes each market from its 2006-vintage size to its 2024
        catalog size, ``(D_2024 / D_2006)^(1/18) − 1`` (both endpoints from the catalog's
        vintages), clipped to the catalog's validated range (``catalog.TECHNOLOGY_RANGES``) and
        rounded to 5 decimals.
    macro : {year: {"services_growth", "other_growth", "inflation", "credit_growth", "manufacturing_price_growth"}}
        The year's ``assumptions.macro`` (``history/macro_series.csv``), rounded to 5 decimals:
        real growth of services value added from NBS's tertiary-industry volume index,
        ``(1 + g_y)(1 + t_y) / (1 + r_y) − 1`` with ``t`` the tertiary and ``r`` the GDP real
        growth of the same release and ``g`` the final GDP growth (the release's services
        premium carried onto the final GDP vintage); where no index is sourced, from the
        nominal share, ``(1 + g_y) s_y / s_(y−1) − 1``; the rest of the economy ("other": the
        start-year GDP less manufacturing and services) as the sum of agriculture (primary
        industry, grown the same two ways) and construction, mining and utilities (at ``g_y``,
        judged); GDP-deflator growth ``P_y / P_(y−1) − 1`` with ``P`` = nominal GDP / GDP at
        2024 prices (NBS); new credit ``TSF_y / nominal GDP_y`` (PBoC total social financing
        flow); manufacturing's price relative to the deflator, proxied by the secondary
        industry's implicit one, ``(σ_y / σ_(y−1)) (1 + r_y) / (1 + q_y) − 1`` with ``σ`` its
        nominal share and ``q`` its real growth (before 2009, without ``q``, the goods sector's
        — primary plus secondary — from the tertiary index: nominal non-services share change
        over the real one).
    """
    from nswn import catalog

    now = {t.id: t for t in catalog.technologies_for(end)}
    then = {t.id: t for t in catalog.technologies_for(start)}
    years = end - start
    overrides: dict[str, dict[str, float]] = {}
    for tech_id, old in then.items():
        new = now[tech_id]
        growth = {}
        for column, value0, value1 in (
            ("demand_growth", old.demand0, new.demand0),
            ("world_demand_growth", old.world_demand0, new.world_demand0),
        ):
            if value0 > 0 and value1 > 0:
                rate = (value1 / value0) ** (1 / years) - 1
                low, high = catalog.TECHNOLOGY_RANGES[column]
                growth[column] = round(min(max(rate, low), high), 5)
        if growth:
            overrides[tech_id] = growth
    real = _series("gdp_real_growth")
    share = _series("services_share")
    primary_share = _series("primary_share")
    facts = catalog.macro_for(start)
    # the start year's "other" value added (shares of GDP), split into agriculture and the rest
    other = 1.0 - facts["manufacturing_share"].value - facts["services_share"].value
    agriculture = primary_share[start] / 100
    non_farm = other - agriculture
    nominal = _series("gdp_current")
    at_2024 = _series("gdp_2024_prices")
    credit = _series("tsf_flow")
    release, tertiary, primary = (
        _series("gdp_real_growth_release"),
        _series("tertiary_real_growth"),
        _series("primary_real_growth"),
    )
    secondary, secondary_share = _series("secondary_real_growth"), _series("secondary_share")
    pre_census = _series("secondary_share_pre_census")  # the 2019 -> 2020 step on one vintage
    macro: dict[int, dict[str, float]] = {}
    for year in range(start + 1, end + 1):
        values: dict[str, float] = {}
        r = release[year] / 100 if year in release else None
        if year in real:
            g = real[year] / 100 if real[year] > 1 else real[year]
            if year in tertiary and r is not None:
                values["services_growth"] = round((1 + g) * (1 + tertiary[year] / 100) / (1 + r) - 1, 5)
            elif year in share and year - 1 in share:
                values["services_growth"] = round((1 + g) * share[year] / share[year - 1] - 1, 5)
            if year in primary and r is not None:
                farm_next = agriculture * (1 + g) * (1 + primary[year] / 100) / (1 + r)
                non_farm_next = non_farm * (1 + g)
                values["other_growth"] = round((farm_next + non_farm_next) / (agriculture + non_farm) - 1, 5)
                agriculture, non_farm = farm_next, non_farm_next
            elif year in primary_share and year - 1 in primary_share:
                farm_next = agriculture * (1 + g) * primary_share[year] / primary_share[year - 1]
                non_farm_next = non_farm * (1 + g)
                values["other_growth"] = round((farm_next + non_farm_next) / (agriculture + non_farm) - 1, 5)
                agriculture, non_farm = farm_next, non_farm_next
            else:
                values["other_growth"] = round(g, 5)
        if all(y in nominal and y in at_2024 for y in (year, year - 1)):
            deflator = nominal[year] / at_2024[year]
            values["inflation"] = round(deflator / (nominal[year - 1] / at_2024[year - 1]) - 1, 5)
        if year in credit and year in nominal:
            values["credit_growth"] = round(credit[year] / nominal[year], 5)
        now_share = pre_census.get(year, secondary_share.get(year))
        if r is not None and now_share is not None and year - 1 in secondary_share:
            if year in secondary:
                ratio = now_share / secondary_share[year - 1] * (1 + r) / (1 + secondary[year] / 100)
            elif year in tertiary and year in share and year - 1 in share:
                w0, w1 = share[year - 1] / 100, share[year] / 100  # services' nominal shares
                real_goods = (1 - w0 * (1 + tertiary[year] / 100) / (1 + r)) / (1 - w0)
                ratio = (1 - w1) / (1 - w0) / real_goods
            else:
                ratio = None
            if ratio is not None:
                values["manufacturing_price_growth"] = round(ratio - 1, 5)
        if values:
            macro[year] = values
    return overrides, macro


# the first year whose EV market growth comes from the yearly unit sales (ev_market_paths)
EV_FIRST_YEARLY = 2012


def _market_units(series: str, region: str) -> dict[int, float]:
    """One series and region of ``history/market_series.csv`` as ``{year: value}``."""
    return {
        int(row["year"]): float(row["value"])
        for row in _history_rows("market_series.csv")
        if row["series"] == series and row["region"] == region
    }


def ev_market_paths(
    start: int = 2006, end: int = 2024, series: str = "ev_car_sales_iea"
) -> tuple[dict[str, float], dict[int, dict[str, float]]]:
    """The EV markets' growth in ``history``: yearly, as electric-car sales grew (docs/history.md).

    China's market ``D`` follows China's electric-car sales and the market outside China ``W``
    the world's less China's (``history/market_series.csv``, IEA Global EV Data 2024; BEV +
    PHEV cars), each scaled so that ``end`` equals the ``end`` catalog (``demand0``,
    ``world_demand0``): money at 2024 prices is units times a constant value per car
    (**judged**: no sourced yearly price path of electric cars was found). Before
    :data:`EV_FIRST_YEARLY` one constant rate takes the ``start`` vintage to the scaled level of
    the year before (the sales of 2010–2011 grew 3.6- and 7.3-fold, beyond the catalog's range,
    on counts of a few thousand cars).

    Returns
    -------
    constant : {"demand_growth", "world_demand_growth"}
        1/yr for ``start`` + 1 … ``EV_FIRST_YEARLY`` − 1, rounded to 5 decimals.
    yearly : {year: {"demand_growth", "world_demand_growth"}}
        1/yr for ``EV_FIRST_YEARLY`` … ``end``: the units' growth, rounded to 5 decimals.
    """
    from nswn import catalog

    then = {t.id: t for t in catalog.technologies_for(start)}["electric_vehicles"]
    now = {t.id: t for t in catalog.technologies_for(end)}["electric_vehicles"]
    china, world = _market_units(series, "China"), _market_units(series, "World")
    home = {y: now.demand0 * china[y] / china[end] for y in china}
    outside = {y: now.world_demand0 * (world[y] - china[y]) / (world[end] - china[end]) for y in china if y in world}
    before = EV_FIRST_YEARLY - 1
    constant = {
        "demand_growth": round((home[before] / then.demand0) ** (1 / (before - start)) - 1, 5),
        "world_demand_growth": round((outside[before] / then.world_demand0) ** (1 / (before - start)) - 1, 5),
    }
    yearly = {
        year: {
            "demand_growth": round(home[year] / home[year - 1] - 1, 5),
            "world_demand_growth": round(outside[year] / outside[year - 1] - 1, 5),
        }
        for year in range(EV_FIRST_YEARLY, end + 1)
    }
    return constant, yearly


class _DefenceRow(NamedTuple):
    """One row of ``history/trade_defence.csv`` in the yearly series."""

    start: date
    until: date | None  # the first day without the rate; None: no end known
    layer: str
    rate: float  # %
    share: float  # the market's share of demand outside China


def trade_defence_inputs(start: int = 2006, end: int = 2024, carry_on: bool = False) -> list[dict[str, Any]]:
    """Foreign trade-defence measures of ``history`` by year, derived from ``history/trade_defence.csv``.

    The one place where the history scenario's ``levers.trade_defence.measures`` are computed
    from the data; ``scenarios/history.yaml`` carries the result (``tests/test_history.py``
    checks it). Only rows marked ``in_series = yes`` enter: China-specific measures with a
    tariff equivalent on the technology itself (measures on all origins, bans without a duty
    and measures on other goods are listed in the file but left out; its README gives the rule).

    Each market *segment* — a market, or a share of it (``market_fraction``: the EU's solar
    price undertaking covered about 70 % of the market, the duties the rest; the EU's EV duty
    covers battery-electric cars only) — gets one measure a year. Its tariff-equivalent is the
    year's mean over days of the rate in force that day, where measures of one ``layer`` (trade
    remedies, safeguards, Section 301, surtaxes, customs duties) are alternatives (the larger
    applies: Solar I and Solar II tax different goods, a review replaces the first rate) and
    layers add up (an AD/CVD order, a safeguard and a Section 301 duty are paid together).
    Its coverage is the share of the market outside China (``market_share_ex_china``, each
    row's share year is in ``share_basis``) of the latest measure in force in the year, times
    the segment's fraction.

    With ``carry_on`` (the ``baseline`` scenario, which starts where ``history`` ends) each
    segment in force on the last day of ``end`` also gets one measure from ``end + 1`` at the
    rates of that day, lasting until the last of its rows lapses (the year of its last day in
    force counted in; a row whose end date is 1 Jan of ``end + 1`` is not carried on) or
    without expiry (any carried row without an end date): a rate that took effect late in
    ``end`` (the US 100 % on EVs from 27 Sep 2024) enters ``end``'s start-year calibration at
    its day-weighted mean and binds in full from the next year.

    Returns
    -------
    list of dict
        ``{"technologies": [id], "year": y, "duration": d, "tariff": τ, "coverage": c}`` sorted
        by technology, year and segment; ``τ`` ad valorem (0.25 = 25 %) and ``c`` rounded to 4
        decimals; ``d`` 1 for the yearly measures; years without a measure in force are left out.
    """
    text = resources.files("nswn.catalog").joinpath("history", "trade_defence.csv").read_text(encoding="utf-8")
    segments: dict[tuple[str, str, float], list[_DefenceRow]] = {}
    for row in csv.DictReader(text.splitlines()):
        if not (row["in_series"] == "yes" and row["rate_pct"] and row["market_share_ex_china"] and row["start_date"]):
            continue
        until = date.fromisoformat(row["end_date"]) if row["end_date"] else None
        key = (row["technology"], row["market"], float(row["market_fraction"]))
        segments.setdefault(key, []).append(
            _DefenceRow(
                date.fromisoformat(row["start_date"]),
                until,
                row["layer"],
                float(row["rate_pct"]),
                float(row["market_share_ex_china"]),
            )
        )

    def in_force(day: date) -> Callable[[_DefenceRow], bool]:
        return lambda m: m.start <= day and (m.until is None or day < m.until)

    def layered(live: list[_DefenceRow]) -> float:
        """Rate in force, %: the larger within a layer, layers added."""
        layers: dict[str, float] = {}
        for m in live:
            layers[m.layer] = max(layers.get(m.layer, 0.0), m.rate)
        return sum(layers.values())

    def newest(live: list[_DefenceRow]) -> _DefenceRow:
        return max(live, key=lambda m: m.start)  # the first of equal start dates, in file order

    measures: list[dict[str, Any]] = []
    for (tech, _market, fraction), members in sorted(segments.items()):
        for year in range(start, end + 1):
            first, total, days = date(year, 1, 1), 0.0, (date(year + 1, 1, 1) - date(year, 1, 1)).days
            latest = None
            for offset in range(days):
                live = list(filter(in_force(first + timedelta(days=offset)), members))
                if live:
                    total += layered(live)
                    candidate = newest(live)
                    if latest is None or latest.start < candidate.start:
                        latest = candidate
            if total <= 0 or latest is None:
                continue
            measures.append(
                {
                    "technologies": [tech],
                    "year": year,
                    "duration": 1,
                    "tariff": round(total / days / 100, 4),
                    "coverage": round(latest.share * fraction, 4),
                }
            )
        if carry_on:
            # in force on the last day of ``end`` and on the first of ``end + 1`` (an end date is the
            # first day without the rate: a row ending on 1 Jan of ``end + 1`` is not carried on)
            last, after = in_force(date(end, 12, 31)), in_force(date(end + 1, 1, 1))
            live = [m for m in members if last(m) and after(m)]
            if live:
                ends = [m.until for m in live]
                # the year of the last day any carried row is in force (the day before its end date)
                lapse = None if None in ends else max((e - timedelta(days=1)).year for e in ends if e is not None)
                measures.append(
                    {
                        "technologies": [tech],
                        "year": end + 1,
                        "duration": None if lapse is None else lapse - end,
                        "tariff": round(layered(live) / 100, 4),
                        "coverage": round(newest(live).share * fraction, 4),
                    }
                )
    measures.sort(key=lambda m: (m["technologies"][0], m["year"]))
    return measures
