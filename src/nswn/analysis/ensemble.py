"""Ensemble summaries: bands, paired differences under common random numbers, parity odds.

An ensemble is read from a results store. Runs recorded by ``nswn sweep`` carry their
design's plan: each run belongs to an *arm* (a scenario × lever point) and a *world* (an
uncertainty point × replicate; every arm is run in every world, with the same seed and the
same sampled assumptions). Runs stored by ``nswn run`` alone form one arm per scenario, and
their world is their seed.

* :func:`bands` — 5 / 50 / 95 % quantiles (and mean) per arm, indicator and year.
* :func:`paired_differences` — arm minus reference arm, world by world (common random
  numbers remove the noise the arms share), with a Student-t interval for the mean
  difference and the 5–95 % spread of the differences.
* :func:`parity_probability` — the share of runs in which a technology has reached parity
  (relative capability ≥ the parity threshold) by a given year, with a Wilson interval.
* :func:`sensitivity` — Morris or Sobol indices (SALib) of an indicator over a block sampled
  with that method.

References
----------
Law, A. M. (2015). Simulation Modeling and Analysis, 5th ed., §11.2 (common random numbers
and paired-t intervals). Wilson, E. B. (1927). Probable inference, the law of succession,
and statistical inference. JASA 22, 209–212. model.md §4, §9 and §10.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

QUANTILES = (0.05, 0.5, 0.95)
LEVEL = 0.9
KEYS = ("run_id", "arm", "world")


class EnsembleError(ValueError):
    """The results cannot be summarised as asked (no runs, unknown design or arm …)."""


@dataclass
class Ensemble:
    """The runs of one design (or of a plain results directory) in a results store.

    Attributes
    ----------
    store
        The :class:`nswn.storage.store.ResultsStore`.
    runs
        One row per design point and replicate whose run is stored: ``run_id``, ``arm``,
        ``world``, ``scenario_name``, ``seed``, ``replicate``, ``uncertainty_point``,
        ``lever_point``.
    design
        The design's manifest (``designs`` row, with ``design_json`` parsed), or ``None``.
    planned
        Runs the design planned (``len(runs)`` for a plain directory).
    """

    store: Any
    runs: pd.DataFrame
    design: dict[str, Any] | None
    planned: int

    @property
    def arms(self) -> list[str]:
        """Arm labels in design order."""
        return list(dict.fromkeys(self.runs["arm"]))

    @property
    def complete(self) -> bool:
        return self.design is None or (
            self.design.get("completed_at") is not None and len(self.runs["run_id"].unique()) >= self.planned
        )

    def macro_year(self, columns: list[str] | None = None) -> pd.DataFrame:
        """``macro_year`` rows of the ensemble's runs, with ``arm`` and ``world`` added."""
        return self._table("macro_year", columns)

    def technology_year(self, columns: list[str] | None = None) -> pd.DataFrame:
        """``technology_year`` rows of the ensemble's runs, with ``arm`` and ``world`` added."""
        return self._table("technology_year", columns)

    def _table(self, table: str, columns: list[str] | None) -> pd.DataFrame:
        ids = list(dict.fromkeys(self.runs["run_id"]))
        if not ids:
            raise EnsembleError("no stored runs to summarise")
        wanted = "*" if columns is None else ", ".join(_quote(c) for c in dict.fromkeys(["run_id", *columns]))
        frame = self.store.query(f"SELECT {wanted} FROM {table} WHERE run_id IN (SELECT unnest(?))", [ids])
        keyed = self.runs[list(KEYS)]
        merged = keyed.merge(frame, on="run_id", how="inner", validate="many_to_many")
        order = [c for c in ("arm", "world", "year", "technology_id") if c in merged.columns]
        return merged.sort_values(order, kind="stable").reset_index(drop=True)


