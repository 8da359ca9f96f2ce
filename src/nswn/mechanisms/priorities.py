"""Priorities: the weights ``w_t`` the central state puts on each technology.

What it models (model.md §6.2)
    ``none``: every simulated technology weighs 1, so spending follows the size of the
    existing economy (the ``D0^ψ`` factor of the central allocation).
    ``broad``: equal weights on every stranglehold, bottleneck and competitive-advantage
    technology (about 50 areas), zero on the rest.
    ``shortlist``: equal weights on the ``k`` technologies with the largest
    ``strategic_weight × gap`` at the start year, zero elsewhere; the list is fixed for
    the run (a commitment), so concentration is not diluted by re-targeting.
    Reaction to export controls: a controlled technology's weight is multiplied by
    ``1 + r_ctrl`` while it is controlled (a self-reliance push), then all weights are
    renormalised to sum to 1.

State read: ``group``, ``strategic_weight``, capabilities, ``frontier``, ``fence``.
State written: ``technologies.priority`` (sums to 1).

Brief: the section on the absence of a public shortlist and on roughly fifty bottleneck
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
from nswn.core.state import GROUPS, State

BROAD_GROUPS = tuple(GROUPS.index(g) for g in ("stranglehold", "bottleneck", "competitive_advantage"))

PriorityMode = Literal["none", "broad", "shortlist"]


@dataclass(frozen=True)
class PriorityParams:
    """How the state sets technology priorities."""

    mode: PriorityMode = param(
        "broad", unit="choice", basis="policy", doc="none | broad (~50 areas) | shortlist (top k)"
    )
    shortlist_size: int = param(
        5,
        lo=1,
        hi=60,
        unit="technologies",
        basis="policy",
        doc="k, the number of technologies on the shortlist",
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
    best = np.where(np.isfinite(best), best, tech.frontier)
    return np.asarray(tech.frontier - best)


def base_weights(params: PriorityParams, state: State) -> np.ndarray:
    """Weights before the control reaction (not normalised)."""
    tech = state.technologies
    if params.mode == "none":
        return tech.simulated.astype(float)
    if params.mode == "broad":
        return np.isin(tech.group, BROAD_GROUPS).astype(float) * tech.simulated
    score = np.where(tech.simulated, tech.strategic_weight * np.maximum(capability_gap(state), 0.0), -np.inf)
    k = min(params.shortlist_size, int(tech.simulated.sum()))
    chosen = np.argsort(-score, kind="stable")[:k]
    weights = np.zeros(len(tech))
    weights[chosen] = 1.0
    return weights


class Priorities:
    """Sets ``technologies.priority`` each year (model.md §6.2)."""

    name = "priorities"

    def __init__(self, params: PriorityParams) -> None:
        self.params = params
        self._base: np.ndarray | None = None

    def step(self, state: State, ctx: Context) -> None:
        if self._base is None or len(self._base) != state.n_technologies:
            # chosen once, from the start-year state, then kept (the shortlist is a commitment)
            self._base = base_weights(self.params, state)
        weights = self._base * (1.0 + self.params.control_reaction * (state.technologies.fence > 0))
        total = weights.sum()
        state.technologies.priority = weights / total if total > 0 else weights
