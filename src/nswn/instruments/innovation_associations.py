"""Innovation associations (创新联合体): firms paired with institutions of their field.

What it models (model.md §6.3, §6.6)
    Local governments pair firms with universities and labs of the same technology. Each
    year the instrument's budget per technology funds ``n_t = budget_t / cost_t`` pairs,
    with the cost of a pair ``pair_cost`` × the technology's mean firm revenue (so the
    share of firms in associations does not depend on how many firms the model has). Firms
    are drawn ∝ revenue (larger firms are likelier members; Gumbel top-k), partners ∝
    institution quality within the field. A paired firm absorbs usable knowledge with
    efficiency ``τ_pair`` instead of ``τ0`` this year (``firms.partner``); the pair's money
    goes ``firm_share`` to the firm's R&D, the rest to the institution. Pairs are formed
    anew every year.

State read: firms' revenue, institutions' quality. State written: ``firms.partner``,
``firms.subsidy``, ``institutions.funding``. Ledger: ``innovation_associations``.

Brief: the two-layers section — local governments organise associations pairing
companies with universities and labs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nswn.core import segments
from nswn.core.model import Context
from nswn.core.params import budget_share, param
from nswn.core.state import State
from nswn.instruments.payments import pay_firms, pay_institutions, pay_leftover
from nswn.kernels import compiled, ops


@dataclass(frozen=True)
class AssociationParams:
    """Innovation associations."""

    share: float = budget_share("Share of the central S&T budget funding firm–institution pairs")
    pair_cost: float = param(
        0.5,
        lo=0.01,
        hi=100.0,
        unit="× mean firm revenue",
        doc="Cost of one pair for a year, relative to the technology's mean firm revenue",
    )
    firm_share: float = param(0.5, lo=0.0, hi=1.0, unit="share", doc="Part of a pair's money going to the firm")


def sample_within_groups(
    weights: np.ndarray, groups: np.ndarray, n_groups: int, wanted_groups: np.ndarray, uniforms: np.ndarray
) -> np.ndarray:
    """For each entry of ``wanted_groups``, an index drawn ∝ ``weights`` among members of that group.

    Members must exist for every wanted group. Vectorised inverse-CDF sampling over a
    group-sorted order.
    """
    order = np.lexsort((np.arange(len(groups)), groups))
    sorted_w = weights[order]
    cumulative = np.cumsum(sorted_w)
    bounds = segments.segment_bounds(groups[order], n_groups)
    start_total = np.where(bounds[:-1] > 0, cumulative[np.maximum(bounds[:-1] - 1, 0)], 0.0)
    start_total = np.where(bounds[:-1] == 0, 0.0, start_total)
    group_total = segments.group_sum(weights, groups, n_groups)
    target = start_total[wanted_groups] + uniforms * group_total[wanted_groups]
    position = np.searchsorted(cumulative, target, side="right")
    position = np.clip(position, bounds[wanted_groups], bounds[wanted_groups + 1] - 1)
    return np.asarray(order[position])


class InnovationAssociations:
    """Yearly firm–institution pairs with higher knowledge transfer."""

    name = "innovation_associations"
    Params = AssociationParams

    def __init__(self, params: AssociationParams) -> None:
        self.params = params

    def allocate(self, state: State, ctx: Context, budget: np.ndarray) -> None:
        p, firms, inst = self.params, state.firms, state.institutions
        n_tech = state.n_technologies
        t = firms.technology
        bounds = state.technology_bounds() if compiled() else None
        if bounds is not None:
            # compiled: the same operations in place (no temporaries); the key is formed and
            # the top-k taken in one pass over the segments that choose someone
            neg_gumbel = ctx.rng.random(len(firms))
            np.clip(neg_gumbel, 1e-300, 1.0 - 1e-16, out=neg_gumbel)
            np.log(neg_gumbel, out=neg_gumbel)
            np.negative(neg_gumbel, out=neg_gumbel)
            np.log(neg_gumbel, out=neg_gumbel)  # = −gumbel
            count = np.diff(bounds)
            revenue_sum = ops.group_sum(firms.revenue, t, n_tech)
        else:
            gumbel = -np.log(-np.log(ctx.rng.random(len(firms)).clip(1e-300, 1.0 - 1e-16)))
            count = segments.group_count(t, n_tech)
            revenue_sum = segments.group_sum(firms.revenue, t, n_tech)
        mean_revenue = np.divide(revenue_sum, count, out=np.zeros(n_tech), where=count > 0)
        cost = p.pair_cost * mean_revenue
        pairs = np.minimum(count, np.floor(np.divide(budget, cost, out=np.zeros(n_tech), where=cost > 0)))
        pairs = pairs.astype(np.int64)
        log_revenue = np.log(np.maximum(firms.revenue, 1e-300))
        fused = ops.association_members(log_revenue, neg_gumbel, bounds, pairs) if bounds is not None else None
        if fused is not None:
            chosen, chosen_weight = fused
        else:
            chosen = ops.group_top(log_revenue + gumbel, t, n_tech, pairs) & (pairs[t] > 0)
            chosen_weight = chosen.astype(float)

        firms.partner[:] = -1
        members = np.flatnonzero(chosen)
        uniforms = ctx.rng.random(len(firms))[members]
        partner = sample_within_groups(inst.quality, inst.field, n_tech, t[members], uniforms)
        firms.partner[members] = partner.astype(np.int32)

        per_pair = np.divide(budget, pairs, out=np.zeros(n_tech), where=pairs > 0)
        firm_budget = per_pair * pairs * p.firm_share
        leftover = np.where(pairs == 0, budget, 0.0)
        leftover += pay_firms(state, ctx, self.name, firm_budget, chosen_weight)
        inst_weight = np.bincount(partner, minlength=len(inst)).astype(float)
        leftover += pay_institutions(state, ctx, self.name, per_pair * pairs * (1.0 - p.firm_share), inst_weight)
        pay_leftover(state, ctx, self.name, leftover)