def _quote(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise EnsembleError(f"not a column name: {name!r}")
    return f'"{name}"'


def load_ensemble(results: Any, design: str | None = None) -> Ensemble:
    """Open the ensemble in a results directory.

    Parameters
    ----------
    results
        A results directory or an open :class:`~nswn.storage.store.ResultsStore`.
    design
        Name or hash (or hash prefix) of a design recorded by ``nswn sweep``; by default the
        most recently started one. A directory without designs is read as one arm per scenario.

    Raises
    ------
    nswn.storage.store.StoreError
        When there is no results database.
    EnsembleError
        When the design is unknown or nothing is stored.
    """
    from nswn.storage.store import ResultsStore

    store = results if isinstance(results, ResultsStore) else ResultsStore(Path(results), create=False)
    tables = store.tables()
    if "runs" not in tables:
        raise EnsembleError(f"{store.path}: no runs stored yet")
    designs = store.designs()
    if designs.empty:
        if design is not None:
            raise EnsembleError(f"{store.path}: no designs recorded (it holds runs of `nswn run` only)")
        return _plain_ensemble(store)
    chosen = _choose_design(designs, design, store)
    plan = store.query(
        "SELECT p.run_id, p.arm, 'u' || p.uncertainty_point || ':r' || p.replicate AS world, p.scenario_name, "
        "p.seed, p.replicate, p.uncertainty_point, p.lever_point, p.overrides_json "
        "FROM design_runs p JOIN runs r ON p.run_id = r.run_id WHERE p.design_hash = ? "
        "ORDER BY p.lever_point, p.uncertainty_point, p.replicate",
        [chosen["design_hash"]],
    )
    info = dict(chosen)
    info["design_json"] = json.loads(info["design_json"]) if info.get("design_json") else {}
    arms_order = info["design_json"].get("arms") or list(dict.fromkeys(plan["arm"]))
    plan["arm"] = pd.Categorical(plan["arm"], categories=arms_order, ordered=True)
    plan = plan.sort_values(["arm", "uncertainty_point", "replicate"], kind="stable").reset_index(drop=True)
    plan["arm"] = plan["arm"].astype(str)
    if plan.empty:
        raise EnsembleError(f"design {chosen['name']!r} ({chosen['design_hash']}) has no stored runs yet")
    planned = int(chosen.get("runs_planned") or len(plan))
    return Ensemble(store=store, runs=plan, design=info, planned=planned)


def _choose_design(designs: pd.DataFrame, wanted: str | None, store: Any) -> dict[str, Any]:
    if wanted is None:
        return dict(designs.iloc[-1])
    matches = designs[(designs["name"] == wanted) | designs["design_hash"].str.startswith(wanted)]
    if matches.empty:
        known = ", ".join(f"{n} ({h})" for n, h in zip(designs["name"], designs["design_hash"], strict=True))
        raise EnsembleError(f"{store.path}: no design {wanted!r}; recorded: {known}")
    return dict(matches.iloc[-1])


def _plain_ensemble(store: Any) -> Ensemble:
    runs = store.query("SELECT run_id, scenario_name, scenario_hash, seed FROM runs ORDER BY scenario_name, seed")
    names = runs.groupby("scenario_name")["scenario_hash"].nunique()
    repeated = set(names[names > 1].index)
    runs["arm"] = [
        f"{n}#{h[:6]}" if n in repeated else n
        for n, h in zip(runs["scenario_name"], runs["scenario_hash"], strict=True)
    ]
    runs["world"] = "seed:" + runs["seed"].astype(str)
    runs["replicate"] = runs.groupby("arm").cumcount()
    runs["uncertainty_point"] = 0
    runs["lever_point"] = 0
    return Ensemble(store=store, runs=runs, design=None, planned=len(runs))


# ---------------------------------------------------------------------------------------
# summaries of frames (from an Ensemble, or any tables with arm / world / year columns)


def bands(
    frame: pd.DataFrame,
    indicators: list[str],
    by: tuple[str, ...] = ("arm", "year"),
    quantiles: tuple[float, ...] = QUANTILES,
) -> pd.DataFrame:
    """Quantile bands of indicators across runs.

    Parameters
    ----------
    frame
        Rows of runs (e.g. :meth:`Ensemble.macro_year`), with the ``by`` columns.
    indicators
        Numeric columns to summarise.
    by
        Grouping columns (add ``technology_id`` for per-technology bands).
    quantiles
        Quantiles to report, named ``p5``, ``p50``, ``p95`` …

    Returns
    -------
    pandas.DataFrame
        One row per group and indicator: ``by…, indicator, runs, mean, p5, p50, p95``.
    """
    _require(frame, [*by, *indicators])
    long = frame.melt(id_vars=list(by), value_vars=list(indicators), var_name="indicator", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce").astype(float)
    groups = long.groupby([*by, "indicator"], sort=False, observed=True)["value"]
    out = groups.agg(runs="count", mean="mean")
    for q in quantiles:
        out[_qname(q)] = groups.quantile(q)
    return out.reset_index()


def _qname(q: float) -> str:
    return f"p{q * 100:g}"


def paired_differences(
    frame: pd.DataFrame,
    indicators: list[str],
    reference: str,
    by: tuple[str, ...] = ("year",),
    level: float = LEVEL,
) -> pd.DataFrame:
    """Differences of every arm from ``reference``, paired world by world.

    Runs of two arms in the same world share their seed and sampled assumptions (common
    random numbers), so the difference of the pair removes their shared noise.

    Parameters
    ----------
    frame
        Rows with ``arm``, ``world``, the ``by`` columns and the indicators.
    indicators
        Numeric columns to compare.
    reference
        The arm subtracted from every other arm.
    by
        Further keys that must match within a pair (``year``; add ``technology_id``).
    level
        Confidence level of the interval for the mean difference.

    Returns
    -------
    pandas.DataFrame
        ``arm, by…, indicator, pairs, reference_mean, arm_mean, difference, low, high,
        p5, p95, share_positive``; ``difference`` is the mean of (arm − reference),
        ``low``/``high`` its Student-t interval, ``p5``/``p95`` the spread of the differences.
    """
    from scipy import stats

    _require(frame, ["arm", "world", *by, *indicators])
    arms = list(dict.fromkeys(frame["arm"]))
    if reference not in arms:
        raise EnsembleError(f"no arm {reference!r}; arms: {', '.join(arms)}")
    keys = ["world", *by]
    base = frame[frame["arm"] == reference][[*keys, *indicators]]
    parts = []
    for arm in arms:
        if arm == reference:
            continue
        other = frame[frame["arm"] == arm][[*keys, *indicators]]
        pairs = other.merge(base, on=keys, suffixes=("", "__ref"), validate="one_to_one")
        for indicator in indicators:
            value = pd.to_numeric(pairs[indicator], errors="coerce").astype(float)
            ref = pd.to_numeric(pairs[f"{indicator}__ref"], errors="coerce").astype(float)
            part = pairs[list(by)].assign(arm=arm, indicator=indicator, arm_value=value, ref_value=ref)
            part["diff"] = value - ref
            parts.append(part[np.isfinite(part["diff"].to_numpy())])
    columns = ["arm", *by, "indicator", "pairs", "reference_mean", "arm_mean", "difference", "low", "high"]
    columns += ["p5", "p95", "share_positive"]
    if not parts:
        return pd.DataFrame(columns=columns)
    long = pd.concat(parts, ignore_index=True)
    long["positive"] = (long["diff"] > 0).astype(float)
    grouped = long.groupby(["arm", *by, "indicator"], sort=False, observed=True)
    out = grouped.agg(
        pairs=("diff", "size"),
        reference_mean=("ref_value", "mean"),
        arm_mean=("arm_value", "mean"),
        difference=("diff", "mean"),
        sd=("diff", "std"),
        share_positive=("positive", "mean"),
    )
    out["p5"] = grouped["diff"].quantile(0.05)
    out["p95"] = grouped["diff"].quantile(0.95)
    n = out["pairs"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(n >= 2, stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)), np.nan)
        half = factor * out["sd"].to_numpy(dtype=float) / np.sqrt(n)
    out["low"] = out["difference"] - half
    out["high"] = out["difference"] + half
    return out.reset_index()[columns]


def parity_probability(
    technology_year: pd.DataFrame,
    year: int,
    by: tuple[str, ...] = ("arm", "technology_id"),
    level: float = LEVEL,
) -> pd.DataFrame:
    """Probability that a technology has reached parity by ``year``, across runs.

    A run counts as reaching parity by ``year`` when the technology's first parity year
    (``first_parity_year``: relative capability ≥ the scenario's parity threshold) is at most
    ``year``.

    Returns
    -------
    pandas.DataFrame
        ``by…, group, runs, reached, probability, low, high`` (Wilson interval at ``level``).
    """
    from scipy import stats

    _require(technology_year, ["run_id", "first_parity_year", *by])
    extra = ["group"] if "group" in technology_year.columns and "group" not in by else []
    per_run = technology_year.drop_duplicates(["run_id", *[b for b in by if b != "run_id"]])
    per_run = per_run.assign(_hit=per_run["first_parity_year"].fillna(np.inf) <= year)
    out = (
        per_run.groupby(list(by), sort=False, observed=True)
        .agg(runs=("_hit", "size"), reached=("_hit", "sum"), **{e: (e, "first") for e in extra})
        .reset_index()
    )
    z = float(stats.norm.ppf(0.5 + level / 2))
    n = out["runs"].to_numpy(dtype=float)
    p = out["reached"].to_numpy(dtype=float) / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    out["probability"] = p
    out["low"] = np.clip(centre - half, 0.0, 1.0)
    out["high"] = np.clip(centre + half, 0.0, 1.0)
    columns = [*by, *extra, "runs", "reached", "probability", "low", "high"]
    return out[columns]


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise EnsembleError(f"missing column(s): {', '.join(missing)}; available: {', '.join(frame.columns)}")


# ---------------------------------------------------------------------------------------
# sensitivity (designs sampled with morris or sobol)


def sensitivity(
    ensemble: Ensemble,
    indicator: str,
    year: int,
    block: str = "uncertainties",
    technology: str | None = None,
) -> pd.DataFrame:
    """Morris (μ*, σ) or Sobol (S1, ST) indices of one indicator in one year.

    The block must have been sampled with ``morris`` or ``sobol``. For ``uncertainties`` the
    indices are computed per arm (column ``of``), the indicator's value at a sampled point
    being its mean over the replicates run there; for ``levers``, per scenario, the value at a
    lever point being its mean over all worlds.

    Parameters
    ----------
    ensemble
        From :func:`load_ensemble` (a design recorded by ``nswn sweep``).
    indicator
        A ``macro_year`` column, or a ``technology_year`` column with ``technology``.
    year
        The year whose value is analysed.
    block
        ``uncertainties`` or ``levers``.
    technology
        A technology id, for technology indicators.
    """
    if ensemble.design is None:
        raise EnsembleError("sensitivity needs a design recorded by `nswn sweep`")
    if not ensemble.complete:
        raise EnsembleError("sensitivity needs every run of the design; finish the sweep first")
    sampled = ensemble.design["design_json"].get(block) or {}
    method = sampled.get("sampler")
    if method not in ("morris", "sobol"):
        raise EnsembleError(f"the design's {block} were sampled with {method or 'nothing'}, not morris or sobol")
    names = [f["path"] for f in sampled["factors"]]
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [f.get("range", [0.0, 1.0]) for f in sampled["factors"]],
    }
    matrix = np.asarray(sampled["matrix"], dtype=float)
    point = "uncertainty_point" if block == "uncertainties" else "lever_point"
    if technology is None:
        frame = ensemble.macro_year([indicator, "year"])
    else:
        frame = ensemble.technology_year([indicator, "year", "technology_id"])
        frame = frame[frame["technology_id"] == technology]
    frame = frame[frame["year"] == year]
    if frame.empty:
        raise EnsembleError(f"no rows for year {year}" + (f" and technology {technology!r}" if technology else ""))
    frame = frame.merge(
        ensemble.runs[["run_id", "arm", "world", "scenario_name", point]].drop_duplicates(),
        on=["run_id", "arm", "world"],
    )
    # uncertainties: indices per arm (mean over replicates); levers: per scenario (mean over worlds)
    group_by = "arm" if block == "uncertainties" else "scenario_name"
    rows = []
    for label, group in frame.groupby(group_by, sort=False):
        means = group.groupby(point)[indicator].mean().reindex(range(len(matrix)))
        y = means.to_numpy(dtype=float)
        if not np.isfinite(y).all():
            raise EnsembleError(f"{indicator} is missing or not finite at some sampled points")
        rows.extend(_indices(method, problem, matrix, y, sampled, str(label)))
    return pd.DataFrame(rows)


