"""Central allocation: the central S&T budget split over instruments and technologies.

What it models (model.md §6.3)
    ``B(y) = β_B · GDP(y − 1)`` (the budget is set on last year's GDP; the macro step
    that computes this year's GDP runs last). Instrument shares (summing to 1) split ``B``; each instrument
    spreads its part across technologies in proportion to ``w_t · D0_t^ψ`` (ψ = 0.5:
    bigger markets get more, less than proportionally) and then inside each technology
    by its own rule (``nswn.instruments``). A share ``debt_financed_share`` of ``B`` is
    borrowed (added to debt in the macro step).

State read: ``macro.gdp``, ``technologies.priority``, ``demand0``.
State written: resets ``firms.subsidy`` and ``institutions.funding`` for the year, then the
instruments add to them; ``macro.central_budget``. Ledger: credits ``central``.

Brief: the sections on concentrating resources and on the megaprojects and funds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nswn.core.model import Context
from nswn.core.params import param
from nswn.core.random import stream
from nswn.core.state import State
from nswn.instruments import Instrument
from nswn.mechanisms import attribution


@dataclass(frozen=True)
class CentralBudgetParams:
    """Size and routing of the central S&T budget."""

    share_of_gdp: float = param(
        0.005,
        lo=0.0,
        hi=0.05,
        unit="share of GDP",
        basis="policy",
        doc="β_B, central S&T spending as a share of GDP",
    )
    allocation_exponent: float = param(
        0.5,
        lo=0.0,
        hi=2.0,
        unit="exponent",
        basis="judged",
        doc="ψ: money per technology ∝ w·D0^ψ (0 = equal per area)",
    )
    debt_financed_share: float = param(
        0.3,
        lo=0.0,
        hi=1.0,
        unit="share",
        basis="judged",
        doc="Part of the central budget financed by borrowing",
    )


def technology_split(state: State, exponent: float) -> np.ndarray:
    """Shares of a budget per technology, ∝ ``w_t · D0_t^ψ`` (sum 1, or all 0)."""
    tech = state.technologies
    raw = tech.priority * np.power(tech.demand0, exponent) * tech.simulated
    total = raw.sum()
    return np.asarray(raw / total) if total > 0 else np.zeros_like(raw)


class CentralBudget:
    """Splits ``B`` over instruments and technologies and lets each instrument spend."""

    name = "central_budget"

    def __init__(
        self,
        params: CentralBudgetParams,
        instruments: Sequence[tuple[Instrument, float]],
        seed: int,
    ) -> None:
        self.params = params
        self.instruments = tuple(instruments)
        self.seed = seed

    def step(self, state: State, ctx: Context) -> None:
        state.firms.subsidy[:] = 0.0
        attribution.reset_subsidies(state)  # instrumentation: reads only
        state.institutions.funding[:] = 0.0
        split = technology_split(state, self.params.allocation_exponent)
        # with no technology to fund (all weights zero) nothing is spent or borrowed
        budget = self.params.share_of_gdp * state.macro.gdp * float(split.sum() > 0)
        state.macro.central_budget = budget
        for instrument, share in self.instruments:
            amount = budget * share * split
            ctx.ledger.credit("central", float(amount.sum()))
            # each instrument draws from its own stream: switching one off shifts no other
            own = type(ctx)(year=ctx.year, rng=stream(self.seed, instrument.name, ctx.year), ledger=ctx.ledger)
            instrument.allocate(state, own, amount)
