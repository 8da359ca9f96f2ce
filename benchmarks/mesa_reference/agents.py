"""Agents of the Mesa reference: a firm (``mesa.Agent``) and a technology (plain object).

A :class:`Firm` carries the attributes of one row of nswn's ``Firms`` table and does its
own part of each mechanism in methods (``innovate``, ``assess``, ``adjust_share``,
``weigh_exports``, ``export``, ``settle``); the model computes per-technology aggregates by
looping over its agents. A :class:`Technology` holds one technology's catalog values and
state as Python floats (technologies are not agents: they do not act, and there are ~60).

Run through :class:`mesa_reference.FirmLayer`; see ``benchmarks/docking.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from .model import FirmLayer

FOUNDER_INCUMBENT, FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE, FOUNDER_SPINOFF = range(4)


@dataclass
class Technology:
    """One technology: catalog values, environment, foreign aggregate and yearly aggregates.

    Attributes mirror nswn's ``Technologies`` arrays (one float each); the yearly aggregates
    (``n_firms``, ``peak``, ``total``, ``china_share``, ``composite``…) are scratch values
    the model fills in before the firms use them.
    """

    index: int
    group: int
    simulated: bool
    emulability: float
    entrepreneurship: float
    science_intensity: float
    frontier_growth: float
    demand0: float
    world_demand0: float
    demand_growth0: float
    world_demand_growth0: float
    margin: float
    frontier: float
    demand: float
    world_demand: float
    knowledge_ratio: float  # U_t / U_req,t, held at its start value
    transfer_bonus: float
    rd_half0: float
    output_scale: float
    fixed_cost0: float
    china_output: float
    foreign_output: float
    foreign_share: float
    foreign_log_appeal: float
    foreign_log_weight: float
    world_share: float
    best_capability: float
    research_relative: float  # Σ a_k o_k / o_ref, held at its start value
    fence: float = 0.0
    knowhow_access: float = 1.0
    market_access: float = 1.0
    friction: float = 0.0
    home_shift: float = 0.0
    china_exports: float = 0.0
    foreign_exports: float = 0.0
    entries: int = 0
    exits: int = 0
    # scratch aggregates of the current year
    n_firms: int = 0
    peak: float = 0.0
    total: float = 0.0
    china_share: float = 0.0
    export_peak: float = 0.0
    composite: float = 0.0

    def rd_half(self) -> float:
        """``RD½_t``: the start-year median R&D, grown with demand."""
        return self.rd_half0 * self.demand / self.demand0


class Firm(mesa.Agent):
    """A Chinese firm of one technology (one row of nswn's ``Firms``).

    Parameters
    ----------
    model
        The :class:`~mesa_reference.FirmLayer` it belongs to.
    tech
        Its technology.
    province, soe, founder, capability, output, share, exports, revenue, rd, subsidy, profit,
    loss_streak, partner, age
        Start values, as in nswn's ``Firms`` (``founder`` uses nswn's codes).
    """

    model: FirmLayer

    def __init__(
        self,
        model: FirmLayer,
        tech: Technology,
        *,
        province: int,
        soe: bool = False,
        founder: int = FOUNDER_INCUMBENT,
        capability: float = 0.0,
        output: float = 0.0,
        share: float = 0.0,
        exports: float = 0.0,
        revenue: float = 0.0,
        rd: float = 0.0,
        subsidy: float = 0.0,
        profit: float = 0.0,
        loss_streak: int = 0,
        partner: int = -1,
        age: int = 0,
    ) -> None:
        super().__init__(model)
        self.tech = tech
        self.technology = tech.index
        self.province = province
        self.soe = soe
        self.founder = founder
        self.capability = capability
        self.output = output
        self.share = share
        self.exports = exports
        self.revenue = revenue
        self.rd = rd
        self.subsidy = subsidy
        self.profit = profit
        self.loss_streak = loss_streak
        self.partner = partner
        self.age = age
        self.log_e = 0.0
        self.export_part = 0.0

    # -- innovation (model.md §6.6) -------------------------------------------------------
    def innovate(self) -> None:
        """Spend on R&D, emulate the frontier and try to innovate beyond it."""
        p = self.model.innovation
        t = self.tech
        # one uniform and one normal per firm, always drawn (as nswn does)
        u = self.random.random()
        z = self.random.gauss(0.0, 1.0)
        if self.soe:
            self.rd = (p.rd_share_soe * self.revenue + self.subsidy) * p.soe_rd_efficiency
            owner = p.soe_entrepreneurship
        else:
            self.rd = p.rd_share_private * self.revenue + self.subsidy
            founder_led = self.founder in (FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE)
            owner = p.founder_entrepreneurship if founder_led else 1.0
        half = t.rd_half()
        absorptive = self.rd / (self.rd + half)
        gap = 1.0 - math.exp(-max(0.0, t.frontier - self.capability))  # logistic catch-up (model.md §12.2)
        emulation = p.emulation_rate * t.emulability * t.knowhow_access * absorptive * gap

        drive = 1.0 - t.entrepreneurship * (1.0 - owner)
        tau = (p.paired_transfer_efficiency if self.partner >= 0 else p.transfer_efficiency) + t.transfer_bonus
        gate = (1.0 - t.science_intensity) + t.science_intensity * min(1.0, tau * t.knowledge_ratio)
        intensity = p.innovation_rate * drive * gate * self.rd / half
        step = p.step_mean + p.step_sd * z
        innovation = step if (u < -math.expm1(-intensity) and step > 0.0) else 0.0
        self.capability += emulation + innovation

    # -- markets (model.md §6.7) ----------------------------------------------------------
    def assess(self) -> None:
        """Competitiveness ``ln E_i = σ_c c_i − σ_p p_i`` (Wright's-law cost with spillovers)."""
        p = self.model.markets
        t = self.tech
        # the industry pool is world output: Q^CN + ξ Q^f (international spillovers, model.md §12.4)
        pool = t.china_output + p.international_spillover * t.foreign_output
        experience = p.learning_spillover * pool + (1.0 - p.learning_spillover) * t.n_firms * self.output
        cost = self.model.labour_cost - p.learning_rate * math.log1p(experience / t.output_scale)
        self.log_e = p.capability_weight * self.capability - p.cost_weight * cost

    def adjust_share(self) -> None:
        """Partial adjustment of the domestic share towards the logit share ``E_i / (ΣE + P)``."""
        t = self.tech
        speed = self.model.markets.replicator_speed
        self.share = (1.0 - speed) * self.share + speed * math.exp(self.log_e - t.peak) / t.total

    def weigh_exports(self) -> None:
        """This firm's term of China's export composite ``ŝ_i E_i^σ_w`` (relative to the peak)."""
        t = self.tech
        within = self.share / t.china_share if t.china_share > 0 else 0.0
        self.export_part = within * math.exp(self.model.markets.export_elasticity * (self.log_e - t.export_peak))

    def export(self) -> None:
        """Exports: its part of China's exports of the technology."""
        t = self.tech
        self.exports = t.china_exports * self.export_part / t.composite if t.composite > 0 else 0.0

    def settle(self) -> None:
        """Revenue, profit, loss streak and cumulative output."""
        t = self.tech
        self.revenue = self.share * t.demand + self.exports
        self.profit = t.margin * self.revenue - t.fixed_cost0 * t.demand / t.demand0
        self.loss_streak = min(self.loss_streak + 1, 100) if self.profit < 0 else 0
        produced = self.revenue / self.model.output_deflator
        self.output += produced
        t.china_output += produced

    # -- entry and exit (model.md §6.9) ---------------------------------------------------
    def leaves(self) -> bool:
        """Whether this firm exits this year (private and loss-making for too long)."""
        return not self.soe and self.loss_streak >= self.model.entry_exit.exit_after

    def grow_older(self) -> None:
        """Age by one year."""
        self.age += 1