def _checked(method: str, rows: list[dict[str, Any]], sampled: dict[str, Any]) -> list[dict[str, Any]]:
    """Add doubts (sample size, indices outside [0, 1]) to a list of index rows, as a ``note``."""
    from nswn.experiments.sensitivity import index_warnings

    table = pd.DataFrame(rows).drop(columns=["of"])
    note = "; ".join(index_warnings(method, table, sampled.get("samples")))
    for row in rows:
        row["note"] = note
    return rows


def _indices(
    method: str, problem: dict[str, Any], matrix: np.ndarray, y: np.ndarray, sampled: dict[str, Any], label: str
) -> list[dict[str, Any]]:
    from nswn.experiments.sensitivity import no_variance, quiet_salib

    if no_variance(y):
        if method == "morris":
            columns: tuple[str, ...] = ("mu_star", "mu_star_conf", "sigma")
        else:
            columns = ("S1", "S1_conf", "ST", "ST_conf")
        return [
            {"of": label, "parameter": name, **dict.fromkeys(columns, float("nan")), "note": "no variance"}
            for name in problem["names"]
        ]
    with quiet_salib():
        return _checked(method, _salib_indices(method, problem, matrix, y, sampled, label), sampled)


def _salib_indices(
    method: str, problem: dict[str, Any], matrix: np.ndarray, y: np.ndarray, sampled: dict[str, Any], label: str
) -> list[dict[str, Any]]:
    if method == "morris":
        from SALib.analyze import morris

        result = morris.analyze(problem, matrix, y, num_levels=sampled.get("levels") or 4, seed=0)
        return [
            {
                "of": label,
                "parameter": name,
                "mu_star": float(result["mu_star"][i]),
                "mu_star_conf": float(result["mu_star_conf"][i]),
                "sigma": float(result["sigma"][i]),
            }
            for i, name in enumerate(problem["names"])
        ]
    from SALib.analyze import sobol

    result = sobol.analyze(problem, y, calc_second_order=bool(sampled.get("second_order")), seed=0)
    return [
        {
            "of": label,
            "parameter": name,
            "S1": float(result["S1"][i]),
            "S1_conf": float(result["S1_conf"][i]),
            "ST": float(result["ST"][i]),
            "ST_conf": float(result["ST_conf"][i]),
        }
        for i, name in enumerate(problem["names"])
    ]
