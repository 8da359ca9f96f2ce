"""Interval statistics and verdicts of the claims.

Verdicts at default assumptions use a Student-t interval over seeds (paired: one effect per
seed, computed from the arms run on that seed):

* ``holds`` — the whole interval is above zero;
* ``does not hold`` — the whole interval is at or below zero (the effect is absent or reversed);
* ``inconclusive`` — the interval contains zero;
* ``by construction`` — it holds, and the claim declares the one formula it follows from.

The knockout (the same arms with the claim's mechanism switched off) *passes* when its
interval covers zero — the effect is lost without the mechanism — and *fails* otherwise.
Robustness is the share of sampled worlds (points of the uncertain assumptions) in which the
mean effect over that world's seeds is positive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from nswn.experiments.claims.definitions import Claim, World

VERDICTS = ("holds", "does not hold", "inconclusive", "by construction")
KNOCKOUT_RESULTS = ("passed", "failed", "not run")


def interval(values: np.ndarray, level: float) -> tuple[float, float, float]:
    """Mean and Student-t ``level`` interval of ``values`` (NaNs dropped)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


def verdict_of(low: float, high: float, construction: str = "") -> str:
    """The verdict from an interval of a signed effect (and the claim's formula, if any)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "inconclusive"
    if low > 0:
        return "by construction" if construction else "holds"
    if high <= 0:
        return "does not hold"
    return "inconclusive"


def knockout_result(low: float, high: float) -> str:
    """``passed`` when the knockout's interval covers zero (the effect is lost), else ``failed``."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not run"
    return "passed" if low <= 0.0 <= high else "failed"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one claim."""

    claim: Claim
    effect: float
    low: float
    high: float
    seeds: int
    verdict: str
    robustness: float  # share of sampled worlds in which the mean effect is positive (NaN if none)
    worlds: int
    knockout_effect: float = float("nan")
    knockout_low: float = float("nan")
    knockout_high: float = float("nan")
    knockout: str = "not run"

    def row(self) -> dict[str, Any]:
        c = self.claim
        return {
            "id": c.id,
            "claim": c.statement,
            "mechanism": c.mechanism,
            "comparison": c.design,
            "metric": c.metric,
            "unit": c.unit,
            "effect": self.effect,
            "low": self.low,
            "high": self.high,
            "seeds": self.seeds,
            "verdict": self.verdict,
            "knockout_switch": c.knockout_mechanism,
            "knockout_effect": self.knockout_effect,
            "knockout_low": self.knockout_low,
            "knockout_high": self.knockout_high,
            "knockout": self.knockout,
            "construction": c.construction,
            "robustness": self.robustness,
            "worlds": self.worlds,
            "brief": c.brief,
        }


def effects(claim: Claim, worlds: Mapping[Any, World]) -> dict[Any, float]:
    """The claim's effect in every world that has all its arms."""
    return {key: float(claim.effect(world)) for key, world in worlds.items() if all(a in world for a in claim.arms)}


def knockout_effects(claim: Claim, worlds: Mapping[Any, World]) -> dict[Any, float]:
    """The claim's effect on its knockout arms in every world that has them."""
    out = {}
    for key, world in worlds.items():
        renamed = claim.knockout_world(world)
        if renamed is not None:
            out[key] = float(claim.effect(renamed))
    return out


def _point_means(claim: Claim, sampled_worlds: Mapping[tuple[int, int], World]) -> dict[int, float]:
    by_point: dict[int, list[float]] = {}
    for (point, _), value in effects(claim, sampled_worlds).items():
        by_point.setdefault(point, []).append(value)
    return {p: float(np.nanmean(v)) for p, v in sorted(by_point.items())}


def evaluate(
    claims: tuple[Claim, ...],
    default_worlds: Mapping[Any, World],
    sampled_worlds: Mapping[tuple[int, int], World] | None = None,
    level: float = 0.9,
) -> list[Verdict]:
    """Verdicts: the interval over ``default_worlds`` (one per seed), the knockout's interval
    over the same worlds, and the share of sampled assumption points (keys
    ``(point, replicate)``) where the mean effect is positive."""
    out = []
    for claim in claims:
        per_seed = np.array(list(effects(claim, default_worlds).values()), dtype=float)
        mean, low, high = interval(per_seed, level)
        ko = np.array(list(knockout_effects(claim, default_worlds).values()), dtype=float)
        ko_mean, ko_low, ko_high = interval(ko, level)
        share, points = float("nan"), 0
        if sampled_worlds:
            means = np.array(list(_point_means(claim, sampled_worlds).values()), dtype=float)
            means = means[np.isfinite(means)]
            points = len(means)
            share = float(np.mean(means > 0)) if points else float("nan")
        out.append(
            Verdict(
                claim,
                mean,
                low,
                high,
                int(np.isfinite(per_seed).sum()),
                verdict_of(low, high, claim.construction),
                share,
                points,
                ko_mean,
                ko_low,
                ko_high,
                knockout_result(ko_low, ko_high),
            )
        )
    return out


def point_holds(claim: Claim, sampled_worlds: Mapping[tuple[int, int], World]) -> pd.Series:
    """Per sampled assumption point: does the mean effect over its seeds favour the claim?"""
    return pd.Series({p: bool(v > 0) for p, v in _point_means(claim, sampled_worlds).items()}, name=claim.id)
