"""The terminal summary of a run: parity by group, stranglehold capability, macro."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

PARITY_YEARS = (2030, 2035, 2050)
MACRO_YEARS = (2024, 2030, 2035, 2050)
GROUP_ORDER = ("stranglehold", "bottleneck", "competitive_advantage", "future")


def parity_by_group(technology_year: pd.DataFrame) -> pd.DataFrame:
    """Per group: technologies, how many reached parity by each year, median parity year."""
    last = technology_year.sort_values("year").groupby("technology_id").tail(1)
    end = int(technology_year["year"].max())
    rows = []
    for group in GROUP_ORDER:
        members = last[last["group"] == group]
        if members.empty:
            continue
        first = members["first_parity_year"]
        row: dict[str, Any] = {"group": group, "technologies": len(members)}
        for year in PARITY_YEARS:
            if year <= end:
                row[f"parity_by_{year}"] = int((first <= year).sum())
        row["at_parity_last_year"] = int(members["parity_reached"].sum())
        reached = first.dropna()
        row["median_parity_year"] = float(np.median(reached)) if len(reached) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def capability_table(technology_year: pd.DataFrame, group: str = "stranglehold") -> pd.DataFrame:
    """Relative capability of a group's technologies in the summary years."""
    subset = technology_year[technology_year["group"] == group]
    years = shown_years(subset["year"])
    wide = subset[subset["year"].isin(years)].pivot(index="technology_id", columns="year", values="relative_capability")
    first = subset.groupby("technology_id")["first_parity_year"].first()
    wide["parity_year"] = first
    order = subset.drop_duplicates("technology_id")["technology_id"]
    return wide.loc[order]


def shown_years(recorded: Any) -> list[int]:
    """The summary's years among ``recorded``; when none of them was simulated, every fifth recorded year and the last.

    So a run outside 2024–2050 still gets rows, never an empty table.
    """
    have = sorted({int(y) for y in recorded})
    years = [y for y in MACRO_YEARS if y in have]
    if years or not have:
        return years
    return sorted(set(have[::5]) | {have[-1]})


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
    table = Table(
        title="Bottlenecks broken: best Chinese firm ≥ 90 % of the foreign frontier "
        "(counted from the start year; 'median year' of first parity)"
    )
    table.add_column("group")
    table.add_column("technologies", justify="right")
    shown = [y for y in PARITY_YEARS if f"parity_by_{y}" in parity.columns]
    for year in shown:
        table.add_column(f"by {year}", justify="right")
    table.add_column("median year", justify="right")
    table.add_column(f"at parity {int(tech['year'].max())}", justify="right")
    for row in parity.itertuples():
        table.add_row(
            row.group,
            str(row.technologies),
            *[str(getattr(row, f"parity_by_{y}")) for y in shown],
            _fmt_year(row.median_parity_year),
            str(row.at_parity_last_year),
        )
    console.print(table)

    caps = capability_table(tech)
    table = Table(title="Stranglehold technologies: relative capability (best Chinese ÷ frontier)")
    table.add_column("technology")
    for year in caps.columns[:-1]:
        table.add_column(str(year), justify="right")
    table.add_column("parity", justify="right")
    for tech_id, row in caps.iterrows():
        table.add_row(
            str(tech_id),
            *[f"{row[y]:.2f}" for y in caps.columns[:-1]],
            _fmt_year(row["parity_year"]),
        )
    console.print(table)

    mac = macro_table(macro)
    table = Table(title="Macro")
    table.add_column("year", justify="right")
    for header in (
        "GDP (bn CNY, 2024 prices)",
        "manufacturing share",
        "debt/GDP",
        "TFP index",
        "publications",
    ):
        table.add_column(header, justify="right")
    for year, row in mac.iterrows():
        table.add_row(
            str(year),
            f"{row.gdp:,.0f}",
            f"{row.manufacturing_share:.1%}",
            f"{row.debt_to_gdp:.0%}",
            f"{row.tfp_index:.2f}",
            f"{row.publications:,.0f}",
        )
    console.print(table)
