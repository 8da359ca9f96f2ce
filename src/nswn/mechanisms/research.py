"""Research: knowledge institutions turn funding into papers, patents and usable knowledge.

What it models (model.md §6.5)
    Output ``o_k = q_k · f_k^β`` (β = 0.8); publications ``π_pub · o_k``; patents
    ``π_pat,type · o_k``. Usable knowledge of a field accumulates only through aligned
    output plus what flows in from abroad:
    ``U_t ← (1 − δ_U) U_t + Σ_{k∈t} a_k o_k + A_t · U_intl,t`` with
    ``U_intl,t = international_knowledge × R_t`` (``R_t`` the field's aligned output under the
    start year's reference funding).
    Publications can grow fast while ``U_t`` grows slowly when alignment ``a_k`` is low —
    the academia–industry "two layers" gap, visible in the outputs.

    New R&D institutes ease transfer: a field's firms get ``τ + Δτ_inst × (share of the
    field's institutes that are new-type)`` (``technologies.transfer_bonus``).

State read: ``institutions.funding``, ``quality``, ``alignment``, ``kind``;
``technologies.knowhow_access``. State written: institutions' ``output``,
``publications``, ``patents``; ``technologies.knowledge``, ``transfer_bonus``.

Brief: the two-layers section — top-cited papers without matching productivity growth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nswn.core import segments
from nswn.core.model import Context
from nswn.core.params import param
from nswn.core.state import INSTITUTION_TYPES, State

NEW_INSTITUTE = INSTITUTION_TYPES.index("new_rd_institute")


@dataclass(frozen=True)
class ResearchParams:
    """How research funding becomes output and usable knowledge."""

    elasticity: float = param(0.8, lo=0.1, hi=1.5, unit="exponent", doc="β, returns to research funding")
    publications_per_output: float = param(
        1000.0,
        lo=0.0,
        hi=1e6,
        unit="papers per unit output",
        doc="π_pub, papers per unit of research output",
    )
    patents_university: float = param(
        300.0, lo=0.0, hi=1e6, unit="patents per unit output", doc="π_pat for universities"
    )
    patents_public_institute: float = param(
        500.0,
        lo=0.0,
        hi=1e6,
        unit="patents per unit output",
        doc="π_pat for public (CAS-like) institutes",
    )
    patents_new_rd_institute: float = param(
        1200.0, lo=0.0, hi=1e6, unit="patents per unit output", doc="π_pat for new R&D institutes"
    )
    patents_military_institute: float = param(
        400.0,
        lo=0.0,
        hi=1e6,
        unit="patents per unit output",
        doc="π_pat for military research institutes",
    )
    knowledge_depreciation: float = param(
        0.1, lo=0.0, hi=1.0, unit="1/yr", doc="δ_U, yearly obsolescence of usable knowledge"
    )
    international_knowledge: float = param(
        1.0,
        lo=0.0,
        hi=10.0,
        unit="× start domestic aligned output",
        doc="U_intl, foreign knowledge inflow at full access",
    )

    institute_transfer_bonus: float = param(
        0.2, lo=0.0, hi=1.0, unit="share", doc="Δτ_inst: extra transfer where a whole field's institutes are new-type"
    )

    def patents_by_kind(self) -> np.ndarray:
        return np.array(
            [
                self.patents_university,
                self.patents_public_institute,
                self.patents_new_rd_institute,
                self.patents_military_institute,
            ]
        )


def research_output(inst_quality: np.ndarray, funding: np.ndarray, elasticity: float) -> np.ndarray:
    """``o_k = q_k · f_k^β``."""
    return np.asarray(inst_quality * np.power(np.maximum(funding, 0.0), elasticity))


def research_flows(state: State, params: ResearchParams) -> None:
    """This year's output, publications and patents of every institution from its funding."""
    inst = state.institutions
    inst.output = research_output(inst.quality, inst.funding, params.elasticity)
    inst.publications = params.publications_per_output * inst.output
    inst.patents = params.patents_by_kind()[inst.kind] * inst.output


class Research:
    """Institutions' research and the accumulation of usable knowledge."""

    name = "research"

    def __init__(self, params: ResearchParams) -> None:
        self.params = params

    def step(self, state: State, ctx: Context) -> None:
        inst, tech, p = state.institutions, state.technologies, self.params
        research_flows(state, p)
        aligned = segments.group_sum(inst.alignment * inst.output, inst.field, len(tech))
        foreign = tech.knowhow_access * p.international_knowledge * tech.research_reference
        tech.knowledge = (1.0 - p.knowledge_depreciation) * tech.knowledge + aligned + foreign
        new_type = segments.group_mean((inst.kind == NEW_INSTITUTE).astype(float), inst.field, len(tech))
        tech.transfer_bonus = p.institute_transfer_bonus * np.nan_to_num(new_type)
