"""Megaprojects run by issue owners (model.md §6.3).

What it models
    Each technology's megaproject budget flows through its issue owner (catalog column
    ``issue_owner_type``). Owners differ in whom they fund, how efficiently (``η_owner``,
    the share of a yuan that becomes research or R&D) and how hard they lobby Beijing
    (used by ``priorities.mode: lobbying``):

    ==================  ===============================================================
    owner               route
    ==================  ===============================================================
    military_research   institutes (military first) ``institute_share_military``, SOEs the rest
    soe                 SOEs, institutes ``institute_share_soe``
    think_tank          split: institutes ``institute_share_think_tank``, all firms by revenue
    private_champion    the ``top_private_firms`` largest private firms
    new_rd_institute    new R&D institutes of the field
    none                like a think tank
    ==================  ===============================================================

    Recipients inside a group are paid ∝ revenue (firms) or quality (institutions); a
    technology with no eligible recipient pays its field's institutions.

State read: owner types, firms' revenue/ownership, institutions' kind/quality.
State written: ``firms.subsidy``, ``institutions.funding``. Ledger: ``megaprojects``.

Brief: the section on the 16 megaprojects (BeiDou under a military research
organisation, 5G under a state-affiliated think tank, C919 under an SOE) and on issue
owners lobbying for funds; the closing section on tasking conservative stakeholders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nswn.core import segments
from nswn.core.model import Context
from nswn.core.params import budget_share, param
from nswn.core.state import INSTITUTION_TYPES, OWNER_TYPES, State
from nswn.instruments.payments import pay_firms, pay_institutions, pay_leftover
from nswn.kernels import ops

MILITARY_INSTITUTE = INSTITUTION_TYPES.index("military_institute")
NEW_INSTITUTE = INSTITUTION_TYPES.index("new_rd_institute")


@dataclass(frozen=True)
class MegaprojectParams:
    """Megaprojects through issue owners."""

    share: float = budget_share("Share of the central S&T budget run as megaprojects")
    efficiency_military_research: float = param(0.8, lo=0.0, hi=1.0, unit="share", doc="η of military owners")
    efficiency_think_tank: float = param(0.7, lo=0.0, hi=1.0, unit="share", doc="η of think-tank owners")
    efficiency_soe: float = param(0.6, lo=0.0, hi=1.0, unit="share", doc="η of SOE owners")
    efficiency_private_champion: float = param(0.9, lo=0.0, hi=1.0, unit="share", doc="η of private-champion owners")
    efficiency_new_rd_institute: float = param(0.8, lo=0.0, hi=1.0, unit="share", doc="η of new-R&D-institute owners")
    efficiency_none: float = param(0.6, lo=0.0, hi=1.0, unit="share", doc="η where no owner is named")
    institute_share_military: float = param(
        0.6, lo=0.0, hi=1.0, unit="share", doc="Part a military owner gives to institutes"
    )
    institute_share_soe: float = param(0.3, lo=0.0, hi=1.0, unit="share", doc="Part an SOE owner gives to institutes")
    institute_share_think_tank: float = param(
        0.5, lo=0.0, hi=1.0, unit="share", doc="Part a think-tank owner gives to institutes"
    )
    top_private_firms: int = param(
        3, lo=1, hi=100, unit="firms", doc="How many leading private firms a private champion funds"
    )

    def efficiencies(self) -> np.ndarray:
        """η per owner type, in the order of ``core.state.OWNER_TYPES``."""
        return np.array([getattr(self, f"efficiency_{name}") for name in OWNER_TYPES])


class Megaprojects:
    """Megaproject budgets routed by each technology's issue owner."""

    name = "megaprojects"
    Params = MegaprojectParams

    def __init__(self, params: MegaprojectParams) -> None:
        self.params = params

    def allocate(self, state: State, ctx: Context, budget: np.ndarray) -> None:
        p, tech, firms, inst = self.params, state.technologies, state.firms, state.institutions
        owner = np.array(OWNER_TYPES)[tech.owner_type]
        eta = p.efficiencies()[tech.owner_type]
        to_institutes = np.select(
            [owner == "military_research", owner == "soe", owner == "private_champion", owner == "new_rd_institute"],
            [p.institute_share_military, p.institute_share_soe, 0.0, 1.0],
            default=p.institute_share_think_tank,
        )
        inst_budget = budget * to_institutes
        firm_budget = budget - inst_budget

        t = firms.technology
        # compiled: one pass over the segments, the top-k only where a private champion routes
        route = np.where(np.isin(owner, ("military_research", "soe")), 1, np.where(owner == "private_champion", 2, 0))
        weights = ops.megaproject_weights(
            firms.revenue, firms.soe, state.technology_bounds(), route, p.top_private_firms
        )
        if weights is None:
            # per-technology routes, looked up per firm (no per-firm strings)
            soe_route = np.isin(owner, ("military_research", "soe"))[t]
            champion_route = (owner == "private_champion")[t]
            revenue = np.maximum(firms.revenue, 0.0)
            leaders = ops.group_top(np.where(firms.soe, -np.inf, revenue), t, len(tech), p.top_private_firms)
            eligible = np.where(soe_route, firms.soe, np.where(champion_route, leaders & ~firms.soe, True))
            weights = revenue * eligible + 1e-12 * eligible
        leftover = pay_firms(state, ctx, self.name, firm_budget, weights, eta)

        military_route = (owner == "military_research")[inst.field]
        institute_route = (owner == "new_rd_institute")[inst.field]
        preferred = np.where(
            military_route, inst.kind == MILITARY_INSTITUTE, np.where(institute_route, inst.kind == NEW_INSTITUTE, True)
        )
        has_preferred = segments.group_sum(preferred, inst.field, len(tech))[inst.field] > 0
        weights = inst.quality * np.where(has_preferred, preferred, True)
        leftover = leftover + pay_institutions(state, ctx, self.name, inst_budget, weights, eta)
        pay_leftover(state, ctx, self.name, leftover, eta)
