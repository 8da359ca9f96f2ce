"""What the report draws, read from a results store with DuckDB aggregations.

Runs are grouped into *arms*. Runs planned by a design (``nswn sweep``) belong to their
design arm: the sampled worlds (uncertainty points) and seeds of an arm are folded into
one fan, and the arm is labelled by the design's lever values. Other runs are grouped by
scenario hash and labelled by their scenario name plus the levers and assumptions that
differ from the shipped scenario of that name (or from the first arm); the hash tells two
arms with the same label apart. Several runs of an arm make an ensemble, drawn as a fan
(10–90 % of runs around the median); one run is a line. The heavy lifting (quantiles over
runs, sums over technologies) happens in SQL, so a store with thousands of runs still makes
a report quickly.
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
    """One arm drawn by the report: a design arm or a scenario, its runs folded into a band."""

    key: str
    label: str
    name: str
    runs: int
    seeds: tuple[int, ...]
    color: str
    run_ids: tuple[str, ...] = ()
    worlds: int = 1
    differences: tuple[str, ...] = ()

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
    arm_map: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["run_id", "arm"]))
    broken: pd.DataFrame = field(default_factory=pd.DataFrame)
    derisk: dict[str, pd.DataFrame] | None = None  # the stored `nswn derisk` frontier, if any
    history: dict[str, pd.DataFrame] | None = None  # history runs against observations, if any
    attribution: pd.DataFrame | None = None  # per arm, technology, channel: run totals over runs (quantiles)
    selection: pd.DataFrame | None = None  # per arm: technologies the priority mode weighted at the start

    def arm(self, key: str) -> Arm:
        return next(a for a in self.arms if a.key == key)


def _placeholders(values: list[Any]) -> str:
    return ", ".join("?" for _ in values)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _policy(scenario_json: Any) -> dict[str, Any]:
    """The levers and assumptions of a stored scenario, as dotted paths."""
    try:
        data = json.loads(scenario_json)
    except (TypeError, ValueError):
        return {}
    return {
        k: v for k, v in _flatten({key: data.get(key) for key in ("levers", "assumptions")}).items() if v is not None
    }


def _shipped_policy(name: str) -> dict[str, Any] | None:
    try:
        from nswn.scenario import io

        if name not in io.shipped_scenarios():
            return None
        return _policy(io.load(name).model_dump_json())
    except Exception:  # noqa: BLE001 - a scenario that no longer loads is simply no base
        return None


def _differences(policy: dict[str, Any], base: dict[str, Any]) -> tuple[str, ...]:
    keys = sorted(set(policy) | set(base))
    return tuple(f"{k.removeprefix('levers.')}={_fmt(policy.get(k))}" for k in keys if policy.get(k) != base.get(k))


def _label(name: str, differences: tuple[str, ...], limit: int = 3) -> str:
    if not differences:
        return name
    shown = ", ".join(differences[:limit])
    more = f" +{len(differences) - limit} more" if len(differences) > limit else ""
    return f"{name}: {shown}{more}"


def _arm_members(store: Any, runs: pd.DataFrame) -> pd.DataFrame:
    """Each run's arm: ``run_id, arm, name, label, differences, world`` (design arms first)."""
    members = []
    if _table_exists(store, "design_runs") and _table_exists(store, "designs"):
        plan = store.query(
            """
            SELECT p.run_id, p.arm, p.scenario_name, p.uncertainty_point, p.overrides_json, d.name AS design,
                   d.started_at
            FROM design_runs p JOIN designs d USING (design_hash)
            ORDER BY d.started_at, d.design_hash, p.lever_point, p.uncertainty_point, p.replicate
            """
        )
        plan = plan[plan["run_id"].isin(runs["run_id"])].drop_duplicates("run_id")
        several = plan["design"].nunique() > 1
        for row in plan.itertuples():
            try:
                overrides = dict(json.loads(row.overrides_json or "[]"))
            except (TypeError, ValueError):
                overrides = {}
            levers = tuple(
                f"{path.removeprefix('levers.')}={_fmt(value)}"
                for path, value in overrides.items()
                if str(path).startswith("levers.")
            )
            key = f"{row.design}:{row.arm}" if several else str(row.arm)
            name = f"{row.design}: {row.scenario_name}" if several else str(row.scenario_name)
            members.append(
                {
                    "run_id": row.run_id,
                    "arm": key,
                    "name": str(row.scenario_name),
                    "label": _label(name, levers, limit=6),
                    "differences": levers,
                    "world": int(row.uncertainty_point),
                }
            )
    designed = {m["run_id"] for m in members}
    plain = runs[~runs["run_id"].isin(designed)].sort_values(["created_at", "scenario_name"], kind="stable")
    policies: dict[str, dict[str, Any]] = {}
    if "scenario_json" in plain.columns:
        unique = plain.drop_duplicates("scenario_hash")
        policies = {str(h): _policy(j) for h, j in zip(unique["scenario_hash"], unique["scenario_json"], strict=True)}
    first = next(iter(policies.values()), {})
    bases: dict[str, dict[str, Any]] = {}
    # equal content under different names (a scenario named in Python or on the page) stays its own arm
    names_per_hash = plain.groupby("scenario_hash")["scenario_name"].nunique()
    for row in plain.itertuples():
        name, digest = str(row.scenario_name), str(row.scenario_hash)
        key = digest if names_per_hash[digest] == 1 else f"{digest}:{name}"
        if name not in bases:
            bases[name] = _shipped_policy(name) or first
        differences = _differences(policies.get(digest, {}), bases[name]) if policies else ()
        members.append(
            {
                "run_id": row.run_id,
                "arm": key,
                "name": name,
                "label": _label(name, differences),
                "differences": differences,
                "world": 0,
            }
        )
    return pd.DataFrame(members, columns=["run_id", "arm", "name", "label", "differences", "world"])


