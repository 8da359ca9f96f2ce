"""Firm innovation: emulation of the foreign frontier and frontier innovation.

What it models (model.md §6.6)
    R&D ``RD_i = r_own · revenue_i + subsidies_i`` (``r_own`` 0.05 private, 0.03 SOE; SOE
    R&D converts with efficiency ``η_SOE``). Absorptive capacity
    ``α_i = RD_i / (RD_i + RD½_t)``, with ``RD½_t`` the start-year share-weighted median R&D
    in ``t`` (half the market is held by firms spending less), growing with demand.

    Emulation: ``Δc^em = λ_em · e_t · A_t · α_i · (1 − exp(−max(0, F_t − c_i)))`` — catch-up on
    an existing foreign template in the logistic form of technology diffusion (Benhabib &
    Spiegel 2005): proportional to the log gap when it is small, bounded when it is large (a
    laggard far behind absorbs little of a distant template; Cohen & Levinthal 1990). Alone it
    converges to the steady gap ``−ln(1 − g_F / (λ_em e A α))`` (≈ ``g_F / (λ_em e A α)``) and
    never passes the frontier.

    Frontier innovation (Keynes+Schumpeter two-step draw; Dosi, Fagiolo & Roventini 2010):
    success with probability ``p_i = 1 − exp(−ζ · ent_i · K_t · RD_i / RD½_t)``; a success
    draws ``Δ ~ N(μ_in, σ_in)``, kept only if positive (a firm keeps its best technique).
    ``ent_i = 1 − ρ_t (1 − E_owner)`` with ``E_private = 1``, ``E_SOE`` 0.35, and 1.2 for
    entrepreneur and returnee founders. The knowledge gate
    ``K_t = (1 − b_t) + b_t · min(1, τ_i U_t / U_req,t)`` stalls science-intensive
    technologies when little usable knowledge reaches firms; ``τ_i = τ0``, ``τ_pair`` for
    firms in an innovation association, plus the field's new-R&D-institute bonus.

    A super-individual (an agent standing for ``w_i`` firms, Scheffer et al. 1995) innovates
    as one representative member: ``RD_i / w_i`` enters ``α_i`` and ``p_i``, and its members
    move together. (Taking the best of ``w_i`` draws each year instead was rejected: a group
    that jumps to its best member's draw every year compounds best-of-``w`` steps, which no
    single firm does; see docs/model.md §12.)

State read: revenue, subsidy, ownership, founder, partner, technology, weight arrays.
State written: ``firms.rd``, ``firms.capability``.

Brief: the closing section (emulation of established technologies vs. private
entrepreneurship in solar, EVs, platforms) and the two-layers section (knowledge gate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nswn.core.model import Context
from nswn.core.params import param
from nswn.core.state import FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE, State
from nswn.kernels import ops
from nswn.mechanisms import attribution


@dataclass(frozen=True)
class InnovationParams:
    """How firms learn and invent."""

    rd_share_private: float = param(0.05, lo=0.0, hi=0.5, unit="share of revenue", doc="r_own of private firms")
    rd_share_soe: float = param(0.03, lo=0.0, hi=0.5, unit="share of revenue", doc="r_own of SOEs")
    soe_rd_efficiency: float = param(0.7, lo=0.0, hi=1.5, unit="×", doc="η_SOE, effective R&D per yuan at SOEs")
    emulation_rate: float = param(
        0.1,
        lo=0.0,
        hi=1.0,
        unit="1/yr",
        doc="λ_em, speed of catch-up on a template (specification: 0.3; see docs/model.md)",
    )
    innovation_rate: float = param(
        1.0, lo=0.0, hi=10.0, unit="per relative R&D", doc="ζ, frontier-innovation intensity"
    )
    step_mean: float = param(-0.01, lo=-0.5, hi=0.5, unit="log capability", doc="μ_in, mean of an innovation draw")
    step_sd: float = param(0.06, lo=0.0, hi=0.5, unit="log capability", doc="σ_in, spread of an innovation draw")
    soe_entrepreneurship: float = param(0.35, lo=0.0, hi=2.0, unit="×", doc="E_SOE, SOEs' entrepreneurial drive")
    founder_entrepreneurship: float = param(
        1.2,
        lo=0.0,
        hi=3.0,
        unit="×",
        doc="E of entrepreneur and returnee founders (private incumbents: 1)",
    )
    transfer_efficiency: float = param(0.2, lo=0.0, hi=1.0, unit="share", doc="τ0, knowledge a lone firm absorbs")
    paired_transfer_efficiency: float = param(
        0.6,
        lo=0.0,
        hi=1.0,
        unit="share",
        doc="τ_pair, knowledge a firm in an innovation association absorbs",
    )


def catch_up_gap(gap: np.ndarray) -> np.ndarray:
    """Logistic technology diffusion (Benhabib & Spiegel 2005): ``1 − exp(−max(0, F − c))``.

    In log capability, ``Δc ∝ (1 − R)`` with ``R = exp(c − F)`` the relative capability: the
    same as the log gap for a small gap (``1 − e^{−x} ≈ x``), but bounded by 1 on a large
    one, because what a laggard can absorb is limited by what it already knows (Cohen &
    Levinthal 1990). Benhabib & Spiegel's cross-country estimates favour this logistic form
    over the Nelson–Phelps exponential one, in which catch-up grows with the gap without
    bound.

    Parameters
    ----------
    gap : array, shape (n_firms,)
        ``F_t − c_i``, log capability (negative where the firm leads).

    Returns
    -------
    array, shape (n_firms,)
        In [0, 1).
    """
    return np.asarray(-np.expm1(-np.maximum(0.0, gap)))


def rd_spend(state: State, params: InnovationParams) -> np.ndarray:
    """Effective R&D per firm, bn CNY."""
    firms = state.firms
    own_share = np.where(firms.soe, params.rd_share_soe, params.rd_share_private)
    efficiency = np.where(firms.soe, params.soe_rd_efficiency, 1.0)
    return np.asarray((own_share * firms.revenue + firms.subsidy) * efficiency)


def rd_half(state: State) -> np.ndarray:
    """``RD½_t`` per firm: the start-year median R&D of its technology, grown with demand."""
    tech = state.technologies
    scale = tech.rd_half0 * tech.demand / tech.demand0
    return np.asarray(scale[state.firms.technology])


def entrepreneurship(state: State, params: InnovationParams) -> np.ndarray:
    """``ent_i = 1 − ρ_t (1 − E_owner)``."""
    firms = state.firms
    founder_boost = np.isin(firms.founder, (FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE))
    owner = np.where(
        firms.soe,
        params.soe_entrepreneurship,
        np.where(founder_boost, params.founder_entrepreneurship, 1.0),
    )
    rho = state.technologies.entrepreneurship[firms.technology]
    return np.asarray(1.0 - rho * (1.0 - owner))


def knowledge_gate(state: State, params: InnovationParams) -> np.ndarray:
    """``K_t = (1 − b) + b · min(1, τ_i U_t / U_req,t)`` per firm."""
    firms, tech = state.firms, state.technologies
    tau = np.where(firms.partner >= 0, params.paired_transfer_efficiency, params.transfer_efficiency)
    tau = tau + tech.transfer_bonus[firms.technology]
    ratio = tech.knowledge[firms.technology] / tech.knowledge_required[firms.technology]
    b = tech.science_intensity[firms.technology]
    return np.asarray((1.0 - b) + b * np.minimum(1.0, tau * ratio))


class Innovation:
    """Emulation plus frontier innovation for every firm at once."""

    name = "innovation"

    def __init__(self, params: InnovationParams) -> None:
        self.params = params

    def step(self, state: State, ctx: Context) -> None:
        firms, tech, p = state.firms, state.technologies, self.params
        n = len(firms)
        # one uniform and one normal per firm, always drawn: streams stay aligned across arms
        uniform = ctx.rng.random(n)
        normal = ctx.rng.standard_normal(n)
        if self._fused(state, uniform, normal):
            return

        rd = rd_spend(state, p)
        firms.rd = rd
        half = rd_half(state)
        member_rd = rd / firms.weight  # one member's R&D when an agent stands for several firms
        absorptive = member_rd / (member_rd + half)
        t = firms.technology
        gap = catch_up_gap(tech.frontier[t] - firms.capability)
        emulation = p.emulation_rate * tech.emulability[t] * tech.knowhow_access[t] * absorptive * gap

        gate = knowledge_gate(state, p)
        intensity = p.innovation_rate * entrepreneurship(state, p) * gate * member_rd / half
        success = uniform < -np.expm1(-intensity)
        draw = p.step_mean + p.step_sd * normal
        innovation = np.where(success & (draw > 0.0), draw, 0.0)

        attribution.note_innovation(state, p, member_rd, half, gate, emulation, innovation)  # reads only
        firms.capability += emulation + innovation

    def _fused(self, state: State, uniform: np.ndarray, normal: np.ndarray) -> bool:
        """The step in two compiled passes (bit-identical to the NumPy lines of :meth:`step`).

        Returns ``False`` (and changes nothing) when the NumPy lines must run instead. The
        first pass computes R&D, ``RD½``, one member's R&D, the knowledge gate and the
        arguments of both ``expm1`` calls; NumPy applies ``expm1``; the second pass computes
        emulation, innovation, the capability after the step and each technology's best
        capability before and after it, which the attribution hook reuses.
        """
        firms, tech, p = state.firms, state.technologies, self.params
        half_of = tech.rd_half0 * tech.demand / tech.demand0
        terms = ops.innovation_terms(
            firms.technology,
            firms.revenue,
            firms.subsidy,
            firms.soe,
            firms.weight,
            firms.capability,
            firms.founder,
            firms.partner,
            half_of,
            (
                tech.frontier,
                tech.entrepreneurship,
                tech.transfer_bonus,
                tech.knowledge,
                tech.knowledge_required,
                tech.science_intensity,
            ),
            (
                p.rd_share_private,
                p.rd_share_soe,
                p.soe_rd_efficiency,
                p.innovation_rate,
                p.soe_entrepreneurship,
                p.founder_entrepreneurship,
                p.transfer_efficiency,
                p.paired_transfer_efficiency,
            ),
            (FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE),
        )
        if terms is None:
            return False
        rd, member_rd, half, gate, gap_arg, intensity_arg = terms
        firms.rd = rd
        np.expm1(gap_arg, out=gap_arg)  # catch_up_gap = −expm1(−max(0, F − c))
        np.expm1(intensity_arg, out=intensity_arg)  # success chance = −expm1(−intensity)
        emulation, innovation, after, best_before, best_after = ops.innovation_steps(
            firms.technology,
            state.n_technologies,
            member_rd,
            half,
            gap_arg,
            intensity_arg,
            uniform,
            normal,
            firms.capability,
            tech.emulability,
            tech.knowhow_access,
            p.emulation_rate,
            p.step_mean,
            p.step_sd,
        )
        attribution.note_innovation(
            state,
            p,
            member_rd,
            half,
            gate,
            emulation,
            innovation,
            after_capability=after,
            best_before=best_before,
            best_after=best_after,
        )  # reads only
        firms.capability[...] = after  # = capability + (emulation + innovation), in place
        return True
