"""The terminal summary of a run: parity by group, stranglehold capability, macro."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

# the summary's years relative to the run: start, +6, +11 and the last year (2024, 2030, 2035,
# 2050 for the default run; 2006, 2012, 2017, 2024 for the history scenario)
STEPS = (6, 11)


def summary_years(recorded: Any) -> list[int]:
    """Start, start + 6, start + 11 and the last of the ``recorded`` years (those inside the run)."""
    have = sorted({int(y) for y in recorded})
    if not have:
        return []
    start, end = have[0], have[-1]
    return sorted({start, end} | {start + step for step in STEPS if start + step < end})


GROUP_ORDER = ("stranglehold", "bottleneck", "competitive_advantage", "future")


def parity_by_group(technology_year: pd.DataFrame) -> pd.DataFrame:
    """Per group: technologies, at parity at start, broken by each year, median broken year.

    *Broken* is :func:`nswn.mechanisms.indicators.lasting_parity`: below parity in the start
    year, at parity from the broken year through the end of the run. Technologies at parity
    in the start year are counted in ``at_parity_at_start`` and never as broken.
    """
    from nswn.analysis.parity import parity_status

    status = parity_status(technology_year, by=())
    end = int(technology_year["year"].max())
    rows = []
    for group in GROUP_ORDER:
        members = status[status["group"] == group]
        if members.empty:
            continue
        broken = members["broken_year"]
        row: dict[str, Any] = {
            "group": group,
            "technologies": len(members),
            "at_parity_at_start": int(members["parity_at_start"].sum()),
        }
        for year in summary_years(technology_year["year"])[1:]:
            if year <= end:
                row[f"broken_by_{year}"] = int((broken <= year).sum())
        row["broken"] = int(broken.notna().sum())
        row["at_parity_last_year"] = int(members["at_parity_end"].sum())
        reached = broken.dropna()
        row["median_broken_year"] = float(np.median(reached)) if len(reached) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def capability_table(technology_year: pd.DataFrame, group: str = "stranglehold") -> pd.DataFrame:
    """Relative capability of a group's technologies in the summary years."""
    subset = technology_year[technology_year["group"] == group]
    years = shown_years(subset["year"])
    wide = subset[subset["year"].isin(years)].pivot(index="technology_id", columns="year", values="relative_capability")
    from nswn.analysis.parity import parity_status

    status = parity_status(subset, by=()).set_index("technology_id")
    wide["broken_year"] = status["broken_year"]
    wide["parity_at_start"] = status["parity_at_start"]
    order = subset.drop_duplicates("technology_id")["technology_id"]
    return wide.loc[order]


def shown_years(recorded: Any) -> list[int]:
    """The summary's years among ``recorded`` (never empty for a run that recorded years)."""
    return summary_years(recorded)


def macro_table(macro_year: pd.DataFrame) -> pd.DataFrame:
    if macro_year.empty:
        raise ValueError("the run recorded no years: nothing to summarise")
    years = shown_years(macro_year["year"])
    columns = ["gdp", "manufacturing_share", "debt_to_gdp", "tfp_index", "publications"]
    return macro_year[macro_year["year"].isin(years)].set_index("year")[columns]


def _fmt_year(value: float) -> str:
    return "—" if not np.isfinite(value) else f"{value:.0f}"


def describe_resolution(manifest: dict[str, Any]) -> str:
    """One phrase for a run's firm population and resolution, e.g. ``29,234 real firms, one
    agent each`` or ``29,234 real firms as 5,012 agents (resolution 0.17)``."""
    real = manifest.get("real_firms")
    if real is None:
        return f"{manifest['firms']:,} firms"
    if manifest.get("resolution", 1.0) >= 1.0:
        return f"{real:,} real firms, one agent each"
    return f"{real:,} real firms as {manifest['agents']:,} agents (resolution {manifest['resolution']:.2f})"


def print_summary(result: Any, console: Console) -> None:
    """Print the three summary tables for one run."""
    tech, macro = result.technology_year, result.macro_year
    manifest = result.manifest
    console.print(
        f"[bold]{escape(str(manifest['scenario_name']))}[/] — seed {manifest['seed']}, "
        f"{describe_resolution(manifest)}, {manifest['start_year']}–{manifest['end_year']}, "
        f"scenario hash {manifest['scenario_hash']}",
        markup=True,
        highlight=False,
    )

    parity = parity_by_group(tech)
    last = int(tech["year"].max())
    table = Table(
        title="Bottlenecks broken: best Chinese firm ≥ 90 % of the foreign frontier, reached after the start "
        f"year and held through {last} (technologies at parity at the start are counted apart)"
    )
    # the labels are never cut: the numeric columns wrap their headers instead
    table.add_column("group", no_wrap=True, min_width=max((len(str(g)) for g in parity["group"]), default=5))
    table.add_column("count", justify="right")
    table.add_column(f"at parity at start ({int(tech['year'].min())})", justify="right")
    shown = [int(c[len("broken_by_") :]) for c in parity.columns if c.startswith("broken_by_")]
    for year in shown:
        table.add_column(f"broken by {year}", justify="right")
    table.add_column("median year broken", justify="right")
    table.add_column(f"at parity {last}", justify="right")
    for row in parity.itertuples():
        table.add_row(
            row.group,
            str(row.technologies),
            str(row.at_parity_at_start),
            *[str(getattr(row, f"broken_by_{y}")) for y in shown],
            _fmt_year(row.median_broken_year),
            str(row.at_parity_last_year),
        )
    console.print(table)

    caps = capability_table(tech)
    table = Table(title="Stranglehold technologies: relative capability (best Chinese ÷ frontier)")
    table.add_column("technology", no_wrap=True, min_width=max((len(str(t)) for t in caps.index), default=10))
    years = [c for c in caps.columns if c not in ("broken_year", "parity_at_start")]
    for year in years:
        table.add_column(str(year), justify="right")
    table.add_column("broken", justify="right")
    for tech_id, row in caps.iterrows():
        table.add_row(
            str(tech_id),
            *[f"{row[y]:.2f}" for y in years],
            "at start" if row["parity_at_start"] else _fmt_year(row["broken_year"]),
        )
    console.print(table)

    mac = macro_table(macro)
    table = Table(title="Macro")
    table.add_column("year", justify="right")
    for header in (
        "GDP (bn CNY, 2024 prices)",
        "manufacturing share (of GDP, 0–1)",
        "debt/GDP (ratio)",
        "TFP index",
        "publications",
    ):
        table.add_column(header, justify="right")
    for year, row in mac.iterrows():
        table.add_row(
            str(year),
            f"{row.gdp:,.0f}",
            f"{row.manufacturing_share:.3f}",
            f"{row.debt_to_gdp:.2f}",
            f"{row.tfp_index:.2f}",
            f"{row.publications:,.0f}",
        )
    console.print(table)
