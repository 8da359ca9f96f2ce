"""The report's charts as plotly figure dictionaries (one function per section).

Every chart draws each arm in its own colour: a line for a single run, or a fan for an
ensemble — the median with a band from the 10th to the 90th percentile of seeds. Figures
are plain ``{"data": [...], "layout": {...}}`` dictionaries: plotly's figure objects
validate every property and take seconds for a grid of 35 panels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from nswn.report.data import GROUP_ORDER, ReportData, hhi

Figure = dict[str, Any]

GROUP_TITLES = {
    "stranglehold": "Stranglehold (卡脖子)",
    "bottleneck": "Bottleneck",
    "competitive_advantage": "Competitive advantage",
    "future": "Future industries",
}
FONT = {"family": "system-ui, 'Noto Sans CJK SC', sans-serif", "size": 12}
INSTRUMENT_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
GRID = {"gridcolor": "#eceff3", "zeroline": False, "linecolor": "#c8ced6", "showline": True}


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _list(values: Any) -> list[Any]:
    """Values for JSON: NaN becomes None (a gap)."""
    return [None if isinstance(v, float) and not math.isfinite(v) else v for v in pd.Series(values).tolist()]


def _layout(height: int, **overrides: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": height,
        "font": FONT,
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
        "legend": {"orientation": "h", "y": -0.08, "yanchor": "top"},
        "hovermode": "x unified",
        "xaxis": dict(GRID),
        "yaxis": dict(GRID),
    }
    layout.update(overrides)
    return layout


def _suffix(n: int) -> str:
    return "" if n == 1 else str(n)


def grid(
    rows: int,
    cols: int,
    titles: list[str],
    *,
    hgap: float = 0.05,
    vgap: float = 0.1,
    title_size: int = 11,
) -> dict[str, Any]:
    """Layout entries of a rows × cols grid of panels, with a title above each panel."""
    width = (1 - hgap * (cols - 1)) / cols
    height = (1 - vgap * (rows - 1)) / rows
    layout: dict[str, Any] = {"annotations": []}
    for r in range(rows):
        for c in range(cols):
            n = r * cols + c + 1
            x0 = c * (width + hgap)
            y1 = 1 - r * (height + vgap)
            layout[f"xaxis{_suffix(n)}"] = {**GRID, "domain": [x0, x0 + width], "anchor": f"y{_suffix(n)}"}
            layout[f"yaxis{_suffix(n)}"] = {**GRID, "domain": [y1 - height, y1], "anchor": f"x{_suffix(n)}"}
            if n <= len(titles):
                layout["annotations"].append(
                    {
                        "text": titles[n - 1],
                        "x": x0 + width / 2,
                        "y": y1,
                        "xref": "paper",
                        "yref": "paper",
                        "xanchor": "center",
                        "yanchor": "bottom",
                        "showarrow": False,
                        "font": {"size": title_size},
                    }
                )
    return layout


def fan(
    x: Any,
    low: Any,
    mid: Any,
    high: Any,
    *,
    name: str,
    color: str,
    ensemble: bool,
    showlegend: bool,
    panel: int = 1,
) -> list[dict[str, Any]]:
    """Traces of a median line, with a 10–90 % band when the arm is an ensemble."""
    axes = {"xaxis": f"x{_suffix(panel)}", "yaxis": f"y{_suffix(panel)}"}
    traces = []
    xs = _list(x)
    if ensemble:
        common = {"x": xs, "mode": "lines", "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False}
        traces.append({**common, **axes, "y": _list(high), "legendgroup": name, "type": "scatter"})
        traces.append(
            {
                **common,
                **axes,
                "y": _list(low),
                "fill": "tonexty",
                "fillcolor": _rgba(color, 0.18),
                "legendgroup": name,
                "type": "scatter",
            }
        )
    traces.append(
        {
            "type": "scatter",
            "x": xs,
            "y": _list(mid),
            "mode": "lines",
            "name": name,
            "line": {"color": color, "width": 2},
            "legendgroup": name,
            "showlegend": showlegend,
            **axes,
        }
    )
    return traces


def _name(data: ReportData, tech: str) -> str:
    if tech in data.technologies.index:
        return str(data.technologies.loc[tech, "name_en"])
    return tech.replace("_", " ")


def capability_grid(data: ReportData) -> Figure:
    """Relative capability of each stranglehold technology over time, small multiples."""
    present = set(data.capability["technology_id"])
    techs = [t for t in data.technologies.index if t in present] + sorted(present - set(data.technologies.index))
    cols = 5
    rows = max(1, math.ceil(len(techs) / cols))
    height = 175 * rows + 110
    top, bottom = 80, 30
    layout = _layout(
        height,
        # the legend sits above the first row's panel titles
        legend={"orientation": "h", "y": 1 + 34 / (height - top - bottom), "yanchor": "bottom", "x": 0},
        margin={"l": 40, "r": 24, "t": top, "b": bottom},
        **grid(rows, cols, [_name(data, t) for t in techs], hgap=0.035, vgap=0.32 / rows, title_size=10),
    )
    layout["shapes"] = []
    traces: list[dict[str, Any]] = []
    by_key = {key: part for key, part in data.capability.groupby(["arm", "technology_id"], sort=False)}
    for i, tech in enumerate(techs):
        panel = i + 1
        for arm in data.arms:
            part = by_key.get((arm.key, tech))
            if part is None:
                continue
            traces += fan(
                part["year"],
                part["cap_q10"],
                part["cap_q50"],
                part["cap_q90"],
                name=arm.label,
                color=arm.color,
                ensemble=arm.ensemble,
                showlegend=i == 0,
                panel=panel,
            )
        layout["shapes"].append(
            {
                "type": "line",
                "xref": f"x{_suffix(panel)} domain",
                "x0": 0,
                "x1": 1,
                "yref": f"y{_suffix(panel)}",
                "y0": data.parity,
                "y1": data.parity,
                "line": {"color": "#2e7d32", "width": 1, "dash": "dot"},
            }
        )
        layout[f"yaxis{_suffix(panel)}"]["rangemode"] = "tozero"
        layout[f"yaxis{_suffix(panel)}"]["tickfont"] = {"size": 9}
        layout[f"xaxis{_suffix(panel)}"]["tickfont"] = {"size": 9}
    return {"data": traces, "layout": layout}


def parity_timeline(data: ReportData) -> Figure:
    """Year each bottleneck broke (at parity from then through the end), per technology and arm.

    Median over runs with 10–90 % whiskers; technologies at parity at the start are left out
    (they are counted apart, never as broken).
    """
    frame = data.parity_years
    if frame.empty:
        return {"data": [], "layout": _layout(200)}
    last = int(frame["last_year"].max())
    start = int(data.runs["start_year"].min())
    never = last + 3
    below = frame[frame["at_start_share"] < 0.5]
    techs = list(dict.fromkeys(below["technology_id"]))
    first = below[below["arm"] == data.arms[0].key].set_index("technology_id")["year_q50"]
    groups = below.drop_duplicates("technology_id").set_index("technology_id")["group"]

    def order(tech: str) -> tuple[int, float]:
        year = first.get(tech, np.nan)
        return (
            GROUP_ORDER.index(groups[tech]) if groups[tech] in GROUP_ORDER else 9,
            never if pd.isna(year) else float(year),
        )

    techs.sort(key=order)
    labels = [f"{_name(data, t)} · {str(groups[t]).replace('_', ' ')}" for t in techs]
    traces = []
    for k, arm in enumerate(data.arms):
        part = below[below["arm"] == arm.key].set_index("technology_id").reindex(techs)
        mid = part["year_q50"].fillna(never)
        text = [
            f"{_name(data, t)}: {'not by ' + str(last) if pd.isna(y) else int(y)} · broken in {share:.0%} of runs"
            for t, y, share in zip(techs, part["year_q50"], part["reached_share"].fillna(0), strict=True)
        ]
        trace: dict[str, Any] = {
            "type": "scatter",
            "x": _list(mid),
            "y": _list(np.arange(len(techs)) + (k - (len(data.arms) - 1) / 2) * 0.18),
            "mode": "markers",
            "name": arm.label,
            "marker": {"color": arm.color, "size": 8},
            "text": text,
            "hovertemplate": "%{text}<extra>" + arm.label + "</extra>",
        }
        if arm.ensemble:
            trace["error_x"] = {
                "type": "data",
                "symmetric": False,
                "array": _list((part["year_q90"].fillna(never) - mid).clip(lower=0)),
                "arrayminus": _list((mid - part["year_q10"].fillna(never)).clip(lower=0)),
                "color": _rgba(arm.color, 0.6),
                "thickness": 1,
                "width": 0,
            }
        traces.append(trace)
    ticks = list(range(math.ceil(start / 5) * 5, last + 1, 5))
    layout = _layout(
        max(300, 17 * len(techs) + 120),
        hovermode="closest",
        margin={"l": 40, "r": 40, "t": 20, "b": 50},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        xaxis={
            **GRID,
            "range": [start - 1, never + 2],
            "tickvals": [*ticks, never],
            "ticktext": [*map(str, ticks), f"not by {last}"],
            "title": {"text": "year broken: at parity from then through the end (median over runs)"},
        },
        yaxis={
            **GRID,
            "tickvals": list(range(len(techs))),
            "ticktext": labels,
            "autorange": "reversed",
            "tickfont": {"size": 10},
            "automargin": True,
        },
        shapes=[
            {
                "type": "line",
                "xref": "x",
                "x0": last + 1.5,
                "x1": last + 1.5,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": "#bbb", "width": 1, "dash": "dot"},
            }
        ],
    )
    return {"data": traces, "layout": layout}


def groups_figure(data: ReportData) -> Figure:
    """Chinese firms' domestic share (demand-weighted) and exports, by technology group."""
    present = [g for g in GROUP_ORDER if g in set(data.groups["grp"])]
    cols = max(1, len(present))
    titles = [f"{GROUP_TITLES.get(g, g)}: domestic share" for g in present] + [
        f"{GROUP_TITLES.get(g, g)}: exports (bn CNY/yr)" for g in present
    ]
    layout = _layout(580, **grid(2, cols, titles, vgap=0.16))
    traces: list[dict[str, Any]] = []
    for c, group in enumerate(present):
        for arm in data.arms:
            part = data.groups[(data.groups["arm"] == arm.key) & (data.groups["grp"] == group)]
            for r, column in ((0, "share"), (1, "exports")):
                traces += fan(
                    part["year"],
                    part[f"{column}_q10"],
                    part[f"{column}_q50"],
                    part[f"{column}_q90"],
                    name=arm.label,
                    color=arm.color,
                    ensemble=arm.ensemble,
                    showlegend=c == 0 and r == 0,
                    panel=r * cols + c + 1,
                )
        layout[f"yaxis{_suffix(c + 1)}"].update({"tickformat": ".0%", "range": [0, 1]})
        layout[f"yaxis{_suffix(cols + c + 1)}"]["rangemode"] = "tozero"
    return {"data": traces, "layout": layout}


