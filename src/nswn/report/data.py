"""What the report draws, read from a results store with DuckDB aggregations.

Runs are grouped into *arms* by scenario hash: several seeds of one scenario make an
ensemble, drawn as a fan (10–90 % of seeds around the median); one seed is a line. The
heavy lifting (quantiles over seeds, sums over technologies) happens in SQL, so a store
with thousands of runs still makes a report quickly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MAX_ARMS = 8
PALETTE = ("#c0392b", "#2874a6", "#27ae60", "#8e44ad", "#d68910", "#16a085", "#7f8c8d", "#e84393")
MACRO_COLUMNS = ("gdp", "manufacturing_share", "debt_to_gdp", "tfp_index", "hhi_funding", "hhi_priority")
INDEXED_COLUMNS = ("publications", "patents")
GROUP_ORDER = ("stranglehold", "bottleneck", "competitive_advantage", "future")


class ReportError(ValueError):
    """The results cannot be reported (no runs, not a results directory)."""


@dataclass(frozen=True)
class Arm:
    """One scenario in the store: its runs are the seeds of an ensemble."""

    key: str
    label: str
    name: str
    runs: int
    seeds: tuple[int, ...]
    color: str

    @property
    def ensemble(self) -> bool:
        return self.runs > 1


@dataclass
class ReportData:
    """Everything the report draws, aggregated over seeds per arm."""

    runs: pd.DataFrame
    arms: list[Arm]
    omitted_arms: int
    parity: float
    technologies: pd.DataFrame
    capability: pd.DataFrame
    parity_years: pd.DataFrame
    groups: pd.DataFrame
    macro: pd.DataFrame
    funding_lines: list[str]
    funding: pd.DataFrame
    claims: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    derisk: dict[str, pd.DataFrame] | None = None  # the stored `nswn derisk` frontier, if any

    def arm(self, key: str) -> Arm:
        return next(a for a in self.arms if a.key == key)


def _placeholders(values: list[Any]) -> str:
    return ", ".join("?" for _ in values)


def _choose_arms(runs: pd.DataFrame) -> tuple[list[Arm], int]:
    first = runs.groupby("scenario_hash", sort=False).agg(
        name=("scenario_name", "first"),
        created=("created_at", "min"),
        runs=("run_id", "count"),
        seeds=("seed", lambda s: tuple(sorted(int(x) for x in s))),
    )
    first = first.sort_values(["created", "name"])
    chosen = first.head(MAX_ARMS)
    names = chosen["name"].tolist()
    arms = []
    for i, (key, row) in enumerate(chosen.iterrows()):
        label = str(row["name"]) if names.count(row["name"]) == 1 else f"{row['name']} ({str(key)[:6]})"
        arms.append(
            Arm(
                key=str(key),
                label=label,
                name=str(row["name"]),
                runs=int(row["runs"]),
                seeds=row["seeds"],
                color=PALETTE[i % len(PALETTE)],
            )
        )
    return arms, len(first) - len(chosen)


def _parity_threshold(runs: pd.DataFrame) -> float:
    for text in runs.get("scenario_json", pd.Series(dtype=object)).dropna():
        try:
            return float(json.loads(text)["assumptions"]["indicators"]["parity"])
        except (ValueError, KeyError, TypeError):
            continue
    return 0.9


def _table_exists(store: Any, name: str) -> bool:
    found = store.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = ?", [name])
    return bool(found["n"].iloc[0])


def _columns(store: Any, table: str) -> list[str]:
    return list(store.query(f"SELECT * FROM {table} LIMIT 0").columns)


def _technologies() -> pd.DataFrame:
    from nswn import catalog

    rows = [{"technology_id": t.id, "name_en": t.name_en, "name_zh": t.name_zh} for t in catalog.technologies()]
    return pd.DataFrame(rows).set_index("technology_id")


def _quantiles(column: str, alias: str | None = None) -> str:
    alias = alias or column
    return (
        f"quantile_cont({column}, 0.1) AS {alias}_q10, median({column}) AS {alias}_q50, "
        f"quantile_cont({column}, 0.9) AS {alias}_q90"
    )


def _parity_years(store: Any, keys: list[str]) -> pd.DataFrame:
    per_run = store.query(
        f"""
        SELECT r.scenario_hash AS arm, t.run_id, t.technology_id, any_value(t."group") AS grp,
               max(t.first_parity_year) AS first_year,
               arg_min(t.relative_capability, t.year) AS start_capability,
               max(t.year) AS last_year
        FROM technology_year t JOIN runs r USING (run_id)
        WHERE r.scenario_hash IN ({_placeholders(keys)})
        GROUP BY ALL
        """,
        keys,
    )
    rows = []
    for (arm, tech), part in per_run.groupby(["arm", "technology_id"], sort=False):
        years = part["first_year"].to_numpy(dtype=float)
        ranked = np.where(np.isnan(years), np.inf, years)
        q10, q50, q90 = np.quantile(ranked, [0.1, 0.5, 0.9], method="lower")
        rows.append(
            {
                "arm": arm,
                "technology_id": tech,
                "group": part["grp"].iloc[0],
                "reached_share": float(np.mean(~np.isnan(years))),
                "year_q10": q10,
                "year_q50": q50,
                "year_q90": q90,
                "start_capability": float(part["start_capability"].median()),
                "last_year": int(part["last_year"].max()),
            }
        )
    frame = pd.DataFrame(rows)
    return frame.replace([np.inf], np.nan) if not frame.empty else frame


def load(store: Any) -> ReportData:
    """Read and aggregate a :class:`~nswn.storage.store.ResultsStore` for the report."""
    if not _table_exists(store, "runs"):
        raise ReportError(f"{store.path}: no runs table (write results with `nswn run --out DIR`)")
    runs = store.runs()
    if runs.empty:
        raise ReportError(f"{store.path}: the results hold no runs yet")
    arms, omitted = _choose_arms(runs)
    keys = [a.key for a in arms]
    where = f"r.scenario_hash IN ({_placeholders(keys)})"
    notes = []
    if omitted:
        notes.append(f"{omitted} more scenario(s) in the store are not drawn (the report shows the first {MAX_ARMS}).")

    capability = store.query(
        f"""
        SELECT r.scenario_hash AS arm, t.technology_id, t.year, {_quantiles("t.relative_capability", "cap")}
        FROM technology_year t JOIN runs r USING (run_id)
        WHERE t."group" = 'stranglehold' AND {where}
        GROUP BY ALL ORDER BY arm, t.technology_id, t.year
        """,
        keys,
    )
    groups = store.query(
        f"""
        WITH g AS (
            SELECT r.scenario_hash AS arm, t.run_id, t."group" AS grp, t.year,
                   sum(t.china_domestic_share * t.demand) / nullif(sum(t.demand), 0) AS share,
                   sum(t.china_exports) AS exports
            FROM technology_year t JOIN runs r USING (run_id)
            WHERE {where}
            GROUP BY ALL
        )
        SELECT arm, grp, year, {_quantiles("share")}, {_quantiles("exports")}
        FROM g GROUP BY ALL ORDER BY arm, grp, year
        """,
        keys,
    )
    macro_available = set(_columns(store, "macro_year"))
    wanted = [c for c in (*MACRO_COLUMNS, *INDEXED_COLUMNS) if c in macro_available]
    indexed = [c for c in INDEXED_COLUMNS if c in macro_available]
    index_exprs = ", ".join(
        f"m.{c} / nullif(first_value(m.{c}) OVER (PARTITION BY m.run_id ORDER BY m.year), 0) AS {c}_index"
        for c in indexed
    )
    plain = [c for c in MACRO_COLUMNS if c in macro_available]
    macro = store.query(
        f"""
        WITH per_run AS (
            SELECT r.scenario_hash AS arm, m.run_id, m.year, {", ".join(f"m.{c}" for c in plain)}
                   {", " + index_exprs if index_exprs else ""}
            FROM macro_year m JOIN runs r USING (run_id)
            WHERE {where}
        )
        SELECT arm, year, {", ".join(_quantiles(c) for c in plain + [f"{c}_index" for c in indexed])}
        FROM per_run GROUP BY ALL ORDER BY arm, year
        """,
        keys,
    )
    if len(wanted) < len(MACRO_COLUMNS) + len(INDEXED_COLUMNS):
        missing = sorted(set(MACRO_COLUMNS + INDEXED_COLUMNS) - macro_available)
        notes.append(f"macro_year lacks {', '.join(missing)}; those panels are left out.")

    lines = [c for c in _columns(store, "technology_year") if c.startswith("funding_") and c != "funding_total"]
    if lines:
        sums = ", ".join(f"sum(t.{c}) / count(DISTINCT t.run_id) AS {c}" for c in lines)
        funding = store.query(
            f"""
            SELECT r.scenario_hash AS arm, t.technology_id, {sums}
            FROM technology_year t JOIN runs r USING (run_id)
            WHERE {where}
            GROUP BY ALL
            """,
            keys,
        )
    else:
        funding = pd.DataFrame(columns=["arm", "technology_id"])

    claims = store.query("SELECT * FROM claims") if _table_exists(store, "claims") else None
    return ReportData(
        runs=runs,
        arms=arms,
        omitted_arms=omitted,
        parity=_parity_threshold(runs),
        technologies=_technologies(),
        capability=capability,
        parity_years=_parity_years(store, keys),
        groups=groups,
        macro=macro,
        funding_lines=[c[len("funding_") :] for c in lines],
        funding=funding,
        claims=claims,
        derisk=_derisk_tables(store),
        notes=notes,
    )


def _derisk_tables(store: Any) -> dict[str, pd.DataFrame] | None:
    from nswn.report import derisk

    return derisk.load_tables(store, _table_exists)


def hhi(values: Any) -> float:
    """Herfindahl–Hirschman index of non-negative amounts (0 when they sum to zero)."""
    amounts = np.clip(np.asarray(values, dtype=float), 0, None)
    total = amounts.sum()
    if total <= 0:
        return 0.0
    shares = amounts / total
    return float(np.sum(shares**2))
