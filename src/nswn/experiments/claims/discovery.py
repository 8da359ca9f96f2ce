"""Scenario discovery: where in the space of uncertain assumptions does a claim fail? (PRIM)

The Patient Rule Induction Method (Friedman and Fisher 1999) as used for scenario
discovery by EMA Workbench (Kwakkel 2017): peel a box around the sampled worlds where a
claim fails. Our own ~60 lines are kept rather than a dependency: the ``prim`` package is
GPL-3 (nswn is MIT) and EMA Workbench's PRIM brings scikit-learn, statsmodels, seaborn and
platypus with it (its current release does not install here either).

References
----------
Friedman, J. H. and Fisher, N. I. (1999). Bump hunting in high-dimensional data.
Statistics and Computing 9, 123–143.
Kwakkel, J. H. (2017). The Exploratory Modeling Workbench. Environmental Modelling &
Software 96, 239–250.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Box:
    """A PRIM box: ranges of the restricted assumptions, and how well it captures failures."""

    limits: dict[str, tuple[float, float]]
    coverage: float  # share of all failing points inside the box
    density: float  # share of points inside the box that fail
    mass: float  # share of all points inside the box


def prim(
    x: pd.DataFrame, y: np.ndarray, alpha: float = 0.1, min_mass: float = 0.1, threshold: float = 0.8
) -> list[Box]:
    """Patient Rule Induction Method (Friedman and Fisher 1999): peel a box around ``y == 1``.

    Repeatedly removes the ``alpha`` share of the remaining points at one end of one
    assumption, choosing the peel that raises the density of ``y`` most, until the box holds
    less than ``min_mass`` of the points. Returns the peeling trajectory (first box = all
    points); :func:`best_box` picks from it.
    """
    y = np.asarray(y, dtype=float)
    inside = np.ones(len(y), dtype=bool)
    total = max(y.sum(), 1e-12)
    limits = {c: (float(x[c].min()), float(x[c].max())) for c in x.columns}
    trajectory = [Box(dict(limits), float(y[inside].sum() / total), float(y[inside].mean()) if len(y) else 0.0, 1.0)]
    while inside.mean() > min_mass:
        best: tuple[float, str, str, float] | None = None
        for column in x.columns:
            values = x[column].to_numpy()[inside]
            if len(np.unique(values)) < 2:
                continue
            for side, cut in (("low", np.quantile(values, alpha)), ("high", np.quantile(values, 1 - alpha))):
                keep = inside & ((x[column].to_numpy() > cut) if side == "low" else (x[column].to_numpy() < cut))
                if keep.sum() == 0 or keep.sum() == inside.sum():
                    continue
                density = float(y[keep].mean())
                if best is None or density > best[0]:
                    best = (density, column, side, float(cut))
        if best is None:
            break
        density, column, side, cut = best
        values = x[column].to_numpy()
        inside &= (values > cut) if side == "low" else (values < cut)
        low, high = limits[column]
        limits[column] = (cut, high) if side == "low" else (low, cut)
        trajectory.append(Box(dict(limits), float(y[inside].sum() / total), density, float(inside.mean())))
    return trajectory


def best_box(trajectory: list[Box], threshold: float = 0.8) -> Box:
    """The box with the most coverage among those at least ``threshold`` dense (else the densest)."""
    dense = [b for b in trajectory if b.density >= threshold]
    if dense:
        return max(dense, key=lambda b: (b.coverage, b.density))
    return max(trajectory, key=lambda b: (b.density, b.coverage))


MIN_FAILURES = 3  # fewer failing worlds than this are reported as isolated, not boxed
MIN_DENSITY = 0.8  # a box is reported only if at least this share of its worlds fail


def discover(report: Any, claim_id: str) -> tuple[Box, pd.DataFrame] | None:
    """Scenario discovery for one claim: the box of assumptions where it fails.

    ``report`` is a :class:`nswn.experiments.claims.orchestration.ClaimsReport` (its
    ``points`` and ``holds_by_point``). Returns ``None`` when the claim never fails, when it fails in fewer than
    :data:`MIN_FAILURES` sampled worlds (isolated failures, nothing to box), or when no box
    is at least :data:`MIN_DENSITY` dense.
    """
    if report.holds_by_point.empty or claim_id not in report.holds_by_point:
        return None
    holds = report.holds_by_point[claim_id].dropna()
    x = report.points.loc[holds.index]
    fails = (~holds.astype(bool)).to_numpy().astype(float)
    if fails.sum() < MIN_FAILURES:
        return None
    trajectory = prim(x, fails)
    box = best_box(trajectory, MIN_DENSITY)
    if box.density < MIN_DENSITY:
        return None
    full = {c: (float(x[c].min()), float(x[c].max())) for c in x.columns}
    restricted = {c: lim for c, lim in box.limits.items() if lim != full[c]}
    rows = pd.DataFrame(
        [
            {"assumption": c, "low": lo, "high": hi, "full_low": full[c][0], "full_high": full[c][1]}
            for c, (lo, hi) in restricted.items()
        ]
    )
    return Box(restricted, box.coverage, box.density, box.mass), rows
