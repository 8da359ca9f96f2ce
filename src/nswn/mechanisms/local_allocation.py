"""Local allocation and centralisation: who gets the local S&T subsidies.

What it models (model.md §6.4)
    The local budget ``L = β_L · GDP(y − 1)`` is split over provinces by GDP share. A share ``χ``
    (centralisation) is pooled and allocated nationally in proportion to the
    export-discipline score ``S_i = x_i + λ_s · s_i · D_t``, measured by a trusted referee
    with multiplicative noise ``exp(σ_ref · ε)``. The rest stays local: each province
    supports only its own firms (protectionism) with weights
    ``softmax(β_loc · (ln revenue_i + b_SOE · SOE_i + ε_i))``, ``ε_i ~ N(0, σ_loc)`` — noisy,
    self-reported local data. The pilot-zone entry boost ``1 + ε_pilot · z_p · (1 − χ)`` is
    applied by the entry mechanism; centralisation is published on ``macro.centralisation``.
    Allocation quality, the correlation across firms between all support received this year
    (central instruments included) and true capability relative to the frontier, is recorded
    (claim C8).

State read: firms' exports, shares, revenue, ownership, province; ``macro.gdp``.
State written: ``firms.subsidy`` (adds), ``macro.local_budget``, ``macro.centralisation``,
``macro.allocation_quality``. Ledger: credits ``local``; books ``export_discipline`` and
``local_discretion`` to SOE or private firms.

Brief: the sections on export volumes as the benchmark, mistrust of local data, local
protectionism and the trend to restrict local discretion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nswn.core import segments
from nswn.core.model import Context
from nswn.core.params import param
from nswn.core.state import State
from nswn.instruments.payments import book_firm_payments
from nswn.kernels import compiled, ops
from nswn.mechanisms import attribution


@dataclass(frozen=True)
class LocalPolicyParams:
    """Levers of local S&T support."""

    budget_share_of_gdp: float = param(
        0.0015,
        lo=0.0,
        hi=0.05,
        unit="share of GDP",
        basis="policy",
        doc="β_L, local S&T subsidies reaching firms in the modelled industries, share of GDP",
    )
    centralisation: float = param(
        0.3,
        lo=0.0,
        hi=1.0,
        unit="share",
        basis="policy",
        doc="χ, share of local money pooled and allocated by export discipline",
    )
    debt_financed_share: float = param(
        0.5,
        lo=0.0,
        hi=1.0,
        unit="share",
        basis="judged",
        doc="Part of local subsidies financed by borrowing",
    )


@dataclass(frozen=True)
class LocalBehaviourParams:
    """Assumptions about how local officials and referees judge firms."""

    score_domestic_weight: float = param(
        1.0,
        lo=0.0,
        hi=10.0,
        unit="× domestic sales",
        doc="λ_s, weight of domestic sales beside exports in the score",
    )
    referee_noise: float = param(
        0.1, lo=0.0, hi=3.0, unit="log sd", doc="σ_ref, noise of the trusted referee's measurement"
    )
    local_noise: float = param(1.0, lo=0.0, hi=5.0, unit="log sd", doc="σ_loc, noise of self-reported local data")
    local_sharpness: float = param(
        1.0,
        lo=0.0,
        hi=10.0,
        unit="1/log unit",
        doc="β_loc, how strongly local support follows the local signal",
    )
    soe_bias: float = param(1.0, lo=0.0, hi=5.0, unit="log units", doc="b_SOE, local preference for state-owned firms")
    pilot_entry_boost: float = param(
        1.0,
        lo=0.0,
        hi=5.0,
        unit="× pilot intensity",
        doc="ε_pilot, extra entry in pilot zones under local discretion",
    )


def export_score(state: State, domestic_weight: float) -> np.ndarray:
    """Export-discipline score ``S_i = x_i + λ_s · s_i · D_t`` (bn CNY)."""
    firms = state.firms
    return np.asarray(firms.exports + domestic_weight * firms.share * state.technologies.demand[firms.technology])


class LocalAllocation:
    """Local subsidies: a centralised export-discipline pool and provincial discretion."""

    name = "local_allocation"

    def __init__(self, policy: LocalPolicyParams, behaviour: LocalBehaviourParams) -> None:
        self.policy = policy
        self.behaviour = behaviour

    def step(self, state: State, ctx: Context) -> None:
        firms, p, b = state.firms, self.policy, self.behaviour
        n = len(firms)
        budget = p.budget_share_of_gdp * state.macro.gdp
        state.macro.centralisation = p.centralisation
        # draw every variate for every firm, used or not, so the streams stay aligned
        referee = ctx.rng.standard_normal(n)
        local = ctx.rng.standard_normal(n)

        pooled = p.centralisation * budget
        if self._step_compiled(state, ctx, budget, pooled, referee, local):
            return
        measured = export_score(state, b.score_domestic_weight) * np.exp(b.referee_noise * referee)
        total = measured.sum()
        pool_pay = pooled * measured / total if total > 0 else np.zeros(n)

        n_prov = len(state.provinces)
        present = segments.group_count(firms.province, n_prov) > 0
        provincial = (1.0 - p.centralisation) * budget * state.provinces.gdp_share * present
        signal = b.local_sharpness * (
            np.log(np.maximum(firms.revenue, 1e-12)) + b.soe_bias * firms.soe + b.local_noise * local
        )
        weights = ops.group_softmax(signal, firms.province, n_prov) if n else signal
        local_pay = provincial[firms.province] * weights

        firms.subsidy += pool_pay + local_pay
        attribution.note_subsidy_paid(state, "export_discipline", pool_pay)  # instrumentation: reads only
        attribution.note_subsidy_paid(state, "local_discretion", local_pay)
        paid = float(pool_pay.sum() + local_pay.sum())
        ctx.ledger.credit("local", paid)
        book_firm_payments(ctx, "export_discipline", firms.technology, firms.soe, pool_pay, state.n_technologies)
        book_firm_payments(ctx, "local_discretion", firms.technology, firms.soe, local_pay, state.n_technologies)
        state.macro.local_budget = paid
        state.macro.allocation_quality = allocation_quality(state)

    def _step_compiled(
        self, state: State, ctx: Context, budget: float, pooled: float, referee: np.ndarray, local: np.ndarray
    ) -> bool:
        """The same step in two fused passes (compiled kernels); ``False`` when they do not run.

        ``exp`` and ``log`` stay in NumPy, sums NumPy takes pairwise (``ndarray.sum``) stay in
        NumPy, and the per-province and per-owner sums run in index order as ``np.bincount``
        does, so every written value equals the NumPy lines' bit for bit.
        """
        firms, p, b = state.firms, self.policy, self.behaviour
        subsidy = firms.subsidy
        if not compiled() or subsidy.dtype != np.float64 or not subsidy.flags.c_contiguous:
            return False
        n_prov = len(state.provinces)
        first = ops.local_allocation(
            firms.exports,
            firms.share,
            state.technologies.demand,
            firms.technology,
            np.exp(b.referee_noise * referee),
            np.log(np.maximum(firms.revenue, 1e-12)),
            firms.soe,
            local,
            firms.province,
            n_prov,
            domestic_weight=b.score_domestic_weight,
            soe_bias=b.soe_bias,
            local_noise=b.local_noise,
            sharpness=b.local_sharpness,
        )
        if first is None:
            return False
        measured, expo, count = first
        total = measured.sum()
        provincial = (1.0 - p.centralisation) * budget * state.provinces.gdp_share * (count > 0)
        n_tech = state.n_technologies
        pool_pay, local_pay, pool_by_owner, local_by_owner = ops.local_payments(
            measured, expo, firms.province, provincial, pooled, total, firms.technology, firms.soe, n_tech, subsidy
        )
        attribution.note_subsidy_paid(state, "export_discipline", pool_pay)  # instrumentation: reads only
        attribution.note_subsidy_paid(state, "local_discretion", local_pay)
        paid = float(pool_pay.sum() + local_pay.sum())
        ctx.ledger.credit("local", paid)
        for name, by_owner in (("export_discipline", pool_by_owner), ("local_discretion", local_by_owner)):
            ctx.ledger.book_totals(name, "private_firm", by_owner[:, 0])
            ctx.ledger.book_totals(name, "soe_firm", by_owner[:, 1])
        state.macro.local_budget = paid
        state.macro.allocation_quality = allocation_quality(state)
        return True


def allocation_quality(state: State) -> float:
    """Correlation across firms of subsidy received with capability relative to the frontier."""
    firms = state.firms
    if len(firms) < 3:
        return float("nan")
    relative = firms.capability - state.technologies.frontier[firms.technology]
    if np.std(firms.subsidy) == 0 or np.std(relative) == 0:
        return float("nan")
    return float(np.corrcoef(firms.subsidy, relative)[0, 1])
