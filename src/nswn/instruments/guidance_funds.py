"""Guidance funds (Big-Fund-like equity), selecting by size or by export performance.

What it models (model.md §6.3)
    Government guidance funds take equity in firms of each technology. With
    ``selection: size`` a firm's weight is ``revenue^φ`` (φ > 0 favours incumbents); with
    ``selection: performance`` it is the export-discipline score ``x_i + λ_s s_i D_t``
    (the same score referees measure for the centralised pool). Equity adds to the firm's
    R&D budget this year.

State read: firms' revenue, exports, shares. State written: ``firms.subsidy``.
Ledger: ``guidance_funds``.

Brief: the section on precedents — the National Integrated Circuit Industry Investment
Fund — and on export volumes as the benchmark for support.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from nswn.core.model import Context
from nswn.core.params import budget_share, param
from nswn.core.state import State
from nswn.instruments.payments import pay_firms, pay_leftover


@dataclass(frozen=True)
class GuidanceFundParams:
    """Guidance funds."""

    share: float = budget_share("Share of the central S&T budget invested by guidance funds")
    selection: Literal["size", "performance"] = param(
        "size", unit="choice", basis="policy", doc="size: ∝ revenue^φ; performance: ∝ export score"
    )
    size_exponent: float = param(1.0, lo=0.0, hi=3.0, unit="exponent", doc="φ, preference for large incumbents")
    score_domestic_weight: float = param(
        1.0, lo=0.0, hi=10.0, unit="× domestic sales", doc="λ_s in the performance score"
    )


class GuidanceFunds:
    """Equity to firms by size or by export performance."""

    name = "guidance_funds"
    Params = GuidanceFundParams

    def __init__(self, params: GuidanceFundParams) -> None:
        self.params = params

    def allocate(self, state: State, ctx: Context, budget: np.ndarray) -> None:
        p, firms = self.params, state.firms
        if p.selection == "size":
            weights = np.power(np.maximum(firms.revenue, 0.0), p.size_exponent)
        else:
            demand = state.technologies.demand[firms.technology]
            weights = firms.exports + p.score_domestic_weight * firms.share * demand
        leftover = pay_firms(state, ctx, self.name, budget, weights)
        pay_leftover(state, ctx, self.name, leftover)
