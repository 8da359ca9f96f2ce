"""The report's history section: the ``history`` scenario's runs against observations.

Drawn when the store holds runs of the ``history`` scenario (``nswn hindcast --out DIR`` or
``nswn run history --out DIR``): for the macro series with observations
(``catalog/history/macro_series.csv``) the simulated median and 5–95 % band over seeds with
the observed points on top, and the hindcast target table (``analysis.hindcast``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

PUBLISHED = "manufacturing_share_published"
# (recorded column, observed indicator, scale to the observed unit, panel title)
PANELS = (
    # nominal, on the basis of each year's statistics (hindcast.published_manufacturing_share)
    (PUBLISHED, PUBLISHED, 1.0, "Manufacturing share of GDP, % (as published)"),
    ("debt_to_gdp", "debt_to_gdp", 100.0, "Debt / GDP, % (NIFD)"),
    ("gerd_share", "gerd_share_of_gdp", 100.0, "GERD / GDP, %"),
    ("basic_research_share", "basic_research_share_of_gerd", 100.0, "Basic research, % of GERD"),
    ("gdp", "gdp_2024_prices", 1.0, "GDP, bn CNY at 2024 prices"),
    ("publications", "publications", 1.0, "Publications"),
)
HISTORY = "history"


def load(store: Any) -> dict[str, pd.DataFrame] | None:
    """Bands, observations and the target table, or None without history runs."""
    from nswn.analysis import hindcast

    runs = store.runs()
    ids = runs.loc[runs["scenario_name"] == HISTORY, "run_id"].tolist()
    if not ids:
        return None
    frames = {"ids": pd.DataFrame({"run_id": ids})}
    macro = store.query("SELECT m.* FROM macro_year m JOIN ids USING (run_id)", frames=frames)
    tech = store.query("SELECT t.* FROM technology_year t JOIN ids USING (run_id)", frames=frames)
    pairs = [(tech[tech["run_id"] == i], macro[macro["run_id"] == i]) for i in ids]
    macro = pd.concat(
        [one.assign(**{PUBLISHED: hindcast.published_manufacturing_share(one).to_numpy()}) for _, one in pairs],
        ignore_index=True,
    )
    bands = []
    for column, _, scale, _ in PANELS:
        if column not in macro.columns:
            continue
        grouped = macro.groupby("year")[column]
        bands.append(
            pd.DataFrame(
                {
                    "column": column,
                    "year": grouped.median().index,
                    "p05": grouped.quantile(0.05).to_numpy() * scale,
                    "median": grouped.median().to_numpy() * scale,
                    "p95": grouped.quantile(0.95).to_numpy() * scale,
                }
            )
        )
    observed = pd.concat(
        [
            pd.DataFrame({"column": column, "year": list(series), "value": list(series.values())})
            for column, indicator, _, _ in PANELS
            if (
                series := hindcast.published_manufacturing_share_observed()
                if indicator == PUBLISHED
                else hindcast._series(indicator)
            )
        ]
    )
    return {
        "bands": pd.concat(bands, ignore_index=True),
        "observed": observed,
        "targets": hindcast.compare(pairs),
        "seeds": pd.DataFrame({"n": [len(ids)]}),
    }


def figure(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """A grid of panels: simulated median with its 5–95 % band (the report's ``fan``), observed points."""
    from nswn.report.figures import _layout, _list, _suffix, fan, grid

    panels = [p for p in PANELS if p[0] in set(tables["bands"]["column"])]
    cols = 3
    rows = (len(panels) + cols - 1) // cols
    traces: list[dict[str, Any]] = []
    for n, (column, _, _, _) in enumerate(panels, start=1):
        band = tables["bands"][tables["bands"]["column"] == column]
        obs = tables["observed"][tables["observed"]["column"] == column]
        first = n == 1
        traces += fan(
            band["year"],
            band["p05"],
            band["median"],
            band["p95"],
            name="simulated (median, 5–95 %)",
            color="#2874a6",
            ensemble=True,
            showlegend=first,
            panel=n,
        )
        traces.append(
            {
                "xaxis": f"x{_suffix(n)}",
                "yaxis": f"y{_suffix(n)}",
                "type": "scatter",
                "x": _list(obs["year"]),
                "y": _list(obs["value"]),
                "mode": "markers",
                "marker": {"color": "#c0392b", "size": 6},
                "name": "observed",
                "showlegend": first,
                "legendgroup": "observed",
            }
        )
    layout = _layout(280 * rows, **grid(rows, cols, [p[3] for p in panels], vgap=0.16))
    return {"data": traces, "layout": layout}