def _macro_panels(data: ReportData, panels: list[tuple[str, str, str | None]], height: int) -> Figure:
    available = [p for p in panels if f"{p[0]}_q50" in data.macro.columns]
    layout = _layout(height, **grid(1, max(1, len(available)), [p[1] for p in available], title_size=12))
    traces: list[dict[str, Any]] = []
    for c, (column, _title, fmt) in enumerate(available, start=1):
        scale = 1 / 1000 if column == "gdp" else 1
        for arm in data.arms:
            part = data.macro[data.macro["arm"] == arm.key]
            traces += fan(
                part["year"],
                part[f"{column}_q10"] * scale,
                part[f"{column}_q50"] * scale,
                part[f"{column}_q90"] * scale,
                name=arm.label,
                color=arm.color,
                ensemble=arm.ensemble,
                showlegend=c == 1,
                panel=c,
            )
        if fmt:
            layout[f"yaxis{_suffix(c)}"]["tickformat"] = fmt
    return {"data": traces, "layout": layout}


def two_layers(data: ReportData) -> Figure:
    """Publications and patents (index, start = 1) against the TFP index."""
    return _macro_panels(
        data,
        [
            ("publications_index", "Publications (index)", None),
            ("patents_index", "Patents (index)", None),
            ("tfp_index", "TFP (index)", None),
        ],
        360,
    )


