"""Initialisation: the start-year state built from the catalog (model.md §5).

* Firms are spread over simulated technologies ∝ ``D0`` (largest remainder, at least
  ``min_firms_per_technology`` each) and over provinces ∝ GDP share; SOE share by group.
* The best firm of each technology has ``c = ln R0``; the others ``ln R0 − Exponential(spread)``.
* Chinese firms start with ``experience_years`` of output behind them (from provisional
  shares ∝ ``exp(σ_c c)``), then share the catalog's Chinese part of the market
  (``1 − foreign_share0``) ∝ their competitiveness ``E_i`` — the logit rest point.
* Closures, so that the start year reproduces the catalog and ``macro.csv`` exactly:
  the foreign competitor's appeal in China is set so that its logit share equals the
  catalog's 2024 foreign share (with ``share_dynamics: replicator``: so that its
  competitiveness equals the Chinese firms' share-weighted mean), before controls; its
  weight abroad so that China's start-year world share is the catalog's ``world_share0``
  (with the friction that share provokes; afterwards the home-market effect moves the
  weight, ``markets.home_market_shift``); the
  traditional sector's value added is manufacturing value added minus the firms' value
  added, so the 2024 manufacturing share is the sourced one.
* Institutions are spread over fields ∝ ``science_intensity × D0`` (at least
  ``min_institutions_per_field`` each), type by the mix below, quality lognormal with mean 1,
  alignment by type. Usable knowledge starts at the steady state of a reference funding —
  the default central budget (0.5 % of GDP) as block grants, the same in every scenario —
  without controls, and the knowledge a firm needs, ``U_req``, is that same level, so the
  gate starts at ``τ`` in every scenario.
* The start year's flows (funding by instrument, subsidies, papers, patents) are the
  scenario's own: ``scenario.build.build_model`` runs the central and local allocation and
  the research output once on the start state, without changing knowledge or capability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nswn.core import segments
from nswn.core.ledger import Ledger
from nswn.core.params import param
from nswn.core.state import (
    GROUPS,
    Firms,
    Institutions,
    Macro,
    Provinces,
    State,
    Technologies,
    firm_rows,
)
from nswn.mechanisms import environment, markets
from nswn.mechanisms.central_budget import CentralBudgetParams
from nswn.mechanisms.innovation import InnovationParams, rd_spend
from nswn.mechanisms.macro import strategic_demand_value_added, strategic_productivity
from nswn.mechanisms.research import ResearchParams, research_output

STRANGLEHOLD = GROUPS.index("stranglehold")


@dataclass(frozen=True)
class InitialParams:
    """How the start-year population is drawn."""

    soe_share_stranglehold: float = param(
        0.4, lo=0.0, hi=1.0, unit="share", doc="SOE share of firms in stranglehold areas"
    )
    soe_share_other: float = param(0.15, lo=0.0, hi=1.0, unit="share", doc="SOE share of firms elsewhere")
    capability_spread: float = param(
        0.3,
        lo=0.0,
        hi=3.0,
        unit="log capability",
        doc="Mean gap of a firm below its technology's best at the start",
    )
    min_firms_per_technology: int = param(
        20,
        lo=1,
        hi=10000,
        unit="firms",
        doc="Technologies with at most this many real firms are simulated one agent per firm; larger ones get at "
        "least this many agents",
    )
    min_institutions_per_field: int = param(
        2, lo=1, hi=1000, unit="institutions", doc="Floor of institutions per field"
    )
    share_university: float = param(0.6, lo=0.0, hi=1.0, unit="share", doc="Universities among institutions")
    share_public_institute: float = param(0.25, lo=0.0, hi=1.0, unit="share", doc="Public (CAS-like) institutes")
    share_new_rd_institute: float = param(0.05, lo=0.0, hi=1.0, unit="share", doc="New R&D institutes")
    share_military_institute: float = param(0.1, lo=0.0, hi=1.0, unit="share", doc="Military research institutes")
    alignment_university: float = param(
        0.10, lo=0.0, hi=1.0, unit="share", doc="Industry alignment a_k of universities"
    )
    alignment_public_institute: float = param(0.20, lo=0.0, hi=1.0, unit="share", doc="a_k of public institutes")
    alignment_new_rd_institute: float = param(0.55, lo=0.0, hi=1.0, unit="share", doc="a_k of new R&D institutes")
    alignment_military_institute: float = param(0.25, lo=0.0, hi=1.0, unit="share", doc="a_k of military institutes")
    quality_sd: float = param(0.5, lo=0.0, hi=3.0, unit="log sd", doc="Dispersion of institution quality")

    def problems(self) -> list[tuple[str, str]]:
        """Cross-field constraints: (field, message) pairs, empty when valid."""
        mix = self.type_mix().sum()
        if abs(mix - 1.0) > 1e-6:
            return [
                (
                    "share_university",
                    f"institution type shares must sum to 1 (they sum to {mix:.4f})",
                )
            ]
        return []

    def type_mix(self) -> np.ndarray:
        return np.array(
            [
                self.share_university,
                self.share_public_institute,
                self.share_new_rd_institute,
                self.share_military_institute,
            ]
        )

    def alignments(self) -> np.ndarray:
        return np.array(
            [
                self.alignment_university,
                self.alignment_public_institute,
                self.alignment_new_rd_institute,
                self.alignment_military_institute,
            ]
        )


@dataclass(frozen=True)
class StartMacro:
    """Sourced macro starting values (bn CNY and ratios), from the catalog's macro.csv."""

    gdp: float
    manufacturing_value_added: float
    services_share: float
    debt_to_gdp: float
    price_level: float = 1.0  # GDP deflator relative to 2024 (nominal / real GDP)
    gerd_share: float = 0.0  # GERD / GDP (R&D statistics); 0: no closure
    basic_research_share: float = 0.0  # basic research / GERD; 0: no closure
    # labour-intensive segments' share of manufacturing value added; 1: the whole traditional
    # aggregate is exposed to the labour-cost drag (the rule before the labour-intensive split)
    labour_intensive_share: float = 1.0


