"""Basic research: block grants to knowledge institutions in proportion to their quality.

What it models (model.md §6.3)
    The state funds basic research because firms avoid it. Inside a technology, the
    instrument's budget goes to the institutions of that field in proportion to their
    quality ``q_k`` (block grants); institutions turn it into research in §6.5.

State read: ``institutions.field``, ``institutions.quality``.
State written: ``institutions.funding`` (adds). Ledger: ``basic_research`` → institutions.

Brief: the two-layers section — firms leave risky basic research to the state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nswn.core import segments
from nswn.core.model import Context
from nswn.core.params import param
from nswn.core.state import State


@dataclass(frozen=True)
class BasicResearchParams:
    """Block grants for basic research."""

    share: float = param(
        1.0,
        lo=0.0,
        hi=1.0,
        unit="share of central budget",
        basis="policy",
        doc="Share of the central S&T budget spent as basic-research block grants",
    )


class BasicResearch:
    """Block grants ∝ institution quality within each field."""

    name = "basic_research"
    Params = BasicResearchParams

    def __init__(self, params: BasicResearchParams) -> None:
        self.params = params

    def allocate(self, state: State, ctx: Context, budget: np.ndarray) -> None:
        inst = state.institutions
        weight = segments.group_share(inst.quality, inst.field, state.n_technologies)
        grant = budget[inst.field] * weight
        inst.funding += grant
        ctx.ledger.book(self.name, "institution", inst.field, grant)