def _choose_arms(
    runs: pd.DataFrame,
    members: pd.DataFrame,
    arms: list[str] | None = None,
    scenarios: list[str] | None = None,
) -> tuple[list[Arm], int]:
    info = members.merge(runs[["run_id", "seed", "created_at"]], on="run_id")
    first = info.groupby("arm", sort=False).agg(
        name=("name", "first"),
        label=("label", "first"),
        differences=("differences", "first"),
        created=("created_at", "min"),
        runs=("run_id", "count"),
        run_ids=("run_id", tuple),
        worlds=("world", "nunique"),
        seeds=("seed", lambda s: tuple(sorted({int(x) for x in s}))),
    )
    known_scenarios = sorted(set(first["name"]))
    if scenarios:
        unknown = [s for s in scenarios if s not in known_scenarios]
        if unknown:
            raise ReportError(
                f"--scenarios: no runs of {', '.join(map(repr, unknown))}; the store holds {', '.join(known_scenarios)}"
            )
        first = first[first["name"].isin(scenarios)]
    if arms:
        picked = []
        for wanted in arms:
            hits = [k for k, row in first.iterrows() if wanted in (k, row["label"]) or str(k).startswith(wanted)]
            if not hits:
                raise ReportError(
                    f"--arms: no arm {wanted!r}; arms: "
                    + "; ".join(f"{row['label']} [{k}]" for k, row in first.iterrows())
                )
            picked += [h for h in hits if h not in picked]
        first = first.loc[picked]
    else:
        first = first.sort_values(["created", "name"], kind="stable")
    chosen = first.head(MAX_ARMS)
    labels = chosen["label"].tolist()
    out = []
    for i, (key, row) in enumerate(chosen.iterrows()):
        label = str(row["label"]) if labels.count(row["label"]) == 1 else f"{row['label']} ({str(key)[:6]})"
        out.append(
            Arm(
                key=str(key),
                label=label,
                name=str(row["name"]),
                runs=int(row["runs"]),
                seeds=row["seeds"],
                color=PALETTE[i % len(PALETTE)],
                run_ids=tuple(row["run_ids"]),
                worlds=int(row["worlds"]),
                differences=tuple(row["differences"]),
            )
        )
    return out, len(first) - len(chosen)


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


JOIN_ARMS = "JOIN arm_map am USING (run_id)"


