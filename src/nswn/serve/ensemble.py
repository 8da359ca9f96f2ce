"""Paired-seed ensembles for the page: per-run series in the workers, bands and paired effects here.

Every page update runs the scenario and its comparison on the same seeds (common random
numbers: a seed gives both arms the same per-mechanism streams). Each run is reduced in its
worker to the few series the page draws (:func:`run_series`, about 30 kB), cached by the
runner under (scenario JSON — which holds the assumptions and the agent count, i.e. the
resolution —, seed). This module then folds the seeds into medians with 90 % bands and
the headline cards into paired differences with a 90 % t-interval (the convention of
``nswn compare``, :func:`nswn.analysis.compare.paired_table`); an interval that covers 0
is "no clear effect".
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

GROUPS = ("stranglehold", "bottleneck", "competitive_advantage", "future")
MACRO = ("gdp", "manufacturing_share", "debt_to_gdp", "tfp_index", "publications", "patents", "hhi_funding")
LEVEL = 0.9  # the level of every band and interval on the page
KPIS = (
    "broken_2035",
    "parity_start",
    "parity_end",
    "gdp_end",
    "manufacturing_share_end",
    "debt_to_gdp_end",
    "tfp_end",
)


def run_series(result: Any) -> dict[str, Any]:
    """One run's page series (plain NumPy arrays, picklable; the worker's reply).

    Returns
    -------
    dict
        ``years`` (Y,); ``ids``, ``groups`` (T,) (traditional excluded); ``relative_capability``
        (T, Y); ``parity``, ``share``, ``exports`` by group (Y,) each; ``macro`` by column (Y,);
        ``first_parity_year`` (T,); ``funding`` by line (bn CNY over the run); ``kpis`` by name;
        ``attribution`` channel → (T,) sum over the run of the channel's change of
        ``log relative capability`` (NaN where undefined) and ``log_change`` (T,), the
        measure's total change; ``priority0``, ``gap0`` (T,), the start year's priority
        weight and gap (log points).
    """
    tech = result.technology_year.sort_values(["technology_id", "year"], kind="stable")
    macro = result.macro_year.sort_values("year")
    years = np.sort(tech["year"].unique())
    ids = sorted(tech["technology_id"].unique())
    n_t, n_y = len(ids), len(years)
    if len(tech) != n_t * n_y:
        raise ValueError("technology_year is not one row per technology and year")

    def matrix(column: str) -> np.ndarray:
        return tech[column].to_numpy(dtype=float).reshape(n_t, n_y)

    groups = tech["group"].to_numpy().reshape(n_t, n_y)[:, 0]
    relative = matrix("relative_capability")
    at_parity = tech["parity_reached"].to_numpy(dtype=bool).reshape(n_t, n_y)
    demand = matrix("demand")
    share = matrix("china_domestic_share")
    exports = matrix("china_exports")
    parity_by, share_by, exports_by = {}, {}, {}
    for g in GROUPS:
        rows = groups == g
        if not rows.any():
            continue
        parity_by[g] = at_parity[rows].sum(axis=0).astype(float)
        weight = demand[rows].sum(axis=0)
        share_by[g] = np.where(
            weight > 0, (share[rows] * demand[rows]).sum(axis=0) / np.where(weight > 0, weight, 1), np.nan
        )
        exports_by[g] = exports[rows].sum(axis=0)
    first = matrix("first_parity_year")[:, 0]
    broken = matrix("broken_year")[:, 0]
    at_start = tech["parity_at_start"].to_numpy(dtype=bool).reshape(n_t, n_y)[:, 0]
    strangle = groups == "stranglehold"
    last = int(years[-1])
    m = {c: macro[c].to_numpy(dtype=float) for c in MACRO}
    kpis = {
        "broken_2035": float(np.sum(strangle & (broken <= 2035))),
        "parity_start": float(np.sum(strangle & at_start)),
        "parity_end": float(np.sum(strangle & at_parity[:, -1])),
        "gdp_end": float(m["gdp"][-1] / 1000.0),  # tn CNY
        "manufacturing_share_end": float(m["manufacturing_share"][-1]),
        "debt_to_gdp_end": float(m["debt_to_gdp"][-1]),
        "tfp_end": float(m["tfp_index"][-1]),
    }
    funding = {
        c[len("funding_") :]: float(tech[c].sum())
        for c in tech.columns
        if c.startswith("funding_") and c != "funding_total"
    }
    attribution: dict[str, np.ndarray] = {}
    table = (getattr(result, "breakdowns", None) or {}).get("technology_attribution_year")
    if table is not None and len(table):
        # a channel's total over the run; NaN when any of its years is undefined
        totals = table.groupby(["channel", "technology_id"], sort=False)["log_capability_change"].sum(min_count=1)
        undefined = table["log_capability_change"].isna().groupby([table["channel"], table["technology_id"]]).any()
        totals[undefined] = np.nan
        # one reshape to channel × technology (the same sums), instead of a lookup per channel
        channels = table["channel"].unique()
        wide = totals.unstack("technology_id").reindex(index=channels, columns=ids).to_numpy(dtype=float)
        for row, channel in enumerate(channels):
            attribution[str(channel)] = wide[row].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        log_change = np.log(relative[:, -1]) - np.log(relative[:, 0])
    return {
        "years": years.astype(int),
        "last": last,
        "ids": tuple(ids),
        "groups": tuple(str(g) for g in groups),
        "relative_capability": relative,
        "parity": parity_by,
        "share": share_by,
        "exports": exports_by,
        "macro": m,
        "first_parity_year": first,
        "funding": funding,
        "kpis": kpis,
        "attribution": attribution,
        "log_change": log_change,
        "priority0": matrix("priority_weight")[:, 0],
        "gap0": matrix("gap")[:, 0],
        "manifest": {
            k: result.manifest.get(k) for k in ("firms", "resolution", "agents", "real_firms", "wall_seconds")
        },
    }


def compute_series(scenario: dict[str, Any], seed: int, limit_seconds: float) -> dict[str, Any]:
    """Worker: run one validated scenario (JSON data) on one seed; return :func:`run_series`."""
    from nswn import api
    from nswn.serve.runner import RunTimeExceeded

    deadline = time.monotonic() + limit_seconds

    def check(_year: int) -> None:
        if time.monotonic() > deadline:
            raise RunTimeExceeded(limit_seconds)

    return run_series(api.simulate(scenario, seed=seed, progress=check))


# ---------------------------------------------------------------------------------------
# folding seeds


def _list(values: np.ndarray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=float).ravel().tolist()]


def band(stack: np.ndarray) -> dict[str, list[float | None]]:
    """Median and 90 % band over seeds (axis 0) of a stack shaped (seeds, ...)."""
    q = _quantiles(stack)
    return {"lo": _list(q[0]), "median": _list(q[1]), "hi": _list(q[2])}


def paired(scenario: Sequence[float], comparison: Sequence[float], level: float = LEVEL) -> dict[str, Any]:
    """Mean paired difference (scenario − comparison) with its ``level`` t-interval.

    ``effect`` is ``"up"`` or ``"down"`` only when the interval excludes 0, else ``"none"``
    ("no clear effect"); with fewer than two finite pairs there is no interval (``"none"``).
    """
    from scipy import stats

    a = np.asarray(scenario, dtype=float)
    b = np.asarray(comparison, dtype=float)
    diff = a - b
    finite = diff[np.isfinite(diff)]
    n = len(finite)
    mean = float(finite.mean()) if n else float("nan")
    if n >= 2:
        half = float(stats.t.ppf(0.5 + level / 2, n - 1) * finite.std(ddof=1) / math.sqrt(n))
    else:
        half = float("nan")
    low, high = mean - half, mean + half
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0.0 <= high:
        effect = "none"
    else:
        effect = "up" if low > 0 else "down"

    def num(v: float) -> float | None:
        return v if math.isfinite(v) else None

    return {
        "scenario": num(float(np.nanmedian(a))) if np.isfinite(a).any() else None,
        "comparison": num(float(np.nanmedian(b))) if np.isfinite(b).any() else None,
        "difference": num(mean),
        "low": num(low),
        "high": num(high),
        "pairs": n,
        "effect": effect,
    }


def expected_half_width(sigma: float, pairs: int, level: float = LEVEL) -> float:
    """Expected half-width of the paired ``level`` t-interval: ``t(0.5 + level/2, n − 1) · σ / √n``.

    Parameters
    ----------
    sigma
        Standard deviation of the paired differences (the card's units), ≥ 0.
    pairs
        Paired seeds ``n`` (≥ 2).

    Raises
    ------
    ValueError
        Fewer than two pairs or a negative or non-finite ``sigma``.

    Notes
    -----
    The rule that sets the page's seed count (docs/page.md, "How many seeds: the rule") reads
    this with σ estimated on a pilot of seeds disjoint from the page's defaults.
    """
    from scipy import stats

    if pairs < 2:
        raise ValueError(f"a t-interval needs at least two pairs, got {pairs}")
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be finite and ≥ 0, got {sigma}")
    return float(stats.t.ppf(0.5 + level / 2, pairs - 1) * sigma / math.sqrt(pairs))


def seeds_for_precision(
    sigma: float, target: float, candidates: Sequence[int] = (4, 8, 12, 16), level: float = LEVEL
) -> int:
    """The smallest count in ``candidates`` whose expected half-width is at most ``target``.

    When none reaches ``target`` the largest candidate (the service limit) is returned: the
    page cannot be more precise than that (docs/page.md, "How many seeds: the rule").

    Raises
    ------
    ValueError
        ``candidates`` empty or ``target`` not positive.
    """
    if not candidates:
        raise ValueError("no candidate seed counts")
    if not target > 0:
        raise ValueError(f"target must be positive, got {target}")
    for n in sorted(candidates):
        if expected_half_width(sigma, n, level) <= target:
            return int(n)
    return int(max(candidates))


def _quantiles(stack: np.ndarray) -> np.ndarray:
    """5 %, 50 %, 95 % over axis 0 of (seeds, ...) → (3, ...), NaN where no seed has a value.

    Linear interpolation between order statistics of the finite values (NumPy's default
    ``np.nanpercentile``), vectorised: ``nanpercentile`` loops in Python over every column
    that holds a NaN, which costs a page update about a second.
    """
    values = np.sort(np.asarray(stack, dtype=float), axis=0)  # NaN last
    count = np.sum(np.isfinite(values), axis=0)
    out = np.full((3, *values.shape[1:]), np.nan)
    for k, q in enumerate((0.5 * (1 - LEVEL), 0.5, 0.5 * (1 + LEVEL))):
        position = q * np.maximum(count - 1, 0)
        below = np.floor(position).astype(int)
        above = np.minimum(below + 1, np.maximum(count - 1, 0))
        low = np.take_along_axis(values, below[None], axis=0)[0]
        high = np.take_along_axis(values, above[None], axis=0)[0]
        out[k] = np.where(count > 0, low + (high - low) * (position - below), np.nan)
    return out


def _bands_by(ids: Sequence[str], stack: np.ndarray) -> dict[str, dict[str, list[float | None]]]:
    """(seeds, N, ...) → one band per entry of axis 1, named by ``ids``."""
    q = _quantiles(stack)
    return {tid: {"lo": _list(q[0, i]), "median": _list(q[1, i]), "hi": _list(q[2, i])} for i, tid in enumerate(ids)}


def _fold(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One arm's runs (one per seed) → medians and bands of every series."""
    first = runs[0]

    def stack(get: Any) -> np.ndarray:
        return np.stack([np.asarray(get(r), dtype=float) for r in runs])

    ids = first["ids"]
    out: dict[str, Any] = {}
    for part in ("parity", "share", "exports"):
        names = list(first[part])
        out[part] = _bands_by(names, stack(lambda r, part=part, names=names: [r[part][g] for g in names]))
    out["macro"] = _bands_by(MACRO, stack(lambda r: [r["macro"][c] for c in MACRO]))
    out["relative_capability"] = _bands_by(ids, stack(lambda r: r["relative_capability"]))
    years_stack = stack(lambda r: r["first_parity_year"])
    q = _quantiles(years_stack)
    out["first_parity_year"] = {
        tid: {"lo": _list(q[0, i : i + 1])[0], "median": _list(q[1, i : i + 1])[0], "hi": _list(q[2, i : i + 1])[0]}
        for i, tid in enumerate(ids)
    }
    # the share of seeds in which each technology reached parity (the others: never)
    out["parity_seeds"] = {tid: float(np.mean(np.isfinite(years_stack[:, i]))) for i, tid in enumerate(ids)}
    lines = sorted({line for r in runs for line in r["funding"]})
    q = _quantiles(np.array([[r["funding"].get(line, 0.0) for line in lines] for r in runs]))
    out["funding"] = {line: {"lo": q[0, j], "median": q[1, j], "hi": q[2, j]} for j, line in enumerate(lines)}
    return out


def _attribution(scenario: Sequence[Mapping[str, Any]], comparison: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per technology: each channel's total over the run (median and band over seeds) in both arms."""
    from nswn.mechanisms.attribution import FIXED_CHANNELS

    seen = {c for r in (*scenario, *comparison) for c in r["attribution"]}
    channels = [c for c in FIXED_CHANNELS if c in seen] + sorted(c for c in seen if c not in FIXED_CHANNELS)
    ids = scenario[0]["ids"]
    n = len(ids)

    def arm(runs: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # (seeds, T, C) channel totals; a channel a run lacks moved nothing there
        values = np.stack([np.stack([r["attribution"].get(c, np.zeros(n)) for c in channels], axis=1) for r in runs])
        total = np.stack([r["log_change"] for r in runs])
        error = np.abs(values.sum(axis=2) - total)
        return _quantiles(values), _quantiles(total), error

    by: dict[str, dict[str, Any]] = {tid: {} for tid in ids}
    for name, runs in (("scenario", scenario), ("comparison", comparison)):
        q, qt, error = arm(runs)
        for i, tid in enumerate(ids):
            finite = error[:, i][np.isfinite(error[:, i])]
            by[tid][name] = {
                "channels": {
                    c: {"lo": q[0, i, j], "median": q[1, i, j], "hi": q[2, i, j]} for j, c in enumerate(channels)
                },
                "total": {"lo": qt[0, i], "median": qt[1, i], "hi": qt[2, i]},
                # the largest gap between a seed's channel sum and its total change (rounding only)
                "max_sum_error": float(finite.max()) if len(finite) else None,
            }
    return {"channels": channels, "by_technology": by}


def _selection(runs: Sequence[Mapping[str, Any]], mode: str) -> dict[str, Any]:
    """The technologies the priority mode weighted in the start year, with the reason."""
    from nswn import catalog

    info = {t.id: t for t in catalog.technologies()}
    ids = runs[0]["ids"]
    priority = np.stack([r["priority0"] for r in runs])
    gap = np.stack([r["gap0"] for r in runs])
    rows = []
    for i, tid in enumerate(ids):
        chosen = priority[:, i] > 0
        if not chosen.any():
            continue
        t = info.get(tid)
        weight = float(getattr(t, "strategic_weight", float("nan"))) if t is not None else float("nan")
        g = float(np.median(gap[:, i]))
        rows.append(
            {
                "id": tid,
                "group": runs[0]["groups"][i],
                "priority_weight": float(np.median(priority[:, i])),
                "strategic_weight": weight,
                "gap": g,
                "score": weight * max(g, 0.0),
                "owner": str(getattr(t, "issue_owner_type", "")) if t is not None else "",
                "seeds": int(chosen.sum()),
            }
        )
    rows.sort(key=lambda r: (-r["priority_weight"], -r["score"], r["id"]))
    return {"mode": mode, "seeds": len(runs), "technologies": rows}


def fold(
    scenario: Sequence[Mapping[str, Any]],
    comparison: Sequence[Mapping[str, Any]],
    *,
    priority_mode: str,
    comparison_priority_mode: str,
) -> dict[str, Any]:
    """Both arms' runs (same seeds, same order) → the page's bands, paired cards and attribution."""
    if len(scenario) != len(comparison) or not scenario:
        raise ValueError("the two arms need the same, non-zero number of seeds")
    kpis = {name: paired([r["kpis"][name] for r in scenario], [r["kpis"][name] for r in comparison]) for name in KPIS}
    out = {
        "years": _list(scenario[0]["years"]),
        "comparison_years": _list(comparison[0]["years"]),
        "technologies": [
            {"id": tid, "group": g} for tid, g in zip(scenario[0]["ids"], scenario[0]["groups"], strict=True)
        ],
        "scenario": _fold(scenario),
        "comparison": _fold(comparison),
        "kpis": kpis,
        "attribution": _attribution(scenario, comparison),
        "selection": {
            "scenario": _selection(scenario, priority_mode),
            "comparison": _selection(comparison, comparison_priority_mode),
        },
        "resolution": scenario[0]["manifest"],
    }
    return _plain(out)


def _plain(value: Any) -> Any:
    """JSON-ready: mappings as dicts, NumPy scalars as numbers, NaN and ±inf as None."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
