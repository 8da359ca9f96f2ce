"""Macro economy and the modernised industrial base.

What it models (model.md §6.10)
    Traditional manufacturing value added (aggregate of steel, coal, textiles, …) follows the
    demand for its goods, which grows with real income at income elasticity ``η``:
    ``VA_trad ← VA_trad (1 + η g_Y + g_trad + u · upgrade − ε_w g_w λ (1 − keep))`` with ``g_Y``
    this year's real GDP growth (solved jointly with GDP, :func:`traditional_and_gdp`);
    ``upgrade`` is the upgrading subsidy as a share of ``VA_trad``; ``keep`` ∈ [0,1] the policy
    of refusing to outsource labour-intensive segments, whose cost ``keep · ε_w g_w λ VA_trad ·
    c_keep`` is paid by subsidies. Rising labour costs relocate only the labour-intensive
    segments (textiles, apparel, leather and footwear: ``λ`` = their share of ``VA_trad``,
    started from the vintage's ``labour_intensive_share`` of manufacturing value added, UNIDO
    via World Bank WDI NV.MNF.TXTL.ZS.UN); the segments bear the drag ``ε_w g_w`` themselves,
    so ``λ`` shrinks as they relocate. The drag is the only relocation term: ``η`` applies to
    income, not to an observed manufacturing path, so relocation is not counted twice. The
    modelled industries' home markets are part of the demand for manufactures (share ``χ``):
    ``VA_trad + χ Σ_t v_t D_t`` grows with income, so a market growing faster than income
    displaces traditional manufactures (:func:`traditional_and_gdp`; docs/model.md §12.1).
    Strategic manufacturing value added is the sum of firms' value added; services and the
    rest of the economy grow at ``g_serv`` and ``g_other``.
    ``GDP = VA_trad + VA_strat + VA_serv + VA_other``; the manufacturing share is
    ``(VA_trad + VA_strat) / GDP``.

    Prices and debt: GDP is real (2024 prices); the GDP deflator ``P`` (1 in 2024) grows at
    ``π`` a year, and debt is a **nominal** stock (bn CNY at current prices). It rises by the
    borrowed parts of central and local S&T spending, SOE losses (soft budgets), the
    keep/upgrade subsidies (all real flows, times ``P``) and new credit to the rest of the
    economy ``κ_credit · P · GDP`` (a share of nominal GDP, PBoC total social financing);
    debt/GDP is ``debt / (P · GDP)``. Manufacturing's price relative to the deflator,
    ``p_m`` (1 at the start), grows at ``π_m``; the nominal manufacturing share that statistics
    report is the real share times ``p_m`` (value added is real, at start-year relative prices).

    R&D outside the modelled industries: its intensity (R&D / value added, set at the start by
    ``initialisation.rd_closures``) rises with real income, ``ρ ← ρ (Y / Y₋₁)^ε_RD`` — R&D effort
    rises with the level of development across countries (Lederman and Maloney 2003).

    TFP index (start = 1): the value-added-weighted mean of ``exp(c_i − F_t)`` over firms —
    productivity relative to the foreign frontier, so it rises only with catch-up — relative
    to its start value, and the traditional sector's productivity index, the two weighted by
    current value added.

State read: firms' revenue and capability; budgets; SOE losses.
State written: ``macro`` (all value-added components, GDP, debt, productivity, TFP).
Ledger: credits ``industrial_policy`` and books ``keep_manufacturing`` and
``upgrade_traditional`` to the traditional sector.

Brief: the sections on the modernised industrial base — upgrading rather than pushing out
low-grade industries, refusing to outsource, and the share held up at the cost of debt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nswn.core.model import Context, SimulationError
from nswn.core.params import param
from nswn.core.state import State
from nswn.instruments.keep_manufacturing import KeepManufacturingParams, keep_subsidy
from nswn.instruments.upgrade_traditional import UpgradeTraditionalParams


@dataclass(frozen=True)
class MacroParams:
    """Assumptions about the aggregate economy."""

    traditional_growth: float = param(
        0.0,
        lo=-0.1,
        hi=0.2,
        unit="1/yr",
        doc="g_trad, traditional VA growth beyond income-driven demand, before the labour-cost drag",
    )
    income_elasticity: float = param(
        1.0,
        lo=0.0,
        hi=2.0,
        unit="growth per unit of real GDP growth",
        doc="η, income elasticity of demand for manufactures (1: demand grows with income)",
    )
    strategic_substitution: float = param(
        1.0,
        lo=0.0,
        hi=1.0,
        unit="share",
        doc="χ, share of the modelled industries' home demand that is part of the income-driven demand for "
        "manufactures, so that its growth beyond income displaces traditional manufactures (1: EVs replace "
        "combustion cars; 0: their markets add to it, the rule before the 2006-2024 hindcast)",
    )
    labour_cost_elasticity: float = param(1.0, lo=0.0, hi=5.0, unit="×", doc="ε_w, drag per unit of g_w")
    upgrade_return: float = param(
        0.5,
        lo=0.0,
        hi=5.0,
        unit="growth per subsidy share",
        doc="u, growth bought by an upgrading subsidy",
    )
    keep_cost: float = param(1.0, lo=0.0, hi=5.0, unit="×", doc="c_keep, subsidy per unit of decline refused")
    services_growth: float = param(0.04, lo=-0.1, hi=0.2, unit="1/yr", doc="g_serv")
    other_growth: float = param(0.025, lo=-0.1, hi=0.2, unit="1/yr", doc="g_other (agriculture, construction, …)")
    credit_growth: float = param(
        0.239,
        lo=0.0,
        hi=1.0,
        unit="share of nominal GDP/yr",
        basis="sourced",
        doc="κ_credit, new credit to the economy per year (2024: TSF flow 32.26 trn / GDP 134.9 trn CNY)",
    )
    inflation: float = param(
        0.02,
        lo=-0.1,
        hi=0.5,
        unit="1/yr",
        basis="sourced",
        doc="π, GDP-deflator growth (projection default: the 2025 CPI target, around 2 %)",
    )
    manufacturing_price_growth: float = param(
        -0.0141,
        lo=-0.2,
        hi=0.2,
        unit="1/yr",
        doc=(
            "growth of manufacturing's price relative to the GDP deflator (projection default: the "
            "2006-2024 geometric mean of the secondary industry's, -1.41 %/yr, judged to continue)"
        ),
    )
    rd_income_elasticity: float = param(
        0.7,
        lo=0.0,
        hi=2.0,
        unit="exponent",
        doc="ε_RD, elasticity of the rest of the economy's R&D intensity to real GDP (R&D/GDP rises with income)",
    )
    traditional_productivity_growth: float = param(
        0.01, lo=-0.1, hi=0.2, unit="1/yr", doc="TFP growth of traditional industry"
    )


@dataclass(frozen=True)
class MacroPolicy:
    """What the macro step needs from the levers and the other mechanisms."""

    keep: KeepManufacturingParams
    upgrade: UpgradeTraditionalParams
    central_debt_share: float
    local_debt_share: float
    labour_cost_growth: float


class Macro:
    """GDP, manufacturing share, debt and TFP."""

    name = "macro"

    def __init__(self, params: MacroParams, policy: MacroPolicy) -> None:
        self.params = params
        self.policy = policy

    def step(self, state: State, ctx: Context) -> None:
        m, p, policy = state.macro, self.params, self.policy
        firms, tech = state.firms, state.technologies
        keep, upgrade = policy.keep.keep, policy.upgrade.upgrade
        # rising labour costs relocate only the labour-intensive segments: the aggregate's drag is
        # the segments' rate ε_w g_w times their share λ of the aggregate (NaN: the whole of it)
        exposed = labour_intensive_fraction(m.va_labour_intensive, m.va_traditional)
        segment_drag = p.labour_cost_elasticity * policy.labour_cost_growth
        drag = segment_drag * exposed
        keep_cost = keep_subsidy(policy.keep, drag, m.va_traditional, p.keep_cost)
        upgrade_cost = upgrade * m.va_traditional
        traditional = np.array([int(np.argmax(~tech.simulated)) if (~tech.simulated).any() else 0])
        ctx.ledger.credit("industrial_policy", keep_cost + upgrade_cost)
        ctx.ledger.book("keep_manufacturing", "traditional_sector", traditional, np.array([keep_cost]))
        ctx.ledger.book("upgrade_traditional", "traditional_sector", traditional, np.array([upgrade_cost]))
        support = keep_cost + upgrade_cost
        m.manufacturing_subsidy = support

        # keep refuses only declines: with falling labour costs there is nothing to refuse
        base = 1.0 + p.traditional_growth + p.upgrade_return * upgrade
        growth = base - drag + keep * max(drag, 0.0)
        value_added = tech.value_added_ratio[firms.technology] * firms.revenue
        m.va_strategic = float(value_added.sum())
        m.va_services *= 1.0 + p.services_growth
        m.va_other *= 1.0 + p.other_growth
        rest = m.va_strategic + m.va_services + m.va_other
        gdp_before = m.gdp
        demand_now = strategic_demand_value_added(state)
        demand_before = demand_now if np.isnan(m.strategic_demand_va) else m.strategic_demand_va
        m.strategic_demand_va = demand_now
        m.va_traditional, m.gdp = traditional_and_gdp(
            m.va_traditional,
            m.gdp,
            rest,
            growth,
            p.income_elasticity,
            p.strategic_substitution * demand_before,
            p.strategic_substitution * m.strategic_demand_va,
        )
        if not np.isnan(m.va_labour_intensive):
            # the segments grow with income like the aggregate but bear its whole drag (the rest of
            # the aggregate bears none), so λ shrinks as they relocate; the parts add up to VA_trad
            income = p.income_elasticity * (m.gdp / gdp_before - 1.0) if gdp_before > 0 else 0.0
            segment_growth = base - segment_drag + keep * max(segment_drag, 0.0) + income
            m.va_labour_intensive = min(max(m.va_labour_intensive * segment_growth, 0.0), m.va_traditional)
        # R&D intensity of the economy outside the modelled industries rises with income
        if gdp_before > 0 and m.gdp > 0:
            m.rd_rest_intensity *= (m.gdp / gdp_before) ** p.rd_income_elasticity

        # debt is nominal: real flows at this year's prices, credit a share of nominal GDP
        m.price_level *= 1.0 + p.inflation
        # manufacturing's relative price: turns the real share into the nominal one statistics report
        m.manufacturing_relative_price *= 1.0 + p.manufacturing_price_growth
        m.debt += m.price_level * (
            policy.central_debt_share * m.central_budget
            + policy.local_debt_share * m.local_budget
            + m.soe_losses
            + support
            + p.credit_growth * m.gdp
        )

        m.productivity_traditional *= 1.0 + p.traditional_productivity_growth + p.upgrade_return * upgrade
        previous = m.tfp_index
        m.tfp_index = tfp_index(state)
        m.tfp_growth = m.tfp_index / previous - 1.0


def strategic_demand_value_added(state: State) -> float:
    """``Σ_t v_t D_t`` over the modelled industries: the value added their home markets would
    carry if Chinese firms served them, bn CNY at 2024 prices (model.md §6.10)."""
    tech = state.technologies
    sim = tech.simulated
    return float((tech.value_added_ratio[sim] * tech.demand[sim]).sum())


def traditional_and_gdp(
    traditional: float,
    gdp: float,
    rest: float,
    growth: float,
    elasticity: float,
    substitutes_before: float = 0.0,
    substitutes: float = 0.0,
) -> tuple[float, float]:
    """This year's traditional value added and GDP, solved jointly (model.md §6.10).

    The home demand for manufactures, traditional plus the modelled industries' markets
    ``M = T + χ Σ v D``, grows with income: ``M = M₀ (1 + η (Y / Y₀ − 1))`` plus the
    traditional sector's own growth terms, so a modelled market growing faster than income
    displaces traditional manufactures (electric cars replace combustion cars):
    ``T = T₀ · growth + η (Y / Y₀ − 1) (T₀ + S₀) − (S − S₀)`` with ``S = χ Σ v D``. With
    ``Y = T + rest``,
    ``Y = (T₀ (growth − η) − η S₀ + S₀ − S + rest) / (1 − η (T₀ + S₀) / Y₀)``; with
    ``S = S₀ = 0`` this is the rule without substitution, and with ``η = 0`` as well
    ``T = T₀ · growth``. The sector never falls below zero (then ``Y = rest``). Chinese firms'
    sales abroad and their gains on foreign suppliers at home are not substitutes: they add to GDP.

    Parameters
    ----------
    traditional, gdp
        Last year's traditional value added ``T₀`` and GDP ``Y₀``, bn CNY at 2024 prices.
    rest
        This year's strategic, services and other value added, bn CNY at 2024 prices.
    growth
        ``1 + g_trad + u · upgrade − drag + keep · max(drag, 0)``: growth before income effects.
    elasticity
        ``η`` ∈ [0, 2], income elasticity of demand for manufactures.
    substitutes_before, substitutes
        ``S₀`` and ``S``: last year's and this year's ``χ Σ_t v_t D_t``
        (:func:`strategic_demand_value_added` times the substitution share ``χ``), bn CNY at
        2024 prices; 0 and 0 turn substitution off.

    Returns
    -------
    (T, Y)
        Traditional value added and GDP, bn CNY at 2024 prices.

    Raises
    ------
    SimulationError
        When ``η (T₀ + S₀) / Y₀ ≥ 1``: income-driven demand for manufactures would grow faster
        than the GDP it adds to, and the joint solution does not exist (a run with a high ``η``
        whose manufacturing share has risen too far).
    """
    base = traditional + substitutes_before
    # the denominator is positive while η · (T₀ + S₀)/Y₀ < 1 (η ≤ 2 and manufacturing below half of GDP)
    denominator = 1.0 - elasticity * base / gdp if gdp > 0 else 1.0
    if denominator <= 1e-9:
        raise SimulationError(
            f"the demand for manufactures ({base / gdp:.0%} of GDP) grows faster than the GDP it adds to at "
            f"assumptions.macro.income_elasticity {elasticity:g}: GDP has no solution (η · share ≥ 1); lower it"
        )
    if substitutes_before == 0.0 and substitutes == 0.0:  # the rule without substitution, bit for bit
        joint = (traditional * (growth - elasticity) + rest) / denominator
    else:
        joint = (traditional * growth - elasticity * base + substitutes_before - substitutes + rest) / denominator
    new_traditional = max(joint - rest, 0.0)
    return new_traditional, new_traditional + rest


def labour_intensive_fraction(labour_intensive: float, traditional: float) -> float:
    """Share ``λ`` of traditional value added in labour-intensive segments (model.md §6.10).

    Parameters
    ----------
    labour_intensive, traditional
        Labour-intensive and total traditional value added, bn CNY at 2024 prices;
        ``labour_intensive`` NaN means the whole aggregate is exposed (``λ = 1``).

    Returns
    -------
    float
        ``λ`` ∈ [0, 1]; 0 when the aggregate is empty.
    """
    if np.isnan(labour_intensive):
        return 1.0
    return min(max(labour_intensive / traditional, 0.0), 1.0) if traditional > 0 else 0.0


def strategic_productivity(state: State) -> float:
    """Value-added-weighted mean of ``exp(c_i − F_t)`` over firms (model.md §6.10)."""
    firms, tech = state.firms, state.technologies
    va = tech.value_added_ratio[firms.technology] * firms.revenue
    total = va.sum()
    relative = np.exp(firms.capability - tech.frontier[firms.technology])
    return float((va * relative).sum() / total) if total > 0 else 0.0


def tfp_index(state: State) -> float:
    """TFP index (start = 1): strategic and traditional productivity weighted by value added."""
    m = state.macro
    strategic = strategic_productivity(state) / m.strategic_productivity0
    weight = m.va_strategic + m.va_traditional
    return (m.va_strategic * strategic + m.va_traditional * m.productivity_traditional) / weight
