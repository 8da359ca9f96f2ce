"""Priorities: the weights ``w_t`` the central state puts on each technology.

What it models (model.md §6.2)
    ``none``: every simulated technology weighs 1, so spending follows the size of the
    existing economy (the ``D0^ψ`` factor of the central allocation).
    ``broad``: equal weights on every stranglehold, bottleneck and competitive-advantage
    technology (about 50 areas), zero on the rest.
    ``lobbying``: ``w_t ∝ L_owner(t)^γ_lob`` — the issue owner's lobbying power decides.
    ``adaptive``: starts as ``shortlist``; each year ``η_adapt`` of the weight moves to the
    ``k`` technologies whose gap shrank most in the past year.
    ``shortlist``: equal weights on the ``k`` technologies with the largest
    ``strategic_weight × gap`` at the start year, zero elsewhere; the list is fixed for
    the run (a commitment), so concentration is not diluted by re-targeting.
    Reaction to export controls: a controlled technology's weight is multiplied by
    ``1 + r_ctrl`` while it is controlled (a self-reliance push), then all weights are
    renormalised to sum to 1.

State read: ``group``, ``strategic_weight``, capabilities, ``frontier``, ``fence``.
State written: ``technologies.priority`` (sums to 1).

Brief: the sections on issue owners lobbying Beijing (hard to read from outside), the
absence of a public shortlist and on roughly fifty bottleneck
and competitive-advantage areas being too many to amount to concentration; the
self-reliance push after sanctions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from nswn.core import segments
from nswn.core.model import Context
from nswn.core.params import param
from nswn.core.state import GROUPS, OWNER_TYPES, State

BROAD_GROUPS = tuple(GROUPS.index(g) for g in ("stranglehold", "bottleneck", "competitive_advantage"))

PriorityMode = Literal["none", "broad", "shortlist", "lobbying", "adaptive"]


@dataclass(frozen=True)
class PriorityParams:
    """How the state sets technology priorities."""

    mode: PriorityMode = param(
        "broad",
        unit="choice",
        basis="policy",
        doc="none | broad (~50 areas) | shortlist (top k) | lobbying (issue owners) | adaptive (shortlist that learns)",
    )
    shortlist_size: int = param(
        5,
        lo=1,
        hi=60,
        unit="technologies",
        basis="policy",
        doc="k, the number of technologies on the shortlist",
    )
    lobbying_exponent: float = param(
        1.0, lo=0.0, hi=10.0, unit="exponent", doc="γ_lob: how strongly weights follow issue owners' lobbying power"
    )
    lobbying_military_research: float = param(1.0, lo=0.0, hi=10.0, unit="power", doc="L of military research owners")
    lobbying_think_tank: float = param(0.8, lo=0.0, hi=10.0, unit="power", doc="L of think-tank owners")
    lobbying_soe: float = param(1.0, lo=0.0, hi=10.0, unit="power", doc="L of SOE owners")
    lobbying_private_champion: float = param(0.5, lo=0.0, hi=10.0, unit="power", doc="L of private-champion owners")
    lobbying_new_rd_institute: float = param(0.4, lo=0.0, hi=10.0, unit="power", doc="L of new-R&D-institute owners")
    lobbying_none: float = param(0.2, lo=0.0, hi=10.0, unit="power", doc="L where no issue owner is named")
    adaptation_rate: float = param(
        0.2,
        lo=0.0,
        hi=1.0,
        unit="1/yr",
        doc="η_adapt: yearly move of weight towards the fastest-closing gaps (adaptive)",
    )
    control_reaction: float = param(
        1.0,
        lo=0.0,
        hi=10.0,
        unit="× weight",
        basis="policy",
        doc="r_ctrl: extra weight on a technology while it is export-controlled",
    )


def capability_gap(state: State) -> np.ndarray:
    """Frontier minus the best Chinese capability per technology (0 where no firms)."""
    tech = state.technologies
    best = segments.group_max(state.firms.capability, state.firms.technology, len(tech))
    # a technology without firms keeps the best capability it reached (no spurious "progress")
    best = np.where(np.isfinite(best), best, tech.best_capability)
    return np.asarray(tech.frontier - best)


def lobbying_power(params: PriorityParams) -> np.ndarray:
    """``L`` per owner type, in the order of ``core.state.OWNER_TYPES``."""
    return np.array([getattr(params, f"lobbying_{name}") for name in OWNER_TYPES])


def top_k(score: np.ndarray, simulated: np.ndarray, k: int) -> np.ndarray:
    """Equal weights on the ``k`` highest scores among simulated technologies."""
    score = np.where(simulated, score, -np.inf)
    chosen = np.argsort(-score, kind="stable")[: min(k, int(simulated.sum()))]
    weights = np.zeros(len(score))
    weights[chosen] = 1.0
    return weights


def base_weights(params: PriorityParams, state: State) -> np.ndarray:
    """Weights before the control reaction (not normalised)."""
    tech = state.technologies
    if params.mode == "none":
        return tech.simulated.astype(float)
    if params.mode == "broad":
        return np.isin(tech.group, BROAD_GROUPS).astype(float) * tech.simulated
    if params.mode == "lobbying":
        power = lobbying_power(params)[tech.owner_type]
        return np.asarray(np.power(power, params.lobbying_exponent) * tech.simulated)
    score = tech.strategic_weight * np.maximum(capability_gap(state), 0.0)
    return top_k(score, tech.simulated, params.shortlist_size)


class Priorities:
    """Sets ``technologies.priority`` each year (model.md §6.2)."""

    name = "priorities"

    def __init__(self, params: PriorityParams) -> None:
        self.params = params
        self._base: np.ndarray | None = None
        self._previous_gap: np.ndarray | None = None

    def step(self, state: State, ctx: Context) -> None:
        gap = capability_gap(state)
        if self._base is None or len(self._base) != state.n_technologies:
            # chosen once, from the start-year state, then kept (the shortlist is a commitment)
            self._base = base_weights(self.params, state)
        elif self.params.mode == "adaptive" and self._previous_gap is not None:
            progress = self._previous_gap - gap
            target = top_k(progress, state.technologies.simulated, self.params.shortlist_size)
            rate = self.params.adaptation_rate
            self._base = (1.0 - rate) * self._base / self._base.sum() + rate * target / target.sum()
        if state.year > state.start_year:
            # gaps are compared between simulated years only (the start-year call precedes
            # the first year's frontier step, so its gap is not comparable)
            self._previous_gap = gap
        weights = self._base * (1.0 + self.params.control_reaction * (state.technologies.fence > 0))
        total = weights.sum()
        state.technologies.priority = weights / total if total > 0 else weights