def _parity_years(store: Any, arm_map: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per arm and technology: broken year over runs; per arm and group: broken and at-start counts.

    *Broken* is :func:`nswn.mechanisms.indicators.lasting_parity` (below parity at the start,
    at parity from the broken year through the end of the run), via
    :func:`nswn.analysis.parity.parity_status`.
    """
    from nswn.analysis.parity import parity_status

    rows_ = store.query(
        f"""
        SELECT am.arm, t.run_id, t.technology_id, t."group", t.year, t.parity_reached, t.relative_capability
        FROM technology_year t {JOIN_ARMS}
        ORDER BY t.run_id, t.year, t.technology_id
        """,
        frames={"arm_map": arm_map},
    )
    if rows_.empty:
        return pd.DataFrame(), pd.DataFrame()
    status = parity_status(rows_, by=("arm", "run_id"))
    starts = rows_.sort_values("year", kind="stable").drop_duplicates(["run_id", "technology_id"])
    status = status.merge(
        starts[["run_id", "technology_id", "relative_capability"]].rename(
            columns={"relative_capability": "start_capability"}
        ),
        on=["run_id", "technology_id"],
    )
    last_year = int(rows_["year"].max())
    rows = []
    for (arm, tech), part in status.groupby(["arm", "technology_id"], sort=False):
        years = part["broken_year"].to_numpy(dtype=float)
        ranked = np.where(np.isnan(years), np.inf, years)
        q10, q50, q90 = np.quantile(ranked, [0.1, 0.5, 0.9], method="lower")
        rows.append(
            {
                "arm": arm,
                "technology_id": tech,
                "group": part["group"].iloc[0],
                "reached_share": float(np.mean(~np.isnan(years))),
                "year_q10": q10,
                "year_q50": q50,
                "year_q90": q90,
                "start_capability": float(part["start_capability"].median()),
                "at_start_share": float(part["parity_at_start"].mean()),
                "last_year": last_year,
            }
        )
    frame = pd.DataFrame(rows).replace([np.inf], np.nan)
    status = status.assign(broken=status["broken_year"].notna())
    per_run = status.groupby(["arm", "run_id", "group"], sort=False)[["parity_at_start", "broken"]].sum()
    counts = (
        per_run.groupby(["arm", "group"], sort=False)
        .agg(
            runs=("broken", "size"),
            at_start=("parity_at_start", "median"),
            broken_q10=("broken", lambda x: float(np.quantile(x, 0.1))),
            broken_q50=("broken", "median"),
            broken_q90=("broken", lambda x: float(np.quantile(x, 0.9))),
        )
        .reset_index()
    )
    return frame, counts


def load(store: Any, arms: list[str] | None = None, scenarios: list[str] | None = None) -> ReportData:
    """Read and aggregate a :class:`~nswn.storage.store.ResultsStore` for the report.

    Parameters
    ----------
    store
        The results store.
    arms
        Only these arms (by label, key or key prefix), in this order.
    scenarios
        Only arms of these scenario names.

    Raises
    ------
    ReportError
        No runs, or an arm or scenario the store does not hold.
    """
    if not _table_exists(store, "runs"):
        raise ReportError(f"{store.path}: no runs table (write results with `nswn run --out DIR`)")
    runs = store.runs()
    if runs.empty:
        raise ReportError(f"{store.path}: the results hold no runs yet")
    members = _arm_members(store, runs)
    chosen, omitted = _choose_arms(runs, members, arms, scenarios)
    keys = [a.key for a in chosen]
    arm_map = members[members["arm"].isin(keys)][["run_id", "arm"]].reset_index(drop=True)
    frames = {"arm_map": arm_map}
    runs = runs[runs["run_id"].isin(arm_map["run_id"])].reset_index(drop=True)
    notes = []
    if omitted:
        notes.append(
            f"{omitted} more arm(s) in the store are not drawn (the report shows {MAX_ARMS}; choose with --arms)."
        )

    capability = store.query(
        f"""
        SELECT am.arm, t.technology_id, t.year, {_quantiles("t.relative_capability", "cap")}
        FROM technology_year t {JOIN_ARMS}
        WHERE t."group" = 'stranglehold'
        GROUP BY ALL ORDER BY am.arm, t.technology_id, t.year
        """,
        frames=frames,
    )
    groups = store.query(
        f"""
        WITH g AS (
            SELECT am.arm, t.run_id, t."group" AS grp, t.year,
                   sum(t.china_domestic_share * t.demand) / nullif(sum(t.demand), 0) AS share,
                   sum(t.china_exports) AS exports
            FROM technology_year t {JOIN_ARMS}
            GROUP BY ALL
        )
        SELECT arm, grp, year, {_quantiles("share")}, {_quantiles("exports")}
        FROM g GROUP BY ALL ORDER BY arm, grp, year
        """,
        frames=frames,
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
            SELECT am.arm, m.run_id, m.year, {", ".join(f"m.{c}" for c in plain)}
                   {", " + index_exprs if index_exprs else ""}
            FROM macro_year m {JOIN_ARMS}
        )
        SELECT arm, year, {", ".join(_quantiles(c) for c in plain + [f"{c}_index" for c in indexed])}
        FROM per_run GROUP BY ALL ORDER BY arm, year
        """,
        frames=frames,
    )
    if len(wanted) < len(MACRO_COLUMNS) + len(INDEXED_COLUMNS):
        missing = sorted(set(MACRO_COLUMNS + INDEXED_COLUMNS) - macro_available)
        notes.append(f"macro_year lacks {', '.join(missing)}; those panels are left out.")

    lines = [c for c in _columns(store, "technology_year") if c.startswith("funding_") and c != "funding_total"]
    if lines:
        sums = ", ".join(f"sum(t.{c}) / count(DISTINCT t.run_id) AS {c}" for c in lines)
        funding = store.query(
            f"""
            SELECT am.arm, t.technology_id, {sums}
            FROM technology_year t {JOIN_ARMS}
            GROUP BY ALL
            """,
            frames=frames,
        )
    else:
        funding = pd.DataFrame(columns=["arm", "technology_id"])

    parity_years, broken = _parity_years(store, arm_map)
    attribution = _attribution(store, frames)
    selection = _selection(store, frames, runs)
    claims = store.query("SELECT * FROM claims") if _table_exists(store, "claims") else None
    return ReportData(
        runs=runs,
        arms=chosen,
        omitted_arms=omitted,
        parity=_parity_threshold(runs),
        technologies=_technologies(),
        capability=capability,
        parity_years=parity_years,
        groups=groups,
        macro=macro,
        funding_lines=[c[len("funding_") :] for c in lines],
        funding=funding,
        claims=claims,
        derisk=_derisk_tables(store),
        history=_history_tables(store),
        notes=notes,
        arm_map=arm_map,
        broken=broken,
        attribution=attribution,
        selection=selection,
    )


