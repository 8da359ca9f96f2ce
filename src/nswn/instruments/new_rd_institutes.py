"""New R&D institutes (新型研发机构): market-oriented, state-sponsored institutes.

What it models (model.md §6.3)
    The instrument's budget per field upgrades legacy institutes into new-type ones and
    funds the new-type institutes. Each year ``n_t ~ Poisson(budget_t / cost_t)`` legacy
    institutes of the field (drawn ∝ quality) become new R&D institutes with alignment at
    least ``new_alignment`` (0.55); ``cost_t`` is ``upgrade_cost`` × the field's mean
    institution funding in the start year's reference funding. The budget is then paid to
    the field's new-type institutes ∝ quality. Where new-type institutes make up a larger
    part of a field, its firms absorb more knowledge (the research mechanism's transfer bonus).

    Difference from the shared specification: institutes are upgraded rather than
    created, so the institution population keeps its size (legacy institutes are pressed
    to serve industrial needs, as the brief describes).

State read: institutions. State written: ``institutions.kind``, ``alignment``, ``funding``.
Ledger: ``new_rd_institutes``.

Brief: the two-layers section — a new type of market-oriented, state-sponsored institute
for technology transfer, and legacy institutes pressed to serve industry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nswn.core.model import Context
from nswn.core.params import budget_share, param
from nswn.core.state import INSTITUTION_TYPES, State
from nswn.instruments.payments import pay_institutions, pay_leftover
from nswn.kernels import ops

NEW_INSTITUTE = INSTITUTION_TYPES.index("new_rd_institute")


@dataclass(frozen=True)
class NewInstituteParams:
    """New R&D institutes."""

    share: float = budget_share("Share of the central S&T budget for new R&D institutes")
    upgrade_cost: float = param(
        5.0,
        lo=0.1,
        hi=1000.0,
        unit="× mean institution funding",
        doc="Cost of turning a legacy institute into a new-type one",
    )
    new_alignment: float = param(0.55, lo=0.0, hi=1.0, unit="alignment", doc="Alignment of a new-type institute")


class NewRDInstitutes:
    """Upgrades legacy institutes and funds the new-type ones."""

    name = "new_rd_institutes"
    Params = NewInstituteParams

    def __init__(self, params: NewInstituteParams) -> None:
        self.params = params

    def allocate(self, state: State, ctx: Context, budget: np.ndarray) -> None:
        p, inst = self.params, state.institutions
        n_tech = state.n_technologies
        field = inst.field
        # priced on the start year's reference funding per institution, not on what other
        # instruments happened to pay this year (which may be nothing)
        cost = p.upgrade_cost * np.maximum(state.technologies.reference_funding, 1e-9)
        upgrades = ctx.rng.poisson(np.where(budget > 0, budget / cost, 0.0))
        gumbel = -np.log(-np.log(ctx.rng.random(len(inst)).clip(1e-300, 1.0 - 1e-16)))
        legacy = inst.kind != NEW_INSTITUTE
        key = np.where(legacy, np.log(inst.quality) + gumbel, -np.inf)
        chosen = ops.group_top(key, field, n_tech, upgrades) & legacy
        inst.kind = np.where(chosen, NEW_INSTITUTE, inst.kind).astype(np.int8)
        inst.alignment = np.where(chosen, np.maximum(inst.alignment, p.new_alignment), inst.alignment)

        is_new = (inst.kind == NEW_INSTITUTE).astype(float)
        leftover = pay_institutions(state, ctx, self.name, budget, inst.quality * is_new)
        pay_leftover(state, ctx, self.name, leftover)