def macro(data: ReportData) -> Figure:
    """GDP, manufacturing share and debt/GDP."""
    return _macro_panels(
        data,
        [
            ("gdp", "GDP (tn CNY, 2024 prices)", ",.0f"),
            ("manufacturing_share", "Manufacturing share of GDP", ".0%"),
            ("debt_to_gdp", "Debt / GDP", ".0%"),
        ],
        360,
    )


def concentration(data: ReportData) -> Figure:
    """HHI of funding and of priority weights across technologies, per year."""
    return _macro_panels(
        data,
        [
            ("hhi_funding", "HHI of funding across technologies", None),
            ("hhi_priority", "HHI of priority weights", None),
        ],
        320,
    )


def _line_label(line: str) -> str:
    return line.replace("_", " ")


def funding_by_instrument(data: ReportData) -> Figure:
    """Total money over the run by instrument (mean over seeds), one bar per arm."""
    labels = [a.label for a in data.arms]
    traces = []
    for i, line in enumerate(data.funding_lines):
        column = f"funding_{line}"
        totals = [float(data.funding.loc[data.funding["arm"] == a.key, column].sum()) for a in data.arms]
        if not any(totals):
            continue
        traces.append(
            {
                "type": "bar",
                "x": labels,
                "y": totals,
                "name": _line_label(line),
                "marker": {"color": INSTRUMENT_COLORS[i % len(INSTRUMENT_COLORS)]},
            }
        )
    layout = _layout(
        380,
        barmode="stack",
        hovermode="closest",
        legend={"orientation": "v", "x": 1.02, "y": 1},
        yaxis={**GRID, "title": {"text": "bn CNY over the run"}},
    )
    return {"data": traces, "layout": layout}