@dataclass(frozen=True)
class InitialSettings:
    """Everything initialisation needs besides the catalog arrays."""

    firms: int
    institutions: int
    start_year: int
    initial: InitialParams
    environment: environment.EnvironmentParams
    controls: environment.ExportControlParams
    markets: markets.MarketParams
    innovation: InnovationParams
    research: ResearchParams
    centralisation: float
    instruments: tuple[str, ...]
    trade_defence: environment.TradeDefenceParams = environment.TradeDefenceParams()


class InitialisationError(ValueError):
    """The catalog and settings cannot produce a consistent start state."""


def allocate_counts(total: int, weights: np.ndarray, floor: int) -> np.ndarray:
    """Split ``total`` into integers ∝ ``weights`` (largest remainder), each ≥ ``floor``."""
    k = len(weights)
    floor = min(floor, max(total // max(k, 1), 1))
    rest = max(total - floor * k, 0)
    exact = rest * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    remainder = rest - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:remainder]] += 1
    return counts + floor


def agent_counts(firms_real: np.ndarray, simulated: np.ndarray, agents: int, floor: int) -> tuple[np.ndarray, float]:
    """Agents per technology for a budget of ``agents``, and the resolution it gives.

    The resolution ``r = min(1, agents / Σ firms_real)`` is the share of the real firm
    population simulated one agent per firm. A technology with at most ``floor`` real
    firms is always simulated one agent per firm; a larger one gets
    ``min(n_real, max(floor, ⌈r · n_real⌉))`` agents.

    Parameters
    ----------
    firms_real : array, shape (n_technologies,)
        Chinese firms competing in each market (catalog ``firms_real.csv``).
    simulated : bool array, shape (n_technologies,)
        Technologies that have firms (not the traditional aggregate).
    agents : int
        The agent budget (the scenario's ``firms``).
    floor : int
        Technologies with at most this many real firms are never aggregated.

    Returns
    -------
    counts : int array, shape (n_technologies,)
    resolution : float, in (0, 1]
    """
    real = np.where(simulated, np.round(firms_real), 0).astype(np.int64)
    resolution = min(1.0, agents / max(int(real.sum()), 1))
    scaled = np.maximum(max(floor, 2), np.ceil(resolution * real - 1e-9)).astype(np.int64)
    counts = np.where(real <= floor, real, np.minimum(real, scaled))
    return counts, resolution


