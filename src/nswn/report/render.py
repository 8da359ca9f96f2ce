"""Render the report: figures and tables into one self-contained HTML file.

plotly.js comes from the installed ``plotly`` package and is embedded in the file, so the
report opens offline and never fetches anything.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import pandas as pd

from nswn import __version__
from nswn.report import figures
from nswn.report.data import GROUP_ORDER, ReportData, load

PLOT_CONFIG = {"displaylogo": False, "responsive": True}
MAX_MANIFEST_ROWS = 500
MANIFEST_COLUMNS = (
    "run_id",
    "scenario_name",
    "scenario_hash",
    "seed",
    "firms",
    "institutions",
    "start_year",
    "end_year",
    "package_version",
    "numpy_version",
    "python_version",
    "created_at",
    "wall_seconds",
)


def _figure_html(fig: Any, div_id: str) -> str:
    import plotly.io as pio

    html = pio.to_html(fig, include_plotlyjs=False, full_html=False, config=PLOT_CONFIG, div_id=div_id, validate=False)
    return str(html)


def _number(value: float) -> str:
    if pd.isna(value):
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _table(frame: pd.DataFrame) -> str:
    def fmt(value: Any) -> str:
        return _number(value) if isinstance(value, float) else str(value)

    return str(
        frame.to_html(index=False, escape=True, border=0, na_rep="—", formatters={c: fmt for c in frame.columns})
    )


def _arms_table(data: ReportData) -> pd.DataFrame:
    rows = []
    for arm in data.arms:
        runs = data.runs[data.runs["run_id"].isin(arm.run_ids)]
        hashes = sorted(runs["scenario_hash"].astype(str).unique())
        rows.append(
            {
                "arm": arm.label,
                "scenario": arm.name,
                "differs from the base in": "; ".join(arm.differences) or "—",
                "runs": len(runs),
                "sampled worlds": arm.worlds,
                "seeds": ", ".join(str(s) for s in arm.seeds),
                "scenario hash": hashes[0] if len(hashes) == 1 else f"{len(hashes)} hashes (sampled worlds)",
                "firms": ", ".join(f"{int(f):,}" for f in sorted(runs["firms"].unique())),
                "years": f"{int(runs['start_year'].min())}–{int(runs['end_year'].max())}",
                "nswn version": ", ".join(sorted(runs["package_version"].astype(str).unique())),
            }
        )
    return pd.DataFrame(rows)


def _broken_table(data: ReportData) -> pd.DataFrame:
    """Per group and arm: technologies at parity at the start, and bottlenecks broken by the end."""
    frame = data.broken
    if frame.empty:
        return pd.DataFrame()
    sizes = data.parity_years.groupby("group")["technology_id"].nunique()
    rows = []
    for group in [g for g in GROUP_ORDER if g in set(frame["group"])]:
        row: dict[str, Any] = {"group": f"{group.replace('_', ' ')} ({sizes.get(group, 0)})"}
        for arm in data.arms:
            part = frame[(frame["arm"] == arm.key) & (frame["group"] == group)]
            if part.empty:
                row[arm.label] = "—"
                continue
            r = part.iloc[0]
            band = f" [{r.broken_q10:.0f}, {r.broken_q90:.0f}]" if arm.ensemble else ""
            row[arm.label] = f"{r.broken_q50:.0f}{band} broken · {r.at_start:.0f} at start"
        rows.append(row)
    return pd.DataFrame(rows)


def _sections(data: ReportData) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = [
        {
            "id": "capability",
            "title": "Stranglehold technologies: relative capability",
            "lead": "Best Chinese firm ÷ foreign frontier for each of the 35 stranglehold technologies; "
            f"the dotted line is parity ({data.parity}).",
            "figures": [_figure_html(figures.capability_grid(data), "fig-capability")],
        },
        {
            "id": "parity",
            "title": "Parity timeline: which bottlenecks break, and when",
            "lead": "A bottleneck is broken when a technology below parity at the start reaches parity and "
            "stays there through the last simulated year; the year shown is the first of that lasting spell "
            "(median over runs; whiskers: 10–90 % of runs). Points at the right edge are not broken in the run. "
            "Technologies already at parity at the start are counted apart, never as broken. The table: "
            "bottlenecks broken by the end, median [10 %, 90 %] over runs, and technologies at parity at the start.",
            "figures": [_figure_html(figures.parity_timeline(data), "fig-parity")],
            "tables": [_table(_broken_table(data))],
        },
        {
            "id": "markets",
            "title": "Chinese firms' domestic share and exports by group",
            "lead": "Domestic share is weighted by each technology's domestic demand; exports are summed.",
            "figures": [_figure_html(figures.groups_figure(data), "fig-groups")],
        },
        {
            "id": "two-layers",
            "title": "The two layers: papers and patents against productivity",
            "lead": "If research and industry are two separate layers, publications and patents grow "
            "while total factor productivity does not follow.",
            "figures": [_figure_html(figures.two_layers(data), "fig-layers")],
        },
        {
            "id": "macro",
            "title": "Macro economy",
            "figures": [_figure_html(figures.macro(data), "fig-macro")],
        },
    ]
    if data.funding_lines:
        sections.append(
            {
                "id": "funding",
                "title": "Funding by instrument and technology",
                "lead": "Central budget lines and local money, summed over the run (mean over seeds); "
                "HHI is the Herfindahl–Hirschman index of concentration (1 = everything in one place).",
                "figures": [
                    _figure_html(figures.funding_by_instrument(data), "fig-funding-lines"),
                    _figure_html(figures.funding_by_technology(data), "fig-funding-techs"),
                    _figure_html(figures.concentration(data), "fig-concentration"),
                ],
                "tables": [_table(figures.funding_summary(data))],
            }
        )
    if data.attribution is not None:
        sections.append(
            {
                "id": "why",
                "title": "Why: what moved each technology's relative capability",
                "lead": "The change of log relative capability (best Chinese firm ÷ foreign frontier) from the first "
                "to the last year, split over its channels (docs/model.md §9, technology_attribution_year): "
                "the frontier's advance (negative), "
                "emulation of the frontier on own R&D, own innovation, usable knowledge from institutions and "
                "abroad, subsidies by instrument, export controls' cut of know-how, entry and exit of firms, and "
                "leader change (another firm becoming the best). In every run the channels add up to the total "
                "change; bars are medians over runs (whiskers 10–90 %), so the medians of the parts need not add "
                "up to the median total. Choose the technology in the menu.",
                "figures": [_figure_html(figures.attribution_figure(data), "fig-why")],
            }
        )
    if data.selection is not None and not data.selection.empty:
        table = figures.selection_table(data)
        sections.append(
            {
                "id": "selection",
                "title": "Which technologies the priority mode selected, and why",
                "lead": "Technologies with a priority weight in the start year, per arm: the catalog's strategic "
                "weight, the start-year gap to the frontier (log points, median over runs), the shortlist score "
                "(weight × gap; the shortlist mode takes the highest scores) and the issue owner (the lobbying "
                "mode weights owners). Runs selected: in how many of the arm's runs the technology was weighted.",
                "tables": [_table(table.head(40))],
                "details": _table(table) if len(table) > 40 else "",
                "details_title": f"All {len(table)} rows",
            }
        )
    if data.claims is not None:
        sections.append(
            {
                "id": "claims",
                "title": "Claims",
                "lead": "The brief's claims tested as experiments, as stored in the results' claims table.",
                "tables": [_table(data.claims)],
            }
        )
    if data.history is not None:
        sections.append(_history_section(data.history))
    if data.derisk is not None:
        sections.append(_derisk_section(data.derisk))
    runs = data.runs[[c for c in MANIFEST_COLUMNS if c in data.runs.columns]]
    more = len(runs) - MAX_MANIFEST_ROWS
    sections.append(
        {
            "id": "manifest",
            "title": "Run manifest",
            "lead": "Versions, scenario hashes and seeds: the same scenario hash, seed and version reproduce a run.",
            "tables": [_table(_arms_table(data))],
            "details": _table(runs.head(MAX_MANIFEST_ROWS)),
            "details_title": f"All runs ({len(runs)}{f'; first {MAX_MANIFEST_ROWS} shown' if more > 0 else ''})",
        }
    )
    return sections


def _history_section(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The ``history`` scenario against observations (docs/history.md)."""
    from nswn.report import history

    targets = tables["targets"]
    within = int((targets["status"] == "within").sum())
    modelled = int(targets["status"].isin(["within", "missed"]).sum())
    return {
        "id": "history",
        "title": "History 2006–2024: simulated against observed",
        "lead": f"The history scenario over {int(tables['seeds']['n'].iloc[0])} seeds (band: 5–95 %) with the "
        f"observed series (red points; catalog/history/macro_series.csv). {within} of {modelled} modelled "
        "targets lie within their tolerance, written from the data's own uncertainty; deviation = (median − "
        "observed) / tolerance.",
        "figures": [_figure_html(history.figure(tables), "fig-history")],
        "tables": [_table(targets.drop(columns=["indicator"]))],
    }


