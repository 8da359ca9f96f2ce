"""Entry and exit: entrepreneurs, returnees and academic spin-offs in; loss-makers out.

What it models (model.md §6.9)
    Entrants per technology and year ``~ Poisson(ν · n_t · (1 + max(0, π̄_t)) · ē)``,
    private, with ``c = c_best − Exponential(0.5)``; ``π̄_t`` is the technology's mean
    profit rate and ``ē`` the GDP-weighted pilot-zone multiplier
    ``1 + ε_pilot · z_p · (1 − χ)``. A share ``ρ_ret(y) = ρ_ret0 · (1 − d(y))`` of entrants
    are returnees, who bring foreign practice (a smaller gap below the best, judged); the rest
    are entrepreneurs. Academic spin-offs per field
    ``~ Poisson(ν_spin · ω · n_t · Σ_{k∈t} a_k o_k / o_ref,t)``, with capability near the
    best, closer where more usable knowledge exists. Private firms exit after
    ``loss_streak ≥ 3`` loss-making years; SOEs never exit (soft budget: their losses go to
    debt in the macro step). Entrants' provinces are drawn ∝ GDP share × pilot multiplier.

Super-individuals: counts are of real firms (agent weights summed); in an aggregated
technology, entrants and spin-offs arrive as agents of the technology's entrant weight
``w_t`` (``Poisson(expected / w_t)`` agents), so expected real entry is unchanged.

Differences from the shared specification: the entry rate is per incumbent
(``ν · max(n_t, 1)``, so an emptied technology can be re-entered)
so that results do not depend on how many firms represent the economy; ``c_best`` is the
best capability the technology has reached (kept when all its firms have exited).

State read: firms, ``macro.decoupling``, ``macro.centralisation``, institutions' aligned output.
State written: appends and removes firms (order by technology restored);
``technologies.entries``, ``exits``, ``best_capability``; firm ``age``.

Brief: returnees and entrepreneurs behind solar, batteries, EVs and drones; patent
ownership for inventors to make state researchers entrepreneurial; loss of local
experimentation (pilot zones) under centralisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nswn.core import segments
from nswn.core.model import Context, SimulationError
from nswn.core.params import param
from nswn.core.state import (
    FOUNDER_ENTREPRENEUR,
    FOUNDER_RETURNEE,
    FOUNDER_SPINOFF,
    State,
    firm_rows,
)
from nswn.instruments.patent_reform import PatentReformParams
from nswn.kernels import compiled as kernels_compiled
from nswn.kernels import ops
from nswn.mechanisms import attribution


@dataclass(frozen=True)
class EntryExitParams:
    """Firm demography."""

    entry_rate: float = param(0.03, lo=0.0, hi=1.0, unit="entrants per incumbent per yr", doc="ν")
    entrant_gap: float = param(
        0.5,
        lo=0.01,
        hi=3.0,
        unit="log capability",
        doc="Mean gap of an entrant below the technology's best",
    )
    returnee_share: float = param(
        0.15,
        lo=0.0,
        hi=1.0,
        unit="share of entrants",
        doc="ρ_ret0, returnee share of entrants before decoupling",
    )
    returnee_gap: float = param(
        0.25,
        lo=0.01,
        hi=3.0,
        unit="log capability",
        doc="Mean gap of a returnee entrant below the best (judged: foreign practice)",
    )
    spinoff_rate: float = param(0.01, lo=0.0, hi=1.0, unit="per incumbent per yr at ω=1", doc="ν_spin")
    entrant_share: float = param(
        0.1,
        lo=0.0,
        hi=1.0,
        unit="× mean Chinese share",
        doc="Market share an entrant starts with, relative to the mean firm",
    )
    exit_after: int = param(3, lo=1, hi=20, unit="years", doc="Loss-making years before a private firm exits")


class EntryExit:
    """Firm entry, spin-offs and exit."""

    name = "entry_exit"

    def __init__(
        self, params: EntryExitParams, patents: PatentReformParams, pilot_boost: float, max_firms: int = 200_000_000
    ) -> None:
        self.params = params
        self.patents = patents
        self.pilot_boost = pilot_boost
        self.max_firms = max_firms

    def step(self, state: State, ctx: Context) -> None:
        firms, tech, p = state.firms, state.technologies, self.params
        n_tech = len(tech)
        rng = ctx.rng
        t = firms.technology
        bounds = state.technology_bounds()
        # compiled: every per-technology total below in one pass over the sorted firms
        fused = ops.demography_totals(
            bounds,
            firms.weight,
            firms.capability,
            firms.soe,
            firms.loss_streak,
            p.exit_after,
            firms.revenue,
            firms.profit,
        )
        if fused is not None:
            count, best, tech.exits, revenue, profit, leaving = fused
        else:
            count = segments.group_sum(firms.weight, t, n_tech)  # real firms
            best = segments.group_max(firms.capability, t, n_tech)
        mark = best.copy()  # instrumentation (mechanisms.attribution): best before exit and entry
        tech.best_capability = np.where(np.isfinite(best), np.maximum(best, tech.best_capability), tech.best_capability)

        # who leaves is decided on this year's accounts; entry is driven by the same year's
        # incumbents (leavers included) and the new firms join after the leavers are removed
        if fused is None:
            leaving = (~firms.soe) & (firms.loss_streak >= p.exit_after)
            tech.exits = segments.group_sum(leaving * firms.weight, t, n_tech)
            revenue = segments.group_sum(firms.revenue, t, n_tech)
            profit = segments.group_sum(firms.profit, t, n_tech)
        rate = np.divide(profit, revenue, out=np.zeros(n_tech), where=revenue > 0)
        pilot = 1.0 + self.pilot_boost * state.provinces.pilot_intensity * (1.0 - state.macro.centralisation)
        province_weights = state.provinces.gdp_share * pilot
        mean_pilot = float(province_weights.sum())
        expected = p.entry_rate * np.maximum(count, 1) * (1.0 + np.maximum(0.0, rate)) * mean_pilot
        expected = expected * tech.simulated
        # real entrants are represented by agents of the technology's entrant weight
        entrants = rng.poisson(expected / tech.entrant_weight)

        aligned = segments.group_sum(
            state.institutions.alignment * state.institutions.output,
            state.institutions.field,
            n_tech,
        )
        relative = np.divide(
            aligned,
            tech.research_reference,
            out=np.zeros(n_tech),
            where=tech.research_reference > 0,
        )
        spin_expected = p.spinoff_rate * self.patents.inventor_share * np.maximum(count, 1) * relative
        spinoffs = rng.poisson(spin_expected * tech.simulated / tech.entrant_weight)

        n_new = int(entrants.sum() + spinoffs.sum())
        if bounds is not None and kernels_compiled():
            # one compaction: leavers out, entrants in, already in technology order
            kept = np.flatnonzero(~leaving)
            kept_t = t[kept]
            after_exit = ops.group_max(firms.capability[kept], kept_t, n_tech)
            mark = attribution.note_turnover(state, "exit", mark, after_exit)
            self._check_size(state, len(kept) + n_new)
            tech.entries = (entrants + spinoffs) * tech.entrant_weight
            rows = None
            if n_new:
                rows = self._rows(
                    state,
                    rng,
                    entrants,
                    spinoffs,
                    province_weights / mean_pilot,
                    firms.share[kept],
                    firms.weight[kept],
                    kept_t,
                )
            columns, new_bounds = ops.rebuild_sorted(
                firms.arrays(), kept, kept_t, rows, [entrants, spinoffs], n_tech, bump="age"
            )
            for name, values in columns.items():
                setattr(firms, name, values)
            state.set_technology_bounds(new_bounds)
        else:
            firms.take(~leaving)
            mark = attribution.note_turnover(state, "exit", mark)
            firms.age += 1
            self._check_size(state, len(firms) + n_new)
            tech.entries = (entrants + spinoffs) * tech.entrant_weight
            if n_new:
                firms.extend(
                    self._rows(
                        state,
                        rng,
                        entrants,
                        spinoffs,
                        province_weights / mean_pilot,
                        firms.share,
                        firms.weight,
                        firms.technology,
                    )
                )
        # leavers' shares go and entrants' come: renormalise Chinese plus foreign shares to one
        total = segments.group_sum(firms.share, firms.technology, n_tech) + tech.foreign_share
        safe = np.where(total > 0, total, 1.0)
        firms.share = firms.share / safe[firms.technology]
        tech.foreign_share = tech.foreign_share / safe
        if not (bounds is not None and kernels_compiled()):
            state.sort_firms()
        attribution.note_turnover(state, "entry", mark)

    def _check_size(self, state: State, n: int) -> None:
        if n > self.max_firms:
            raise SimulationError(
                f"in {state.year} the firm population would reach {n:,}, more than the limit of "
                f"{self.max_firms:,} (20 × the start); lower assumptions.entry_exit.entry_rate or spinoff_rate"
            )

    def _rows(
        self,
        state: State,
        rng: np.random.Generator,
        entrants: np.ndarray,
        spinoffs: np.ndarray,
        province_p: np.ndarray,
        share: np.ndarray,
        weight: np.ndarray,
        technology: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """The new firm rows (entrants, then spin-offs, each block by technology), given the
        staying firms' ``share``, ``weight`` and ``technology``."""
        tech, p = state.technologies, self.params
        n_entrants, n_spin = int(entrants.sum()), int(spinoffs.sum())
        tech_of = np.concatenate(
            [np.repeat(np.arange(len(tech)), entrants), np.repeat(np.arange(len(tech)), spinoffs)]
        ).astype(np.int32)
        returnee_p = p.returnee_share * (1.0 - state.macro.decoupling)
        is_returnee = np.concatenate([rng.random(n_entrants) < returnee_p, np.zeros(n_spin, dtype=bool)])
        founder = np.where(is_returnee, FOUNDER_RETURNEE, FOUNDER_ENTREPRENEUR)
        founder[n_entrants:] = FOUNDER_SPINOFF
        ratio = np.minimum(1.0, tech.knowledge / tech.knowledge_required)[tech_of]
        scale = np.where(is_returnee, p.returnee_gap, p.entrant_gap)
        scale[n_entrants:] = p.entrant_gap / (1.0 + ratio[n_entrants:])
        capability = tech.best_capability[tech_of] - rng.exponential(1.0, len(tech_of)) * scale
        province = rng.choice(len(province_p), size=len(tech_of), p=province_p)

        china_share = segments.group_sum(share, technology, len(tech))
        count = np.maximum(segments.group_sum(weight, technology, len(tech)), 1.0)
        start_share = p.entrant_share * np.where(china_share > 0, china_share / count, 1e-3) * tech.entrant_weight
        return firm_rows(
            len(tech_of),
            technology=tech_of,
            province=province,
            founder=founder,
            capability=capability,
            share=start_share[tech_of],
            weight=tech.entrant_weight[tech_of],
        )