def _population(
    real: np.ndarray, counts: np.ndarray, spread: float, gaps: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Capability gaps below the best, weights and entrant weights, agent by agent.

    A technology simulated one agent per firm: the best firm has gap 0, the others
    ``spread · Exponential(1)`` (the specification's rule). An aggregated one (fewer agents
    ``a`` than real firms ``n``): its best ``k = ⌈a/2⌉`` firms are individual agents whose gaps
    are the ``k − 1`` smallest of ``n − 1`` exponential gaps (exact order statistics, Rényi's
    representation); the other ``n − k`` firms are split into ``a − k`` equal
    super-individuals (weight ``(n − k)/(a − k)``) that sit at the expected gap of the middle
    rank they stand for, ``spread · ln((n − 1)/(n − 1 − m))``. The loop runs over
    technologies, not firms.
    """
    n_agents = int(counts.sum())
    gap = np.zeros(n_agents)
    weight = np.ones(n_agents)
    entrant_weight = np.ones(len(counts))
    start = 0
    for t in np.flatnonzero(counts):
        a, n = int(counts[t]), int(real[t])
        draws = gaps[start : start + a]
        if a == n:
            gap[start + 1 : start + a] = spread * draws[1:]
        else:
            k = (a + 1) // 2
            ranks = np.arange(1, k)
            gap[start + 1 : start + k] = spread * np.cumsum(draws[1:k] / (n - ranks))
            w = (n - k) / (a - k)
            middle = (k - 1) + (np.arange(a - k) + 0.5) * w
            gap[start + k : start + a] = spread * np.log((n - 1) / (n - 1 - middle))
            weight[start + k : start + a] = w
            entrant_weight[t] = w
        start += a
    return gap, weight, entrant_weight


def initial_state(
    tech: Technologies,
    provinces: Provinces,
    start: StartMacro,
    settings: InitialSettings,
    rng: np.random.Generator,
) -> State:
    """Build the start-year state (recorded as ``start_year``).

    The firm population is the catalog's real one (``firms_real``), represented at the
    resolution that ``settings.firms`` agents allow (see :func:`agent_counts`).
    """
    init = settings.initial
    n_tech = len(tech)
    counts, _ = agent_counts(tech.firms_real, tech.simulated, settings.firms, init.min_firms_per_technology)
    real = np.where(tech.simulated, np.round(tech.firms_real), 0).astype(np.int64)
    n = int(counts.sum())
    technology = np.repeat(np.arange(n_tech), counts).astype(np.int32)

    # one draw per agent and purpose, in a fixed order
    province = rng.choice(len(provinces), size=n, p=provinces.gdp_share)
    soe_p = np.where(tech.group == STRANGLEHOLD, init.soe_share_stranglehold, init.soe_share_other)
    soe = rng.random(n) < soe_p[technology]
    gap, weight, entrant_weight = _population(real, counts, init.capability_spread, rng.exponential(1.0, n))
    capability = np.log(tech.rel_capability0)[technology] - gap
    tech.entrant_weight = entrant_weight

    firms = Firms.empty()
    firms.extend(firm_rows(n, technology=technology, province=province, soe=soe, capability=capability, weight=weight))

    institutions = _institutions(tech, settings, rng)
    ledger = Ledger(settings.instruments, n_tech)
    macro = Macro(
        gdp=start.gdp,
        va_traditional=0.0,
        va_strategic=0.0,
        va_services=start.services_share * start.gdp,
        va_other=0.0,
        debt=start.debt_to_gdp * start.gdp * start.price_level,  # nominal stock
        price_level=start.price_level,
    )
    state = State(
        year=settings.start_year,
        start_year=settings.start_year,
        technologies=tech,
        firms=firms,
        institutions=institutions,
        provinces=provinces,
        macro=macro,
        ledger=ledger,
    )
    _technology_state(state, settings)
    _markets(state, settings)
    _knowledge(state, settings)
    _macro(state, start)
    return state


def _institutions(tech: Technologies, settings: InitialSettings, rng: np.random.Generator) -> Institutions:
    init = settings.initial
    simulated = np.flatnonzero(tech.simulated)
    weights = tech.science_intensity[simulated] * tech.demand0[simulated] + 1e-12
    counts = np.zeros(len(tech), dtype=np.int64)
    counts[simulated] = allocate_counts(settings.institutions, weights, init.min_institutions_per_field)
    k = int(counts.sum())
    field = np.repeat(np.arange(len(tech)), counts).astype(np.int32)
    kind = rng.choice(4, size=k, p=init.type_mix()).astype(np.int8)
    sd = init.quality_sd
    quality = np.exp(sd * rng.standard_normal(k) - 0.5 * sd * sd)
    zeros = np.zeros(k)
    return Institutions(
        kind=kind,
        field=field,
        quality=quality,
        alignment=init.alignments()[kind],
        funding=zeros.copy(),
        output=zeros.copy(),
        publications=zeros.copy(),
        patents=zeros.copy(),
    )


def _technology_state(state: State, settings: InitialSettings) -> None:
    tech = state.technologies
    n = len(tech)
    tech.frontier = np.zeros(n)
    tech.demand = tech.demand0.copy()
    tech.world_demand = tech.world_demand0.copy()
    tech.priority = np.zeros(n)
    tech.foreign_share = tech.foreign_share0.copy()
    tech.transfer_bonus = np.zeros(n)
    tech.entries = np.zeros(n)
    tech.exits = np.zeros(n)
    tech.friction = np.zeros(n)
    environment.apply_access(state, settings.environment, settings.controls)
    state.macro.centralisation = settings.centralisation
    best = segments.group_max(state.firms.capability, state.firms.technology, n)
    tech.best_capability = np.where(np.isfinite(best), best, np.log(tech.rel_capability0))


def _calibrate_under_measures(
    state: State,
    settings: InitialSettings,
    log_c_w: np.ndarray,
    ws0: np.ndarray,
    friction0: np.ndarray,
    nascent: np.ndarray,
) -> None:
    """Armington weight abroad of technologies taxed by trade-defence measures in force in the
    start year: the catalog's start-year world share already reflects them, so the weight is
    the one at which :func:`markets.tariff_equilibrium` reproduces that share (the lead from
    :func:`markets.calibrated_lead`; without measures the closed form above is that lead)."""
    defence = settings.trade_defence
    if not defence.measures:
        return
    tech, mp = state.technologies, settings.markets
    coverage, tariff = environment.tariff_segments(defence, tech.ids, state.year)
    taxed = np.any((coverage > 0) & (tariff > 0), axis=1) & ~nascent & np.isfinite(log_c_w)
    if not taxed.any():
        return
    lead = markets.calibrated_lead(
        ws0[taxed], coverage[taxed], markets.tariff_wedge(mp, tariff[taxed]), friction0[taxed]
    )
    foreign = mp.export_elasticity * markets.foreign_log_competitiveness(state, mp)
    tech.foreign_log_weight[taxed] = log_c_w[taxed] - foreign[taxed] - lead


def _markets(state: State, settings: InitialSettings) -> None:
    firms, tech, mp = state.firms, state.technologies, settings.markets
    n_tech = len(tech)
    t = firms.technology
    log_weight = np.log(firms.weight)
    firms.share = segments.group_softmax(mp.capability_weight * firms.capability + log_weight, t, n_tech) * (
        1.0 - tech.foreign_share0[t]
    )
    # experience: output history from domestic sales and a pro-rata guess of exports
    china_total = segments.group_sum(firms.share, t, n_tech)
    guess = firms.share * tech.demand0[t] + tech.world_demand0[t] * tech.world_share0[t] * np.divide(
        firms.share, china_total[t], out=np.zeros(len(firms)), where=china_total[t] > 0
    )
    tech.output_scale = np.maximum(tech.demand0 + tech.world_demand0, 1e-9)
    firms.output = mp.experience_years * guess
    tech.china_output = segments.group_sum(firms.output, t, n_tech)
    foreign_start = tech.foreign_share0 * tech.demand0 + tech.world_demand0 * (1.0 - tech.world_share0)
    tech.foreign_output = mp.experience_years * foreign_start

    # Chinese shares at the logit rest point (∝ E_i, with costs from this experience)
    log_e = markets.log_competitiveness(state, mp)
    firms.share = segments.group_softmax(log_e + log_weight, t, n_tech) * (1.0 - tech.foreign_share0[t])
    foreign = markets.foreign_log_competitiveness(state, mp)
    if mp.share_dynamics == "logit":
        # E^f · appeal / (Σ E_i + E^f · appeal) = foreign_share0
        log_we = log_e + log_weight
        peak = segments.group_max(log_we, t, n_tech)
        with np.errstate(divide="ignore"):
            log_sum = np.log(segments.group_sum(np.exp(log_we - peak[t]), t, n_tech)) + peak
        f0 = np.clip(tech.foreign_share0, 1e-9, 1 - 1e-9)
        target = log_sum + np.log(f0) - np.log1p(-f0)
    else:
        # the replicator's aggregate resting point: E^f · appeal = share-weighted mean of E_i
        target, _, _ = markets.china_composite(state, log_e, 1.0)
    tech.foreign_log_appeal = np.where(np.isfinite(target), target - foreign, 0.0)
    log_c_w, _, _ = markets.china_composite(state, log_e, mp.export_elasticity)
    ws0 = np.clip(tech.world_share0, 1e-6, 1 - 1e-6)
    friction0 = mp.friction_slope * np.maximum(0.0, ws0 - mp.friction_threshold)
    # Zero trade at calibration (world_share0 = 0) leaves the Armington weight unidentified:
    # an odds ratio calibrated on the floor 1e-6 is a ~14 log-unit handicap that no later
    # change can undo ("small shares stay small", Kuiper & van Tongeren 2006). Where a
    # market existed and China sold nothing abroad (HSR, nuclear, aircraft in 2006) that
    # zero is an observation and the floor is kept; where the market itself did not exist
    # yet (nascent: start-year market below ``nascent_market``) there was no trade to
    # observe, so the weight is neutral (ln ω_f = 0) and the firms' competitiveness alone
    # sets the first exports (docs/model.md §12.2).
    nascent = (tech.world_share0 <= 0.0) & (tech.demand0 + tech.world_demand0 < mp.nascent_market)
    tech.foreign_log_weight = np.where(
        nascent,
        0.0,
        np.where(
            np.isfinite(log_c_w),
            log_c_w
            + np.log1p(-ws0)
            - np.log(ws0)
            - np.log1p(friction0)
            - mp.export_elasticity * markets.foreign_log_competitiveness(state, mp),
            0.0,
        ),
    )
    _calibrate_under_measures(state, settings, log_c_w, ws0, friction0, nascent)
    tech.world_share = ws0.copy()
    markets.trade(state, mp, log_e, settings.trade_defence)
    firms.revenue = firms.share * tech.demand[t] + firms.exports
    # fixed cost of one real firm: a share of the mean firm's gross margin
    real_count = segments.group_sum(firms.weight, t, n_tech)
    mean_revenue = np.divide(
        segments.group_sum(firms.revenue, t, n_tech), real_count, out=np.zeros(n_tech), where=real_count > 0
    )
    tech.fixed_cost0 = mp.fixed_cost_share * tech.margin * mean_revenue
    firms.profit = tech.margin[t] * firms.revenue - tech.fixed_cost0[t] * firms.weight
    state.macro.labour_cost = markets.labour_cost(mp, state)

    rd = rd_spend(state, settings.innovation)
    firms.rd = rd
    bounds = segments.segment_bounds(t, n_tech)
    # the share-weighted median: the firm at which half of the market is reached, so that a
    # typical producer (not the typical tiny firm) starts with absorptive capacity ≈ 0.5
    median = segments.segment_weighted_median(rd / firms.weight, firms.share, bounds)
    tech.rd_half0 = np.where(np.isfinite(median) & (median > 0), median, 1e-9)


def _knowledge(state: State, settings: InitialSettings) -> None:
    tech, inst = state.technologies, state.institutions
    n_tech = len(tech)
    rp = settings.research
    # a fixed reference (the default central budget as block grants), the same in every
    # scenario, so that the knowledge firms need does not move with the levers
    reference = CentralBudgetParams()
    weights = tech.simulated * np.power(tech.demand0, reference.allocation_exponent)
    budget = reference.share_of_gdp * state.macro.gdp * weights / weights.sum()
    funding = budget[inst.field] * segments.group_share(inst.quality, inst.field, n_tech)
    output = research_output(inst.quality, funding, rp.elasticity)
    aligned = segments.group_sum(inst.alignment * output, inst.field, n_tech)
    tech.research_reference = aligned
    # provisional start-year flows; build_model replaces them with the scenario's own
    count = segments.group_count(inst.field, n_tech)
    tech.reference_funding = np.divide(
        segments.group_sum(funding, inst.field, n_tech), count, out=np.zeros(n_tech), where=count > 0
    )
    # the start year's research flows are the reference ones (recorded for 2024)
    inst.funding = funding
    inst.output = output
    inst.publications = rp.publications_per_output * output
    inst.patents = rp.patents_by_kind()[inst.kind] * output
    inflow = aligned * (1.0 + rp.international_knowledge * (1.0 - state.macro.decoupling))
    steady = inflow / max(rp.knowledge_depreciation, 1e-9)
    tech.knowledge_required = np.where(steady > 0, steady, 1.0)
    tech.knowledge = tech.knowledge_required.copy()


def rd_closures(state: State, start: StartMacro) -> None:
    """Compare R&D like with like (model.md §5, issue 11 item 4c).

    Called on the start state after the scenario's opening flows (``scenario.build``), like
    the traditional-sector closure: every scenario starts at the sourced GERD/GDP and
    basic-research share, and policy shows in how they move from there.

    The model's R&D (firms' R&D and institutions' funding) covers only the modelled
    industries; national GERD also covers the rest of the economy. The rest's R&D intensity
    is ``(g0 · GDP − RD_ref) / (GDP − VA_strat)``, held constant. Basic research as the
    statistics count it is a fixed share of knowledge institutions' research funding,
    ``b0 · g0 · GDP / F0`` (at most 1; ``F0`` their start-year funding): not every yuan an
    institution receives is basic research in the statistical sense.
    """
    m = state.macro
    if start.gerd_share <= 0:
        return
    modelled = float(state.firms.rd.sum() + state.institutions.funding.sum())
    gerd = start.gerd_share * m.gdp
    m.rd_rest_intensity = max(gerd - modelled, 0.0) / max(m.gdp - m.va_strategic, 1e-9)
    funding = float(state.institutions.funding.sum())
    basic = start.basic_research_share * gerd
    m.basic_research_statistical_share = min(1.0, basic / funding) if funding > 0 else 0.0


def _macro(state: State, start: StartMacro) -> None:
    m, tech, firms = state.macro, state.technologies, state.firms
    m.va_strategic = float((tech.value_added_ratio[firms.technology] * firms.revenue).sum())
    m.va_traditional = start.manufacturing_value_added - m.va_strategic
    if m.va_traditional <= 0:
        raise InitialisationError(
            f"the catalog's strategic industries add {m.va_strategic:,.0f} bn CNY of value added, more than "
            f"all manufacturing ({start.manufacturing_value_added:,.0f}); lower demand0 or value_added_ratio"
        )
    m.va_other = start.gdp - start.manufacturing_value_added - m.va_services
    # the labour-intensive segments all lie in the traditional aggregate (none is a modelled industry)
    m.va_labour_intensive = min(start.labour_intensive_share * start.manufacturing_value_added, m.va_traditional)
    m.strategic_demand_va = strategic_demand_value_added(state)
    m.strategic_productivity0 = strategic_productivity(state)
    m.tfp_index = 1.0
