"""Unveiling the list (揭榜挂帅): open challenges on priority technologies.

What it models (model.md §6.3)
    For each technology with a budget, the state and industry post an open challenge.
    Bidders are the field's institutions and the technology's firms; each bidder's score
    is ``quality + alignment + noise``, where quality is the bidder's percentile within
    its own kind in the field (institutions by ``q_k``, firms by capability), alignment is
    ``a_k`` for institutions and ``firm_alignment`` for firms (judged 0.3: challenges are
    posted for knowledge institutions; firms may bid, but their bids are judged as fitting a
    research problem less well), and the noise ``N(0, σ_chal)`` is the jury's. The
    ``winners`` highest scores share the award equally. A winning institution's alignment
    rises by ``Δa_chal`` (research aimed at a stated industrial need), capped at 1.

State read: institutions' quality/alignment, firms' capability. State written:
``institutions.funding`` and ``alignment``, ``firms.subsidy``. Ledger: ``unveiling_the_list``.

Brief: the two-layers section — the state and industry formulate and fund open
challenges for knowledge institutions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nswn.core import segments
from nswn.core.model import Context
from nswn.core.params import budget_share, param
from nswn.core.state import State
from nswn.instruments.payments import pay_firms, pay_institutions, pay_leftover
from nswn.kernels import ops


@dataclass(frozen=True)
class ChallengeParams:
    """Open challenges."""

    share: float = budget_share("Share of the central S&T budget awarded through open challenges")
    winners: int = param(3, lo=1, hi=100, unit="bidders per technology", doc="Winners sharing each challenge")
    jury_noise: float = param(0.3, lo=0.0, hi=5.0, unit="score sd", doc="σ_chal, noise in judging bids")
    alignment_gain: float = param(0.05, lo=0.0, hi=1.0, unit="alignment", doc="Δa_chal, a winner's rise in alignment")
    firm_alignment: float = param(0.3, lo=0.0, hi=1.0, unit="alignment", doc="Alignment credited to firm bidders")


def percentile_in_group(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Percentile (0 worst … 1 best) of each value within its group."""
    rank = ops.group_rank(values, groups, n_groups)
    size = segments.group_count(groups, n_groups)[groups]
    return np.asarray(np.where(size > 1, 1.0 - rank / np.maximum(size - 1, 1), 1.0))


def top_bids(
    inst_score: np.ndarray,
    field: np.ndarray,
    firm_score: np.ndarray,
    technology: np.ndarray,
    n_tech: int,
    k: int,
    firm_best: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best bids per technology among institutions and firms together.

    The winners are among each population's own ``k`` best, so only those candidates are
    ranked jointly (ties: institutions first, then by position, as in one concatenated list).
    ``firm_best``, when given, is the mask of the firms' own ``k`` best per technology
    (computed already; ``firm_score`` then needs to be valid only there).
    """
    inst_top = np.flatnonzero(ops.group_top(inst_score, field, n_tech, k))
    if firm_best is None:
        firm_best = ops.group_top(firm_score, technology, n_tech, k)
    firm_top = np.flatnonzero(firm_best)
    scores = np.concatenate([inst_score[inst_top], firm_score[firm_top]])
    groups = np.concatenate([field[inst_top], technology[firm_top]])
    won = segments.group_top(scores, groups, n_tech, k)
    won_inst = np.zeros(len(inst_score), dtype=bool)
    won_firm = np.zeros(len(firm_score), dtype=bool)
    won_inst[inst_top[won[: len(inst_top)]]] = True
    won_firm[firm_top[won[len(inst_top) :]]] = True
    return won_inst, won_firm


class UnveilingTheList:
    """Open challenges: the best bids (with jury noise) win the award."""

    name = "unveiling_the_list"
    Params = ChallengeParams

    def __init__(self, params: ChallengeParams) -> None:
        self.params = params

    def allocate(self, state: State, ctx: Context, budget: np.ndarray) -> None:
        p, firms, inst = self.params, state.firms, state.institutions
        n_tech = state.n_technologies
        # every bidder draws jury noise, posted or not, so streams stay aligned
        noise_inst = ctx.rng.standard_normal(len(inst))
        noise_firm = ctx.rng.standard_normal(len(firms))
        inst_score = percentile_in_group(inst.quality, inst.field, n_tech) + inst.alignment + p.jury_noise * noise_inst
        # compiled: the firms' k best bids per technology without ranking every firm
        fused = ops.challenge_top(
            firms.capability, noise_firm, state.technology_bounds(), p.firm_alignment, p.jury_noise, p.winners
        )
        if fused is not None:
            firm_best, firm_score = fused
        else:
            firm_best = None
            firm_score = (
                percentile_in_group(firms.capability, firms.technology, n_tech)
                + p.firm_alignment
                + p.jury_noise * noise_firm
            )
        won_inst, won_firm = top_bids(
            inst_score, inst.field, firm_score, firms.technology, n_tech, p.winners, firm_best
        )
        winners = segments.group_count(inst.field[won_inst], n_tech) + segments.group_count(
            firms.technology[won_firm], n_tech
        )
        per_winner = np.divide(budget, winners, out=np.zeros(n_tech), where=winners > 0)

        leftover = np.where(winners == 0, budget, 0.0)
        leftover += pay_institutions(
            state,
            ctx,
            self.name,
            per_winner * segments.group_count(inst.field[won_inst], n_tech),
            won_inst.astype(float),
        )
        leftover += pay_firms(
            state,
            ctx,
            self.name,
            per_winner * segments.group_count(firms.technology[won_firm], n_tech),
            won_firm.astype(float),
        )
        pay_leftover(state, ctx, self.name, leftover)
        funded = won_inst & (budget[inst.field] > 0)
        inst.alignment = np.where(funded, np.minimum(1.0, inst.alignment + p.alignment_gain), inst.alignment)