def _attribution(store: Any, frames: dict[str, pd.DataFrame]) -> pd.DataFrame | None:
    """Per arm, technology and channel: the channel's total over a run (sum of its yearly changes
    of log relative capability), quantiles over runs; ``total`` is the measure's own change.

    None for a store written before the attribution record existed.
    """
    if not _table_exists(store, "technology_attribution_year"):
        return None
    return store.query(
        f"""
        WITH per_run AS (
            SELECT am.arm, a.run_id, a.technology_id, a.channel, sum(a.log_capability_change) AS total
            FROM technology_attribution_year a {JOIN_ARMS}
            GROUP BY ALL
        ), measure AS (
            SELECT am.arm, t.run_id, t.technology_id, 'total' AS channel,
                   ln(arg_max(t.relative_capability, t.year)) - ln(arg_min(t.relative_capability, t.year)) AS total
            FROM technology_year t {JOIN_ARMS}
            WHERE t.relative_capability > 0
            GROUP BY ALL
        )
        SELECT arm, technology_id, channel, {_quantiles("total")}, count(*) AS runs
        FROM (SELECT * FROM per_run UNION ALL SELECT * FROM measure)
        GROUP BY ALL ORDER BY arm, technology_id, channel
        """,
        frames=frames,
    )


def _selection(store: Any, frames: dict[str, pd.DataFrame], runs: pd.DataFrame) -> pd.DataFrame:
    """Per arm: the technologies with a priority weight in the start year, and why.

    The reason columns are what the priority modes use (mechanisms.priorities): the catalog's
    strategic weight, the start-year gap ``F − c_best`` (log points, median over runs), the
    shortlist score ``weight × max(gap, 0)`` and the technology's issue owner (lobbying mode).
    """
    from nswn import catalog

    frame = store.query(
        f"""
        WITH start AS (
            SELECT am.arm, t.run_id, t.technology_id, t."group", t.priority_weight, t.gap
            FROM technology_year t {JOIN_ARMS}
            WHERE t.year = (SELECT min(year) FROM technology_year WHERE run_id = t.run_id)
        )
        SELECT arm, technology_id, "group", median(priority_weight) AS priority_weight, median(gap) AS gap,
               count(*) FILTER (WHERE priority_weight > 0) AS runs_selected, count(*) AS runs
        FROM start GROUP BY ALL HAVING count(*) FILTER (WHERE priority_weight > 0) > 0
        ORDER BY arm, priority_weight DESC, technology_id
        """,
        frames=frames,
    )
    info = {t.id: t for t in catalog.technologies()}
    frame["strategic_weight"] = [
        float(info[t].strategic_weight) if t in info else np.nan for t in frame["technology_id"]
    ]
    frame["issue_owner"] = [str(info[t].issue_owner_type) if t in info else "" for t in frame["technology_id"]]
    frame["score"] = frame["strategic_weight"] * frame["gap"].clip(lower=0)
    modes = {}
    for run_id, scenario_json in zip(runs["run_id"], runs.get("scenario_json", [None] * len(runs)), strict=False):
        modes[run_id] = str(_policy(scenario_json).get("levers.priorities.mode", ""))
    arm_modes = frames["arm_map"].assign(mode=lambda f: f["run_id"].map(modes)).groupby("arm")["mode"].first()
    frame["mode"] = frame["arm"].map(arm_modes)
    return frame


def _history_tables(store: Any) -> dict[str, pd.DataFrame] | None:
    from nswn.report import history

    return history.load(store)


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