def funding_by_technology(data: ReportData, top: int = 20) -> Figure:
    """The most-funded technologies, stacked by instrument, for up to three arms."""
    shown = data.arms[:3]
    layout = _layout(
        26 * top + 120,
        barmode="stack",
        hovermode="closest",
        margin={"l": 20, "r": 20, "t": 40, "b": 40},
        **grid(1, len(shown), [a.label for a in shown], hgap=0.22 if len(shown) > 1 else 0.05),
    )
    columns = [f"funding_{line}" for line in data.funding_lines]
    traces = []
    for c, arm in enumerate(shown, start=1):
        part = data.funding[data.funding["arm"] == arm.key].set_index("technology_id")[columns]
        part = part.loc[part.sum(axis=1).sort_values(ascending=False).index[:top]]
        names = [_name(data, t) for t in part.index]
        for i, column in enumerate(columns):
            if not part[column].any():
                continue
            traces.append(
                {
                    "type": "bar",
                    "orientation": "h",
                    "y": names,
                    "x": _list(part[column]),
                    "name": _line_label(column[len("funding_") :]),
                    "marker": {"color": INSTRUMENT_COLORS[i % len(INSTRUMENT_COLORS)]},
                    "legendgroup": column,
                    "showlegend": c == 1,
                    "xaxis": f"x{_suffix(c)}",
                    "yaxis": f"y{_suffix(c)}",
                }
            )
        layout[f"yaxis{_suffix(c)}"].update({"autorange": "reversed", "tickfont": {"size": 9}, "automargin": True})
    return {"data": traces, "layout": layout}


def funding_summary(data: ReportData) -> pd.DataFrame:
    """Per arm: total money, its HHI across technologies and across instruments."""
    columns = [f"funding_{line}" for line in data.funding_lines]
    rows = []
    for arm in data.arms:
        part = data.funding[data.funding["arm"] == arm.key]
        by_tech = part[columns].sum(axis=1)
        by_line = part[columns].sum(axis=0)
        rows.append(
            {
                "scenario": arm.label,
                "total (bn CNY)": float(by_tech.sum()),
                "HHI across technologies": hhi(by_tech),
                "HHI across instruments": hhi(by_line),
                "largest line": _line_label(str(by_line.idxmax())[len("funding_") :]) if by_line.sum() > 0 else "—",
            }
        )
    return pd.DataFrame(rows)