def _derisk_section(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The de-risking frontier stored by ``nswn derisk`` (see docs/derisking.md)."""
    from nswn.report import derisk

    searched = derisk.objectives(tables)
    pairs = derisk.pair_figures(tables, searched)
    return {
        "id": "derisking",
        "title": "De-risking frontier: export-control designs",
        "lead": f"{len(tables['pareto'])} non-dominated control designs of {len(tables['evaluations'])} evaluated "
        "(robust values over paired seeds against no controls; bars: 5–95 % of seeds). Grey: every evaluated "
        "design; red: the shipped scenarios. " + " ".join(derisk.words(tables)),
        "figures": [_figure_html(fig, f"fig-derisk-{i}") for i, fig in enumerate(pairs)]
        + [_figure_html(derisk.parallel_figure(tables, searched), "fig-derisk-parallel")],
        "tables": [_table(derisk.pareto_table(tables, searched))],
    }


def render(data: ReportData, source: str) -> str:
    """The report as one HTML document."""
    import jinja2
    import plotly
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nswn.report", "templates"),
        autoescape=jinja2.select_autoescape(("html", "j2")),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    names = list(dict.fromkeys(a.label for a in data.arms))
    title = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return env.get_template("report.html.j2").render(
        title=title,
        source=source,
        version=__version__,
        created=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        runs_count=len(data.runs),
        arms=data.arms,
        notes=data.notes,
        parity=data.parity,
        sections=_sections(data),
        plotly_js=get_plotlyjs(),
        plotly_version=plotly.__version__,
    )


def build_report(
    results: str | Path,
    out: str | Path | None = None,
    arms: list[str] | None = None,
    scenarios: list[str] | None = None,
) -> Path:
    """Write the HTML report of a results directory; return the file's path.

    Parameters
    ----------
    results
        A results directory written by ``nswn run`` (or any runner writing the store).
    out
        The HTML file to write (default: ``report.html`` inside ``results``).
    arms, scenarios
        Draw only these arms (label, key or key prefix) or the arms of these scenario names.

    Raises
    ------
    nswn.storage.store.StoreError
        ``results`` holds no results database.
    nswn.report.data.ReportError
        The database holds no runs.
    """
    # the store directly, not nswn.api: a report never loads the engine
    from nswn.storage.store import ResultsStore

    store = ResultsStore(results, create=False)
    html = render(load(store, arms=arms, scenarios=scenarios), str(store.path))
    target = Path(out) if out is not None else Path(results) / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        partial.write_text(html, encoding="utf-8")
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target
