"""The report's de-risking section: the frontier that ``nswn derisk`` stored, drawn.

Pairs of objectives as scatter plots (every evaluated design in grey, the Pareto set in colour,
the shipped scenarios marked), a parallel-coordinates view of the Pareto designs, the knee
designs in words and the Pareto table. Reads only the store's ``derisk_*`` tables.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pandas as pd

LABELS = {
    "delay": "delay to parity, Σ yard (years; more is better)",
    "lost_sales": "foreign sales lost in China (bn CNY)",
    "share_gain": "Chinese share gain on the yard (pt)",
    "gdp_cost": "China's GDP lost (bn CNY)",
}
SHIPPED_SYMBOLS = ("star", "diamond", "x", "square", "cross")


def load_tables(store: Any, table_exists: Any) -> dict[str, pd.DataFrame] | None:
    """The stored frontier, or ``None`` when the store holds no ``nswn derisk`` result."""
    names = ("derisk_evaluations", "derisk_pareto", "derisk_shipped", "derisk_summary")
    if not all(table_exists(store, name) for name in names):
        return None
    return {name.removeprefix("derisk_"): store.query(f"SELECT * FROM {name}") for name in names}


def objectives(tables: dict[str, pd.DataFrame]) -> list[str]:
    """The objectives that were searched (those the Pareto table has intervals for and varies)."""
    pareto = tables["pareto"]
    return [o for o in LABELS if o in pareto.columns and f"{o}_low" in pareto.columns]


def pair_figures(tables: dict[str, pd.DataFrame], searched: list[str]) -> list[Any]:
    """One scatter per pair of objectives, shipped scenarios marked."""
    import plotly.graph_objects as go

    figures = []
    evaluations, pareto, shipped = tables["evaluations"], tables["pareto"], tables["shipped"]
    for a, b in itertools.combinations(searched, 2):
        fig = go.Figure()
        fig.add_trace(
            go.Scatter(
                x=evaluations[a],
                y=evaluations[b],
                mode="markers",
                name="evaluated designs",
                marker={"color": "#c8c8c8", "size": 6},
                text=evaluations["description"],
                hoverinfo="text+x+y",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=pareto[a],
                y=pareto[b],
                mode="markers",
                name="Pareto set",
                marker={"color": "#2874a6", "size": 9},
                error_x={"type": "data", "symmetric": False, "array": pareto[f"{a}_high"] - pareto[a],
                         "arrayminus": pareto[a] - pareto[f"{a}_low"], "thickness": 0.6},
                error_y={"type": "data", "symmetric": False, "array": pareto[f"{b}_high"] - pareto[b],
                         "arrayminus": pareto[b] - pareto[f"{b}_low"], "thickness": 0.6},
                text=pareto["description"],
                hoverinfo="text+x+y",
            )
        )  # fmt: skip
        for i, row in enumerate(shipped.to_dict("records")):
            fig.add_trace(
                go.Scatter(
                    x=[row[a]],
                    y=[row[b]],
                    mode="markers+text",
                    name=f"shipped: {row['scenario']}",
                    text=[row["scenario"]],
                    textposition="top center",
                    marker={"color": "#c0392b", "size": 14, "symbol": SHIPPED_SYMBOLS[i % len(SHIPPED_SYMBOLS)]},
                )
            )
        fig.update_layout(
            height=430,
            margin={"l": 60, "r": 20, "t": 30, "b": 50},
            xaxis_title=LABELS[a],
            yaxis_title=LABELS[b],
            template="plotly_white",
            legend={"orientation": "h", "y": -0.2},
        )
        figures.append(fig)
    return figures


def parallel_figure(tables: dict[str, pd.DataFrame], searched: list[str]) -> Any:
    """Parallel coordinates of the Pareto designs: parameters and objectives."""
    import plotly.graph_objects as go

    pareto = tables["pareto"]
    columns = ["technologies", "fence_max", "announced", "effective", "coverage", *searched]
    dims = []
    for c in columns:
        values = pd.to_numeric(pareto[c], errors="coerce")
        dims.append({"label": LABELS.get(c, c).split(" (")[0], "values": values.fillna(values.max())})
    fig = go.Figure(
        go.Parcoords(line={"color": pareto[searched[0]], "colorscale": "Viridis", "showscale": True}, dimensions=dims)
    )
    fig.update_layout(height=420, margin={"l": 60, "r": 60, "t": 50, "b": 30}, template="plotly_white")
    return fig


def words(tables: dict[str, pd.DataFrame]) -> list[str]:
    """The knee designs and the dominance of the shipped scenarios, in sentences."""
    summary = tables["summary"]
    out = []
    for payload in summary.loc[summary["kind"] == "knee", "payload"]:
        knee = json.loads(payload)
        out.append(f"Knee {knee['design'][:8]}: {knee['words']}.")
    for payload in summary.loc[summary["kind"] == "dominance", "payload"]:
        d = json.loads(payload)
        if d["dominated_by"]:
            margins = ", ".join(f"{o} {v:+,.1f}" for o, v in d["margins"].items())
            out.append(
                f"{d['scenario']} is dominated by {d['dominated_by']} Pareto design(s); e.g. {d['best'][:8]} "
                f"({d['best_words']}) improves on it by {margins} (minimised form: positive = better)."
            )
        else:
            out.append(f"{d['scenario']} is not dominated by any design found.")
    return out


def pareto_table(tables: dict[str, pd.DataFrame], searched: list[str]) -> pd.DataFrame:
    """The Pareto set as shown: parameters, robust objectives and their 5–95 % range over seeds."""
    pareto = tables["pareto"]
    out = pareto[["design", "yard", "technologies", "fence_min", "fence_max", "announced", "effective", "coverage"]]
    out = out.assign(design=pareto["design"].str[:8], duration=pareto["duration"].astype("object"))
    for o in searched:
        out[o] = [
            f"{m:,.1f} [{lo:,.1f}, {hi:,.1f}]"
            for m, lo, hi in zip(pareto[o], pareto[f"{o}_low"], pareto[f"{o}_high"], strict=True)
        ]
    return out