CHANNEL_LABELS = {
    "frontier_growth": "frontier's own growth (−)",
    "frontier_learning": "frontier learning from a Chinese lead (−)",
    "emulation": "emulation of the frontier (own R&D)",
    "controls_knowhow_cut": "controls' know-how cut",
    "own_innovation": "own innovation",
    "knowledge": "knowledge from institutions (and abroad)",
    "leader_change": "leader change (composition)",
    "exit": "exit of firms",
    "entry": "entry of new firms",
    "total": "total change",
}


def channel_label(channel: str) -> str:
    """A readable name of an attribution channel (``subsidy_<line>`` → ``subsidies: <line>``)."""
    if channel.startswith("subsidy_"):
        return "subsidies: " + channel[len("subsidy_") :].replace("_", " ")
    return CHANNEL_LABELS.get(channel, channel.replace("_", " "))


def attribution_figure(data: ReportData) -> Figure:
    """Why each technology's relative capability changed: every channel's total over the run.

    One horizontal bar per channel and arm (median over runs, whiskers 10–90 %), for the
    technology chosen in the menu (every technology with an attribution).
    """
    frame = data.attribution
    if frame is None or frame.empty:
        return {"data": [], "layout": _layout(200)}
    channels = [c for c in (*CHANNEL_LABELS, *sorted(frame["channel"].unique())) if c in set(frame["channel"])]
    channels = list(dict.fromkeys(c for c in channels if c != "total")) + ["total"]
    names = data.technologies["name_en"].to_dict()
    techs = [t for t in data.technologies.index if t in set(frame["technology_id"])]
    traces: list[dict[str, Any]] = []
    for ti, tech in enumerate(techs):
        part = frame[frame["technology_id"] == tech].set_index(["arm", "channel"])
        for arm in data.arms:
            rows = [part.loc[(arm.key, c)] if (arm.key, c) in part.index else None for c in channels]
            med = [None if r is None else r["total_q50"] for r in rows]
            traces.append(
                {
                    "type": "bar",
                    "orientation": "h",
                    "name": arm.label,
                    "legendgroup": arm.key,
                    "showlegend": ti == 0,
                    "visible": ti == 0,
                    "y": [channel_label(c) for c in channels],
                    "x": _list(med),
                    "marker": {"color": arm.color},
                    "error_x": {
                        "type": "data",
                        "symmetric": False,
                        "array": _list([None if r is None else r["total_q90"] - r["total_q50"] for r in rows]),
                        "arrayminus": _list([None if r is None else r["total_q50"] - r["total_q10"] for r in rows]),
                        "thickness": 1,
                    },
                }
            )
    n_arms = len(data.arms)
    buttons = [
        {
            "label": names.get(tech, tech),
            "method": "update",
            "args": [{"visible": [i // n_arms == ti for i in range(len(traces))]}],
        }
        for ti, tech in enumerate(techs)
    ]
    layout = _layout(
        max(360, 26 * len(channels) * max(1, n_arms) // 2 + 120),
        barmode="group",
        margin={"l": 260, "r": 20, "t": 50, "b": 50},
        xaxis={
            **GRID,
            "title": {"text": "change of log relative capability over the run (log points)"},
            "zeroline": True,
        },
        yaxis={"autorange": "reversed", "automargin": True},
        updatemenus=[
            {"buttons": buttons, "direction": "down", "x": 0.0, "xanchor": "left", "y": 1.12, "yanchor": "top"}
        ],
    )
    return {"data": traces, "layout": layout}


def selection_table(data: ReportData) -> pd.DataFrame:
    """The technologies each arm's priority mode weighted at the start, with the reason."""
    frame = data.selection
    if frame is None or frame.empty:
        return pd.DataFrame()
    labels = {arm.key: arm.label for arm in data.arms}
    names = data.technologies["name_en"].to_dict()
    out = pd.DataFrame(
        {
            "arm": frame["arm"].map(labels),
            "mode": frame["mode"],
            "technology": frame["technology_id"].map(lambda t: names.get(t, t)),
            "group": frame["group"],
            "priority weight": frame["priority_weight"],
            "strategic weight": frame["strategic_weight"],
            "gap (log points)": frame["gap"],
            "score = weight × gap": frame["score"],
            "issue owner": frame["issue_owner"].str.replace("_", " "),
            "runs selected": [f"{a} / {b}" for a, b in zip(frame["runs_selected"], frame["runs"], strict=True)],
        }
    )
    return out
