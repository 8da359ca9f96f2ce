"""An innovation prize: each technology's budget goes to its most capable Chinese firms.

What it models
    A prize fund that rewards the ``winners`` most capable firms of each technology with
    equal shares of the technology's budget (their R&D this year rises by the prize).

State read: ``firms.capability``, ``firms.technology``. State written: ``firms.subsidy``.
Ledger: ``innovation_prize`` to SOE or private firms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nswn.core import segments
from nswn.core.model import Context
from nswn.core.params import param
from nswn.core.state import State
from nswn.instruments.payments import pay_firms, pay_leftover


@dataclass(frozen=True)
class PrizeParams:
    """Parameters of the prize (the `share` field is required of every instrument)."""

    share: float = param(0.0, lo=0.0, hi=1.0, unit="share of central budget", basis="policy",
                         doc="Share of the central S&T budget paid out as prizes")
    winners: int = param(1, lo=1, hi=50, unit="firms", doc="Prize winners per technology")


class InnovationPrize:
    """Pays each technology's prize budget to its most capable firms."""

    name = "innovation_prize"
    Params = PrizeParams

    def __init__(self, params: PrizeParams) -> None:
        self.params = params

    def allocate(self, state: State, ctx: Context, budget: np.ndarray) -> None:
        firms = state.firms
        best = segments.group_top(firms.capability, firms.technology, state.n_technologies, self.params.winners)
        leftover = pay_firms(state, ctx, self.name, budget, best.astype(float))
        pay_leftover(state, ctx, self.name, leftover)
