"""The Mesa reference model of nswn's firm layer: environment, innovation, markets, entry and exit.

One :class:`~mesa_reference.agents.Firm` agent per row of an nswn start state's firm table;
each year (``step``) runs, in nswn's order (model.md §3):

1. the technology environment (frontier and demand growth, controls, decoupling),
2. innovation — ``agents.do("innovate")``,
3. markets — firms assess their competitiveness, shares move towards logit shares
   against the foreign aggregate, exports are shared out, firms settle their accounts,
4. entry and exit — loss-makers leave, entrants, returnees and spin-offs join,

and a ``DataCollector`` records per-technology best and median capability, Chinese
domestic share, entries, exits and firm counts. Subsidies, partners, usable knowledge and
institutions' output stay at their start values.

See ``benchmarks/docking.py`` for how it is compared with nswn.
"""

from __future__ import annotations

import math
from typing import Any

import mesa
import numpy as np

from .agents import FOUNDER_ENTREPRENEUR, FOUNDER_RETURNEE, FOUNDER_SPINOFF, Firm, Technology


class FirmLayer(mesa.Model):
    """nswn's firm layer as a Mesa model.

    Parameters
    ----------
    config
        An nswn ``Config`` (``nswn.scenario.build.to_config``); its ``assumptions`` and
        ``levers`` give every parameter.
    state
        An nswn start ``State`` (``build_model(config, seed).state``); its firms become
        agents and its technologies :class:`Technology` objects. Values are copied: the
        state is not changed.
    seed
        Seed of the model's generators (``self.random`` for firms, ``self.rng`` for counts).
    end_year
        Last simulated year (inclusive); default ``config.end_year``.

    Attributes
    ----------
    technologies
        One :class:`Technology` per catalog technology, in nswn's order.
    groups
        The firms by technology index (``AgentSet.groupby``), regrouped once a year after
        entry and exit; markets, entry and the reporters read it.
    datacollector
        Per-technology lists each year: ``best_capability``, ``median_capability``,
        ``china_domestic_share``, ``entries``, ``exits``, ``firms``.
    """

    def __init__(self, config: Any, state: Any, seed: int, end_year: int | None = None) -> None:
        super().__init__(seed=seed)
        asm, lv = config.assumptions, config.levers
        self.innovation = asm["innovation"]
        self.markets = asm["markets"]
        self.entry_exit = asm["entry_exit"]
        self.environment = asm["environment"]
        self.controls = lv["export_controls"]
        self.inventor_share = lv["patent_reform"].inventor_share
        if self.markets.share_dynamics != "logit":
            raise ValueError("the Mesa reference implements the default 'logit' share dynamics only")

        self.year = state.year
        self.start_year = state.start_year
        self.end_year = config.end_year if end_year is None else end_year
        self.centralisation = state.macro.centralisation
        self.decoupling = state.macro.decoupling
        self.labour_cost = self.markets.labour_cost0
        self.output_deflator = 1.0

        provinces = state.provinces
        pilot = 1.0 + asm["local_behaviour"].pilot_entry_boost * provinces.pilot_intensity * (1.0 - self.centralisation)
        weights = provinces.gdp_share * pilot
        self.mean_pilot = float(weights.sum())
        self.province_weights = [float(w) for w in weights / self.mean_pilot]
        self.provinces = list(range(len(provinces)))

        self.technologies = self._technologies(state)
        self.ids = state.technologies.ids
        f = state.firms
        for i in range(len(f)):
            Firm(
                self,
                self.technologies[int(f.technology[i])],
                province=int(f.province[i]),
                soe=bool(f.soe[i]),
                founder=int(f.founder[i]),
                capability=float(f.capability[i]),
                output=float(f.output[i]),
                share=float(f.share[i]),
                exports=float(f.exports[i]),
                revenue=float(f.revenue[i]),
                rd=float(f.rd[i]),
                subsidy=float(f.subsidy[i]),
                profit=float(f.profit[i]),
                loss_streak=int(f.loss_streak[i]),
                partner=int(f.partner[i]),
                age=int(f.age[i]),
            )

        self.groups = self.agents.groupby("technology", result_type="list").groups
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "year": "year",
                "best_capability": FirmLayer.best_capability,
                "median_capability": FirmLayer.median_capability,
                "china_domestic_share": FirmLayer.china_domestic_share,
                "entries": lambda m: [t.entries for t in m.technologies],
                "exits": lambda m: [t.exits for t in m.technologies],
                "firms": FirmLayer.firm_counts,
            }
        )
        self.datacollector.collect(self)

    @staticmethod
    def _technologies(state: Any) -> list[Technology]:
        tech, inst = state.technologies, state.institutions
        aligned = np.bincount(inst.field, weights=inst.alignment * inst.output, minlength=len(tech))
        relative = np.divide(
            aligned, tech.research_reference, out=np.zeros(len(tech)), where=tech.research_reference > 0
        )
        out = []
        for i in range(len(tech)):
            out.append(
                Technology(
                    index=i,
                    group=int(tech.group[i]),
                    simulated=bool(tech.simulated[i]),
                    emulability=float(tech.emulability[i]),
                    entrepreneurship=float(tech.entrepreneurship[i]),
                    science_intensity=float(tech.science_intensity[i]),
                    frontier_growth=float(tech.frontier_growth[i]),
                    demand0=float(tech.demand0[i]),
                    world_demand0=float(tech.world_demand0[i]),
                    demand_growth0=float(tech.demand_growth[i]),
                    world_demand_growth0=float(tech.world_demand_growth[i]),
                    margin=float(tech.margin[i]),
                    frontier=float(tech.frontier[i]),
                    demand=float(tech.demand[i]),
                    world_demand=float(tech.world_demand[i]),
                    knowledge_ratio=float(tech.knowledge[i] / tech.knowledge_required[i]),
                    transfer_bonus=float(tech.transfer_bonus[i]),
                    rd_half0=float(tech.rd_half0[i]),
                    output_scale=float(tech.output_scale[i]),
                    fixed_cost0=float(tech.fixed_cost0[i]),
                    china_output=float(tech.china_output[i]),
                    foreign_output=float(tech.foreign_output[i]),
                    foreign_share=float(tech.foreign_share[i]),
                    foreign_log_appeal=float(tech.foreign_log_appeal[i]),
                    foreign_log_weight=float(tech.foreign_log_weight[i]),
                    world_share=float(tech.world_share[i]),
                    best_capability=float(tech.best_capability[i]),
                    research_relative=float(relative[i]),
                    fence=float(tech.fence[i]),
                    knowhow_access=float(tech.knowhow_access[i]),
                    market_access=float(tech.market_access[i]),
                )
            )
        return out

    # -- the year -------------------------------------------------------------------------
    def step(self) -> None:
        """One year: environment, innovation, markets, entry and exit, then record."""
        self.year += 1
        self.update_environment()
        self.agents.do("innovate")
        self.trade_and_settle()
        self.enter_and_exit()
        self.groups = self.agents.groupby("technology", result_type="list").groups
        self.datacollector.collect(self)

    def run(self) -> None:
        """Step to ``end_year``."""
        while self.year < self.end_year:
            self.step()

    # -- environment (model.md §6.1) ------------------------------------------------------
    def update_environment(self) -> None:
        """Frontier and demand growth, export-control fences, decoupling, access."""
        env = self.environment
        years = self.year - self.start_year
        decay = (1.0 - env.demand_growth_convergence) ** max(years - 1, 0)
        long_run = env.long_run_demand_growth
        self.decoupling = min(env.decoupling_max, env.decoupling_rate * max(0, self.year - env.decoupling_start))
        fence = {}
        for batch in self.controls.batches:
            if batch.year <= self.year:
                for tech_id in batch.technologies:
                    fence[tech_id] = max(fence.get(tech_id, 0.0), batch.fence_height)
        groups = self.groups
        for t in self.technologies:
            # the foreign frontier emulates a Chinese leader (model.md §6.1), through last year's access
            firms = groups.get(t.index, [])
            lead = max(0.0, max(f.capability for f in firms) - t.frontier) if firms else 0.0
            learning = env.foreign_emulation_rate * t.emulability * t.knowhow_access * lead
            t.frontier += env.frontier_growth_scale * t.frontier_growth + learning
            t.demand *= 1.0 + long_run + (env.demand_growth_scale * t.demand_growth0 - long_run) * decay
            t.world_demand *= 1.0 + long_run + (env.demand_growth_scale * t.world_demand_growth0 - long_run) * decay
            t.fence = fence.get(self.ids[t.index], 0.0)
            t.knowhow_access = (1.0 - t.fence) * (1.0 - self.decoupling)
            t.market_access = env.foreign_market_access * (1.0 - env.controls_block_sales * t.fence)

    # -- markets (model.md §6.7) ----------------------------------------------------------
    def trade_and_settle(self) -> None:
        """Domestic shares (logit), exports with trade friction, revenue and learning."""
        p = self.markets
        self.labour_cost = p.labour_cost0 + p.labour_cost_growth * (self.year - self.start_year)
        self.output_deflator = math.exp(self.labour_cost - p.labour_cost0)
        groups = self.groups  # the firms have not changed since the last year's grouping
        for t in self.technologies:
            t.n_firms = len(groups.get(t.index, ()))
        self.agents.do("assess")

        speed = p.replicator_speed
        foreign_log_e = {}
        for t in self.technologies:
            firms = groups.get(t.index, [])
            # the foreign aggregate learns from Q^f + φ ξ Q^CN (international spillovers, model.md §12.4)
            learned = t.foreign_output + p.learning_spillover * p.international_spillover * t.china_output
            foreign_cost = p.foreign_labour_cost - p.learning_rate * math.log1p(learned / t.output_scale)
            log_ef = p.capability_weight * t.frontier - p.cost_weight * foreign_cost
            foreign_log_e[t.index] = log_ef
            access = math.log(t.market_access) if t.market_access > 0 else -math.inf
            # home-market effect (model.md §12.2): varieties follow the home market, in every market
            t.home_shift = p.home_market_effect * (
                _log_growth(t.demand, t.demand0) - _log_growth(t.world_demand, t.world_demand0)
            )
            presence = log_ef + t.foreign_log_appeal - t.home_shift + access
            peak = max([f.log_e for f in firms] + [presence])
            t.peak = peak if math.isfinite(peak) else 0.0
            foreign_e = math.exp(presence - t.peak)
            total = sum(math.exp(f.log_e - t.peak) for f in firms) + foreign_e
            t.total = total if total > 0 else 1.0
            t.foreign_share = (1.0 - speed) * t.foreign_share + speed * foreign_e / t.total
        self.agents.do("adjust_share")

        elasticity = p.export_elasticity
        for t in self.technologies:
            firms = groups.get(t.index, [])
            t.china_share = sum(f.share for f in firms)
            t.export_peak = max((f.log_e for f in firms), default=0.0)
        self.agents.do("weigh_exports")
        for t in self.technologies:
            firms = groups.get(t.index, [])
            t.composite = sum(f.export_part for f in firms)
            if t.composite > 0:
                log_c = math.log(t.composite) + elasticity * t.export_peak
                log_foreign = elasticity * foreign_log_e[t.index] + t.foreign_log_weight - t.home_shift
                t.world_share = _share_with_friction(log_c - log_foreign, p.friction_slope, p.friction_threshold)
            else:
                t.world_share = 0.0
            t.friction = p.friction_slope * max(0.0, t.world_share - p.friction_threshold)
            t.china_exports = t.world_demand * t.world_share
            t.foreign_exports = t.world_demand - t.china_exports
        self.agents.do("export")
        self.agents.do("settle")
        for t in self.technologies:
            t.foreign_output += t.foreign_share * t.demand + t.foreign_exports

    # -- entry and exit (model.md §6.9) ---------------------------------------------------
    def enter_and_exit(self) -> None:
        """Exit of persistent loss-makers; entrants, returnees and academic spin-offs."""
        p = self.entry_exit
        groups = self.groups
        leavers: list[Firm] = []
        expected, spin_expected = [], []
        survivors_share, survivors = [], []
        for t in self.technologies:
            firms = groups.get(t.index, [])
            n = len(firms)
            if firms:
                t.best_capability = max(t.best_capability, max(f.capability for f in firms))
            staying: list[Firm] = []
            for firm in firms:
                (leavers if firm.leaves() else staying).append(firm)
            t.exits = n - len(staying)
            revenue = sum(f.revenue for f in firms)
            profit = sum(f.profit for f in firms)
            rate = profit / revenue if revenue > 0 else 0.0
            expected.append(p.entry_rate * max(n, 1) * (1.0 + max(0.0, rate)) * self.mean_pilot * t.simulated)
            spin = p.spinoff_rate * self.inventor_share * max(n, 1) * t.research_relative
            spin_expected.append(spin * t.simulated)
            survivors.append(len(staying))
            survivors_share.append(sum(f.share for f in staying))
        entrants = self.rng.poisson(expected)
        spinoffs = self.rng.poisson(spin_expected)

        for firm in leavers:
            firm.remove()
        self.agents.do("grow_older")

        returnee_p = p.returnee_share * (1.0 - self.decoupling)
        for t in self.technologies:
            n_entrants, n_spin = int(entrants[t.index]), int(spinoffs[t.index])
            t.entries = n_entrants + n_spin
            if not t.entries:
                continue
            china, count = survivors_share[t.index], max(survivors[t.index], 1)
            start_share = p.entrant_share * (china / count if china > 0 else 1e-3)
            for k in range(t.entries):
                if k < n_entrants:
                    returnee = self.random.random() < returnee_p
                    founder = FOUNDER_RETURNEE if returnee else FOUNDER_ENTREPRENEUR
                    gap = p.returnee_gap if returnee else p.entrant_gap
                else:
                    founder = FOUNDER_SPINOFF
                    gap = p.entrant_gap / (1.0 + min(1.0, t.knowledge_ratio))
                Firm(
                    self,
                    t,
                    province=self.random.choices(self.provinces, weights=self.province_weights)[0],
                    founder=founder,
                    capability=t.best_capability - self.random.expovariate(1.0) * gap,
                    share=start_share,
                )

        # leavers' shares go and entrants' come: renormalise Chinese plus foreign shares to one
        totals = [t.foreign_share for t in self.technologies]
        for firm in self.agents:
            totals[firm.technology] += firm.share
        for firm in self.agents:
            total = totals[firm.technology]
            if total > 0:
                firm.share /= total
        for t in self.technologies:
            if totals[t.index] > 0:
                t.foreign_share /= totals[t.index]

    # -- reporters (read ``self.groups``, the firms by technology after the year) ---------
    def best_capability(self) -> list[float]:
        """Best firm capability per technology (NaN where a technology has no firms)."""
        groups = self.groups
        return [max((f.capability for f in groups.get(t.index, [])), default=math.nan) for t in self.technologies]

    def median_capability(self) -> list[float]:
        """Median firm capability per technology (NaN where a technology has no firms): the
        capability at which half the firms are reached, i.e. the lower middle value for an even
        count — nswn's weighted median of real firms (``segments.segment_weighted_median``)."""
        groups = self.groups
        out = []
        for t in self.technologies:
            firms = groups.get(t.index, [])
            ordered = sorted(f.capability for f in firms)
            out.append(ordered[(len(ordered) - 1) // 2] if ordered else math.nan)
        return out

    def china_domestic_share(self) -> list[float]:
        """Chinese firms' share of each technology's domestic market."""
        groups = self.groups
        return [sum(f.share for f in groups.get(t.index, [])) for t in self.technologies]

    def firm_counts(self) -> list[int]:
        """Number of firms per technology."""
        groups = self.groups
        return [len(groups.get(t.index, [])) for t in self.technologies]


def _log_growth(now: float, start: float) -> float:
    """``ln(now / start)`` where both are positive, else 0."""
    return math.log(now) - math.log(start) if now > 0 and start > 0 else 0.0


def _share_with_friction(lead: float, slope: float, threshold: float) -> float:
    """The world share that agrees with the friction it provokes (model.md §12.2), by bisection:
    ``s = 1 / (1 + (1 + κ max(0, s − θ)) e^{−z})``."""
    z = min(700.0, max(-700.0, lead))
    free = 1.0 / (1.0 + math.exp(-z))
    low, high = min(free, threshold), free
    for _ in range(60):
        mid = 0.5 * (low + high)
        implied = 1.0 / (1.0 + (1.0 + slope * max(0.0, mid - threshold)) * math.exp(-z))
        if mid > implied:
            high = mid
        else:
            low = mid
    return 0.5 * (low + high)
