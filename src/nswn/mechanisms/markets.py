"""Markets: costs, domestic shares against the foreign competitor, exports, revenue.

What it models (model.md §6.7)
    Log unit cost ``p_i = w(y) − ℓ · ln(1 + Q^eff_i / Q0_t)`` (Wright's law, ℓ = 0.32 for an
    80 % progress ratio; ``w(y) = w0 + g_w (y − 2024)`` is China's relative unit labour cost).
    Experience ``Q^eff_i = φ (Q^CN_t + ξ Q^f_t) + (1 − φ) n_t Q_i`` mixes the industry's
    cumulative output (spillovers, share ``φ``; the foreign aggregate's output counts with ``ξ``,
    Irwin and Klenow 1994: learning spills over as much across borders as within one) with the
    firm's own.
    Competitiveness ``ln E_i = σ_c c_i − σ_p p_i``; the foreign aggregate has
    ``ln E^f_t = σ_c F_t − σ_p p^f_t`` with ``p^f_t = w_f − ℓ ln(1 + (Q^f_t + φ ξ Q^CN_t)/Q0_t)``, times its
    appeal (calibrated at the start), its market access ``A^dom_t`` in China and
    ``e^{−h_t}``, the home-market effect below.

    Domestic shares, with the foreign aggregate as one more player, follow one of two rules
    (``share_dynamics``):

    * ``logit`` (default): partial adjustment towards differentiated-product (logit) shares,
      ``s_i ← (1 − χ_rep) s_i + χ_rep · E_i / (Σ_j E_j + E^f_t)``;
    * ``replicator`` (the shared specification): ``s_i ← s_i (1 + χ_rep (E_i − Ē_t)/Ē_t)``,
      floored at 0, renormalised per technology.

    Both keep shares non-negative and summing to one per technology, and both cut the
    foreign share when its access falls. Exports: China's share of the world market outside China is
    ``s_t = C_t / (C_t + ω_f,t (E^f_t)^σ_w (1 + fric_t))`` (Armington/CES shares) with
    ``C_t = Σ ŝ_i E_i^σ_w`` over Chinese firms weighted by their share ``ŝ_i`` of the Chinese
    total, and each firm's exports are its part of ``C_t``. The foreign weight abroad is
    ``ln ω_f,t = ln ω_f,0 − h_t``: ``ω_f,0`` calibrated at the start (``foreign_log_weight``)
    and the home-market effect ``h_t = η_HME [ln(D_t/D_0) − ln(W_t/W_0)]`` (Krugman 1980:
    varieties grow with the home market an industry is built on), so the start-year weight is
    not a permanent fixed effect for an industry whose home market grows faster than the
    world's. Trade friction ``fric_t = κ_fric · max(0, s_t − θ_fric)`` rises once China's world
    share passes ``θ_fric``; ``s_t`` and ``fric_t`` are solved together
    (:func:`friction_equilibrium`), so the share rises strictly with China's lead and friction
    damps a widening lead without reversing it. Everything is computed in log space relative
    to each technology's maximum, so nothing overflows.

    Revenue ``= s_i D_t + x_i``; value added ``= v_t · revenue``; profit
    ``= m_t · revenue − fixed_t``; ``Q_i += revenue / exp(w(y) − w0)`` (output in start-year
    yuan net of the labour-cost change; the foreign aggregate's ``Q^f`` likewise). ``Q0_t`` is
    the technology's world output in the start year (Chinese plus foreign sales), one yardstick
    for every producer, so a small firm learns little until its output becomes comparable
    with the industry's.

Differences from the shared specification (documented in docs/model.md):
    * The default share rule is ``logit``. Under the replicator any lasting difference in
      competitiveness compounds every year, so within a decade each technology's best
      Chinese firm takes almost the whole market whatever its level; logit shares keep a
      stable, heterogeneous market whose start-year shares are an exact rest point.
    * China's export aggregate is share-weighted (``C_t``), not a plain sum over firms, so
      results do not depend on how many firms represent an industry.
    * The foreign competitor's appeal in China and its weight abroad are calibrated at the
      start year so that the catalog's 2024 foreign share and China's 2024 world share are
      reproduced (an Armington-style closure); controls are not part of this calibration.
      Chinese firms start with shares ∝ ``E_i`` (the logit rest point).
    * The foreign aggregate learns by doing on its own cumulative output (the specification
      keeps its cost fixed). Without this, Chinese learning alone lowers Chinese costs
      every year against a foreign rival that never learns, and China takes the world
      market of technologies in which its capability stays far behind.
    * Learning mixes industry and own output (``φ``; the specification: own output only).
      With own output only, a fragmented Chinese industry learns far less than a foreign
      aggregate of the same size, so China loses world share in industries it leads.
    * The industry pool is world output (``ξ`` = 1; docs/model.md §12.4): with national pools
      the side with more cumulative output gets the lower cost and so more output, close to
      winner-take-all, and the 2006–2024 hindcast overshot China's world shares.
    * ``Q0_t`` is the technology's start-year world output (the specification: its start
      demand), the same yardstick for Chinese firms and the foreign aggregate; output is
      counted in start-year yuan net of labour-cost changes rather than in physical units.
    * The Armington weights move with relative home-market size (``η_HME``; the
      specification: fixed weights), and friction is solved with the same year's share (the
      specification's equation is circular; earlier code used last year's share). Added
      for the 2006–2024 hindcast (issue 11, item 4a; docs/model.md §12.2): with fixed
      weights China's solar and battery shares fell while its home markets grew many times
      faster than the world's.
    * A technology with no trade at the start (``world_share0 = 0``) whose start-year market
      is below ``nascent_market`` (EVs and the not-yet-existing markets of the 2006 vintage)
      gets a neutral weight abroad (``ln ω_f,0 = 0``) instead of one calibrated on the 10⁻⁶
      floor: a zero where no market existed reveals no trade barrier (docs/model.md §12.2).

State read: capability, output, firm shares; frontier, demand, access.
State written: firm ``share``, ``exports``, ``revenue``, ``profit``, ``loss_streak``,
``output``; technology ``foreign_share``, ``friction``, ``china_exports``,
``foreign_exports``, ``world_share``; ``macro.labour_cost``, ``macro.soe_losses``.

Brief: the sections on scaling up ("one to one hundred"), export volumes as the benchmark,
foreign firms selling in a controlled setting, and trade frictions of a manufacturing-heavy
path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from nswn.core import segments
from nswn.core.model import Context
from nswn.core.params import param
from nswn.core.state import State, Technologies
from nswn.kernels import compiled as kernels_compiled
from nswn.kernels import ops
from nswn.mechanisms.environment import TradeDefenceParams, tariff_segments

NO_TRADE_DEFENCE = TradeDefenceParams()


@dataclass(frozen=True)
class MarketParams:
    """Costs, competition and trade."""

    learning_rate: float = param(
        0.32,
        lo=0.0,
        hi=1.0,
        unit="log cost per log output",
        doc="ℓ, Wright's-law learning (0.32 = 80 % progress ratio)",
    )
    labour_cost0: float = param(
        -0.5,
        lo=-3.0,
        hi=3.0,
        unit="log units",
        doc="w0, China's labour cost relative to the foreign competitor in 2024 (the path w0 + g_w (y − 2024) "
        "holds for any start year)",
    )
    labour_cost_growth: float = param(
        0.02,
        lo=-0.1,
        hi=0.2,
        unit="log units/yr",
        doc="g_w, yearly rise of China's relative unit labour cost (specification: 0.04)",
    )
    foreign_labour_cost: float = param(0.0, lo=-3.0, hi=3.0, unit="log units", doc="w_f, foreign log cost")
    capability_weight: float = param(3.0, lo=0.0, hi=20.0, unit="1/log unit", doc="σ_c, weight of capability")
    cost_weight: float = param(2.0, lo=0.0, hi=20.0, unit="1/log unit", doc="σ_p, weight of cost")
    share_dynamics: Literal["logit", "replicator"] = param(
        "logit",
        unit="choice",
        doc="logit: shares adjust towards E_i / ΣE (differentiated products); replicator: the specification's rule",
    )
    replicator_speed: float = param(0.5, lo=0.0, hi=1.0, unit="1/yr", doc="χ_rep, speed of share reallocation")
    export_elasticity: float = param(1.5, lo=0.1, hi=10.0, unit="exponent", doc="σ_w, sensitivity of exports")
    friction_threshold: float = param(
        0.3,
        lo=0.0,
        hi=1.0,
        unit="world share",
        doc="θ_fric, China's world share beyond which frictions rise",
    )
    friction_slope: float = param(2.0, lo=0.0, hi=20.0, unit="per share point", doc="κ_fric")
    home_market_effect: float = param(
        1.0,
        lo=0.0,
        hi=3.0,
        unit="elasticity",
        doc="η_HME, elasticity of the Chinese-to-foreign variety weight (at home and abroad) to China's home-market "
        "growth relative to the world outside China's; 1: Krugman (1980), varieties ∝ market size; 0: fixed weights",
    )
    nascent_market: float = param(
        1.0,
        lo=0.0,
        hi=1e6,
        unit="bn CNY at 2024 prices",
        doc="Start-year market (China + abroad) below which a technology with no trade (world_share0 = 0) is "
        "nascent: its Armington weight abroad is neutral, so competitiveness sets its first exports (model.md §12.2)",
    )
    learning_spillover: float = param(
        0.8,
        lo=0.0,
        hi=1.0,
        unit="share",
        doc="φ: how much of a firm's learning comes from the whole Chinese industry's output (clusters)",
    )
    international_spillover: float = param(
        1.0,
        lo=0.0,
        hi=1.0,
        unit="share",
        basis="sourced",
        doc="ξ: weight of the other side's cumulative output in the pool a producer learns from (foreign output "
        "for Chinese firms, Chinese output for the foreign aggregate), relative to its own side's; 1: learning "
        "spills over as much between countries as within one (Irwin and Klenow 1994; Gruber 1998); 0: national pools",
    )
    experience_years: float = param(
        5.0,
        lo=0.0,
        hi=50.0,
        unit="years of start output",
        doc="Cumulative output firms start with, in years of start output",
    )
    fixed_cost_share: float = param(
        0.1,
        lo=0.0,
        hi=1.0,
        unit="× average firm margin",
        doc="Fixed cost as a share of the average firm's start-year gross margin",
    )


# the calendar year in which China's relative labour cost is ``labour_cost0`` (the 2024 catalog)
LABOUR_COST_YEAR = 2024


def labour_cost(params: MarketParams, state: State) -> float:
    """``w(y) = w0 + g_w (y − 2024)``: anchored in calendar 2024, whatever the start year, so
    that a run starting in 2006 starts with the larger cost edge of 2006."""
    return params.labour_cost0 + params.labour_cost_growth * (state.year - LABOUR_COST_YEAR)


def experience(state: State, params: MarketParams) -> np.ndarray:
    """Effective cumulative output ``Q^eff_i = φ (Q^CN_t + ξ Q^f_t) + (1 − φ) n_t Q_i / w_i`` per firm.

    ``φ`` (learning spillover) is the share of learning drawn from the industry pool
    (:func:`learning_pool`: the Chinese industry's cumulative output plus ``ξ`` times the
    foreign aggregate's, docs/model.md §12.4); the rest is the firm's own output scaled by the
    number of real firms ``n_t``, so that an average firm's own experience equals the industry's.
    ``Q_i / w_i`` is one member's output when agent ``i`` stands for ``w_i`` firms.
    """
    firms, tech = state.firms, state.technologies
    t = firms.technology
    count = segments.group_sum(firms.weight, t, len(tech))[t]
    phi = params.learning_spillover
    pool = learning_pool(tech, params)
    return np.asarray(phi * pool[t] + (1.0 - phi) * count * firms.output / firms.weight)


def learning_pool(tech: Technologies, params: MarketParams) -> np.ndarray:
    """The industry pool Chinese firms learn from, ``Q^CN_t + ξ Q^f_t``, per technology.

    Irwin and Klenow (1994, DRAM generations 1974–92) find that learning spills over as much
    between firms in different countries as between firms within one; Gruber (1998, EPROMs)
    finds the same. With ``ξ = 1`` the Chinese industry learns from world output (its own
    cumulative output plus the foreign aggregate's), and the foreign aggregate likewise from
    ``Q^f_t + φ ξ Q^CN_t`` (:func:`foreign_log_cost`). ``ξ = 0``: national pools (the code
    before the hindcast's round 6).

    Returns
    -------
    array, shape (n_technologies,)
        Cumulative output, bn CNY at start-year prices net of labour-cost changes.
    """
    return np.asarray(tech.china_output + params.international_spillover * tech.foreign_output)


def log_cost(state: State, params: MarketParams) -> np.ndarray:
    """``p_i = w(y) − ℓ ln(1 + Q^eff_i/Q0_t)``."""
    scale = state.technologies.output_scale[state.firms.technology]
    return np.asarray(labour_cost(params, state) - params.learning_rate * np.log1p(experience(state, params) / scale))


def log_competitiveness(state: State, params: MarketParams) -> np.ndarray:
    """``ln E_i = σ_c c_i − σ_p p_i``."""
    return np.asarray(params.capability_weight * state.firms.capability - params.cost_weight * log_cost(state, params))


def foreign_log_cost(state: State, params: MarketParams) -> np.ndarray:
    """``p^f_t = w_f − ℓ ln(1 + (Q^f_t + φ ξ Q^CN_t) / Q0_t)``: the foreign aggregate learns by doing
    too, from its own cumulative output and (``φ ξ``) the Chinese industry's (docs/model.md §12.4)."""
    tech = state.technologies
    own = tech.foreign_output + params.learning_spillover * params.international_spillover * tech.china_output
    return np.asarray(params.foreign_labour_cost - params.learning_rate * np.log1p(own / tech.output_scale))


def foreign_log_competitiveness(state: State, params: MarketParams) -> np.ndarray:
    """``ln E^f_t = σ_c F_t − σ_p p^f_t`` before appeal, weight or access."""
    return np.asarray(
        params.capability_weight * state.technologies.frontier - params.cost_weight * foreign_log_cost(state, params)
    )


def _safe_log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.asarray(np.log(x))


def china_composite(state: State, log_e: np.ndarray, elasticity: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share-weighted export aggregate per technology, in log space.

    Returns ``(log_c, shifted, weights)``: ``log C_t``, each firm's ``E_i^σ_w`` relative to
    its technology's maximum, and its within-China export weight (sums to 1 per technology).
    """
    firms = state.firms
    n_tech = state.n_technologies
    t = firms.technology
    china_total = segments.group_sum(firms.share, t, n_tech)
    within = np.zeros(len(firms))
    np.divide(firms.share, china_total[t], out=within, where=china_total[t] > 0)
    peak = segments.group_max(log_e, t, n_tech)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    shifted = np.exp(elasticity * (log_e - peak[t]))
    part = within * shifted
    composite = segments.group_sum(part, t, n_tech)
    weights = segments.group_share(part, t, n_tech)
    log_c = _safe_log(composite) + elasticity * peak
    return log_c, shifted, weights


def _log_growth(now: np.ndarray, start: np.ndarray) -> np.ndarray:
    """``ln(now / start)`` where both are positive, else 0."""
    ok = (now > 0) & (start > 0)
    return np.asarray(np.log(np.where(ok, now, 1.0)) - np.log(np.where(ok, start, 1.0)))


def home_market_shift(state: State, params: MarketParams) -> np.ndarray:
    """Home-market effect on the Armington weights abroad, per technology (log units).

    ``h_t = η_HME · [ln(D_t / D_0) − ln(W_t / W_0)]``: with free entry the number of varieties
    a country's industry offers is proportional to the market it is built on (Krugman 1980),
    so China's weight abroad relative to the foreign aggregate's grows with China's home
    market relative to the world market outside China (the foreign producers' home). Zero in
    the start year, so the start-year calibration is untouched.

    Returns
    -------
    array, shape (n_technologies,)
        Subtracted from the foreign aggregate's log weight abroad.
    """
    tech = state.technologies
    relative = _log_growth(tech.demand, tech.demand0) - _log_growth(tech.world_demand, tech.world_demand0)
    return np.asarray(params.home_market_effect * relative)


def foreign_log_presence(state: State, params: MarketParams) -> np.ndarray:
    """Foreign competitiveness in China: ``ln E^f + appeal − h_t + ln A^dom`` (−inf without access).

    ``h_t`` is the home-market effect (:func:`home_market_shift`): the relative number of
    Chinese and foreign varieties enters every destination market alike, at home as abroad.
    """
    tech = state.technologies
    return np.asarray(
        foreign_log_competitiveness(state, params)
        + tech.foreign_log_appeal
        - home_market_shift(state, params)
        + _safe_log(tech.market_access)
    )


def _relative(state: State, log_e: np.ndarray, log_f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Firm and foreign competitiveness relative to each technology's strongest player."""
    t = state.firms.technology
    peak = np.maximum(segments.group_max(log_e, t, state.n_technologies), log_f)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    return np.exp(log_e - peak[t]), np.exp(log_f - peak)


def update_shares(state: State, params: MarketParams, log_e: np.ndarray) -> None:
    """Move firm and foreign shares by the chosen rule (model.md §6.7)."""
    if params.share_dynamics == "logit":
        adjust_logit(state, params, log_e)
    else:
        replicate(state, params, log_e)


def adjust_logit(state: State, params: MarketParams, log_e: np.ndarray) -> None:
    """Partial adjustment towards logit shares ``w_i E_i / (Σ w_j E_j + E^f)``.

    A super-individual of ``w_i`` identical firms holds ``w_i`` logit shares.
    """
    firms, tech = state.firms, state.technologies
    t = firms.technology
    e_firm, e_foreign = _relative(state, log_e + np.log(firms.weight), foreign_log_presence(state, params))
    total = segments.group_sum(e_firm, t, len(tech)) + e_foreign
    safe = np.where(total > 0, total, 1.0)
    speed = params.replicator_speed
    firms.share = (1.0 - speed) * firms.share + speed * e_firm / safe[t]
    tech.foreign_share = (1.0 - speed) * tech.foreign_share + speed * e_foreign / safe


def replicate(state: State, params: MarketParams, log_e: np.ndarray) -> None:
    """Replicator update of firm and foreign shares (the shared specification's rule)."""
    firms, tech = state.firms, state.technologies
    n_tech = len(tech)
    t = firms.technology
    e_firm, e_foreign = _relative(state, log_e, foreign_log_presence(state, params))
    mean = segments.group_sum(firms.share * e_firm, t, n_tech) + tech.foreign_share * e_foreign
    safe_mean = np.where(mean > 0, mean, 1.0)
    speed = params.replicator_speed
    share = np.maximum(0.0, firms.share * (1.0 + speed * (e_firm - safe_mean[t]) / safe_mean[t]))
    foreign = np.maximum(0.0, tech.foreign_share * (1.0 + speed * (e_foreign - safe_mean) / safe_mean))
    total = segments.group_sum(share, t, n_tech) + foreign
    safe_total = np.where(total > 0, total, 1.0)
    firms.share = share / safe_total[t]
    tech.foreign_share = foreign / safe_total


FRICTION_BISECTIONS = 60  # halves [0, 1] to below 1e-18: exact at double precision


def friction_equilibrium(lead: np.ndarray, slope: float, threshold: float) -> np.ndarray:
    """China's world share where the share and the friction it provokes agree.

    Solves ``s = 1 / (1 + (1 + κ · max(0, s − θ)) · e^{−z})`` per technology, ``z`` being
    China's log lead abroad (``ln C_t`` minus the foreign aggregate's weighted log
    competitiveness). The right-hand side falls in ``s`` and the left rises, so the root is
    unique, and it rises strictly with ``z``: friction damps a widening lead but cannot reverse
    it (with a lagged friction, a jump in share could be followed by a fall although the lead
    kept growing). Solved by bisection, deterministic and vectorised.

    Parameters
    ----------
    lead : array, shape (n_technologies,)
        ``z``, log units; −inf where China has no firms.
    slope, threshold : float
        ``κ_fric`` and ``θ_fric``.

    Returns
    -------
    array, shape (n_technologies,)
        World share in [0, 1].
    """
    z = np.clip(lead, -700.0, 700.0)
    if kernels_compiled():  # the same bisection, compiled (exp taken here, once)
        decay = np.exp(-z)
        return ops.friction_bisection(1.0 / (1.0 + decay), decay, lead, slope, threshold, FRICTION_BISECTIONS)
    # without friction the share is logistic(z); at or below θ that is the root itself,
    # above θ the root lies in [θ, logistic(z)]
    free = 1.0 / (1.0 + np.exp(-z))
    share = _friction_fixed_point(free, slope, threshold, lambda friction: 1.0 / (1.0 + (1.0 + friction) * np.exp(-z)))
    return np.asarray(np.where(np.isfinite(lead), share, 0.0))


def _friction_fixed_point(
    free: np.ndarray, slope: float, threshold: float, implied: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """The share ``s`` with ``s = implied(κ · max(0, s − θ))`` by :data:`FRICTION_BISECTIONS` rounds of
    bisection on ``[min(free, θ), free]``; ``free`` (the share without friction) where it is at or
    below ``θ``. ``implied`` falls in the friction, so the root is unique."""
    low = np.minimum(free, threshold)
    high = free.copy()
    for _ in range(FRICTION_BISECTIONS):
        mid = 0.5 * (low + high)
        above = mid > implied(slope * np.maximum(0.0, mid - threshold))
        high = np.where(above, mid, high)
        low = np.where(above, low, mid)
    return np.asarray(np.where(free <= threshold, free, 0.5 * (low + high)))


def tariff_wedge(params: MarketParams, tariff: np.ndarray) -> np.ndarray:
    """Log handicap of China's export composite in a market that taxes Chinese goods.

    A tariff-equivalent ``τ`` raises the delivered price of every Chinese firm's goods by
    ``ln(1 + τ)``; with ``ln E_i = σ_c c_i − σ_p p_i`` and ``C = Σ ŝ_i E_i^σ_w`` the composite
    falls by ``σ_w σ_p ln(1 + τ)`` log units (the trade elasticity ``σ_w σ_p`` = 3 at the
    defaults, within the 3–5 of the gravity literature: Simonovska and Waugh 2014, Head and
    Mayer 2014).
    """
    return np.asarray(params.export_elasticity * params.cost_weight * np.log1p(tariff))


def segmented_share(lead: np.ndarray, coverage: np.ndarray, wedge: np.ndarray, friction: np.ndarray) -> np.ndarray:
    """China's share of a market outside China split into tariff segments, at a given friction.

    ``Σ_k μ_k L(z − a_k − ln(1 + f)) + (1 − Σ_k μ_k) L(z − ln(1 + f))`` with ``L`` the
    logistic function, ``μ_k`` each segment's share of the market, ``a_k`` its tariff wedge.

    Parameters
    ----------
    lead : array, shape (n,)
        ``z``, China's log lead abroad before tariffs (finite).
    coverage, wedge : arrays, shape (n, K)
        ``μ_k`` and ``a_k`` (:func:`tariff_wedge`).
    friction : array, shape (n,)
        ``f``, the generic trade friction.
    """
    base = (1.0 + friction) * np.exp(-lead)
    free = 1.0 - coverage.sum(axis=1)
    taxed = (coverage / (1.0 + base[:, None] * np.exp(wedge))).sum(axis=1)
    return np.asarray(free / (1.0 + base) + taxed)


def tariff_equilibrium(
    lead: np.ndarray, coverage: np.ndarray, wedge: np.ndarray, slope: float, threshold: float
) -> np.ndarray:
    """China's world share under trade-defence measures, with the friction it provokes.

    Solves ``s = S(z, f(s))`` (:func:`segmented_share`, ``f(s) = κ · max(0, s − θ)``): the
    measures tax China's goods in their part of the market, and China's aggregate share
    provokes the generic friction everywhere (:func:`friction_equilibrium`, which this
    reduces to without measures). ``S`` falls in ``s`` and rises in ``z``, so the root is
    unique and rises strictly with China's lead. Bisection, deterministic and vectorised.

    Parameters
    ----------
    lead : array, shape (n,)
        ``z``, log units; −inf where China has no firms.
    coverage, wedge : arrays, shape (n, K)
        Segments' shares of the market outside China and their tariff wedges (log units).
    slope, threshold : float
        ``κ_fric`` and ``θ_fric``.

    Returns
    -------
    array, shape (n,)
        World share in [0, 1].
    """
    z = np.clip(np.where(np.isfinite(lead), lead, 0.0), -700.0, 700.0)
    free = segmented_share(z, coverage, wedge, np.zeros(len(z)))
    share = _friction_fixed_point(
        free, slope, threshold, lambda friction: segmented_share(z, coverage, wedge, friction)
    )
    return np.asarray(np.where(np.isfinite(lead), share, 0.0))


def calibrated_lead(share: np.ndarray, coverage: np.ndarray, wedge: np.ndarray, friction: np.ndarray) -> np.ndarray:
    """The lead ``z`` at which :func:`segmented_share` equals ``share`` (start-year calibration
    under measures already in force), by bisection on ``z`` in [−100, 100] log units."""
    low = np.full(len(share), -100.0)
    high = np.full(len(share), 100.0)
    for _ in range(200):
        mid = 0.5 * (low + high)
        above = segmented_share(mid, coverage, wedge, friction) > share
        high = np.where(above, mid, high)
        low = np.where(above, low, mid)
    return np.asarray(0.5 * (low + high))


def trade(
    state: State, params: MarketParams, log_e: np.ndarray, defence: TradeDefenceParams = NO_TRADE_DEFENCE
) -> None:
    """Exports of Chinese firms and of the foreign competitor, with trade friction."""
    log_c, _, weights = china_composite(state, log_e, params.export_elasticity)
    world_trade(state, params, log_c, defence)
    state.firms.exports = state.technologies.china_exports[state.firms.technology] * weights


def world_trade(
    state: State, params: MarketParams, log_c: np.ndarray, defence: TradeDefenceParams = NO_TRADE_DEFENCE
) -> None:
    """China's world share, friction and both sides' exports per technology, from ``log C_t``.

    Technologies under trade-defence measures in force this year (``defence``) get their
    share from :func:`tariff_equilibrium`; the others from :func:`friction_equilibrium`.
    """
    tech = state.technologies
    log_foreign = (
        params.export_elasticity * foreign_log_competitiveness(state, params)
        + tech.foreign_log_weight
        - home_market_shift(state, params)
    )
    with np.errstate(invalid="ignore"):
        lead = np.where(np.isfinite(log_c), log_c - log_foreign, -np.inf)
    china = friction_equilibrium(lead, params.friction_slope, params.friction_threshold)
    if defence.measures:
        coverage, tariff = tariff_segments(defence, tech.ids, state.year)
        taxed = np.any((coverage > 0) & (tariff > 0), axis=1)
        if taxed.any():
            china = china.copy()
            china[taxed] = tariff_equilibrium(
                lead[taxed],
                coverage[taxed],
                tariff_wedge(params, tariff[taxed]),
                params.friction_slope,
                params.friction_threshold,
            )
    tech.friction = params.friction_slope * np.maximum(0.0, china - params.friction_threshold)
    tech.world_share = china
    tech.china_exports = tech.world_demand * china
    tech.foreign_exports = tech.world_demand - tech.china_exports


def settle(state: State, params: MarketParams) -> None:
    """Revenue, profit, loss streaks, cumulative output and SOE losses."""
    firms, tech = state.firms, state.technologies
    t = firms.technology
    firms.revenue = firms.share * tech.demand[t] + firms.exports
    fixed = tech.fixed_cost0 * tech.demand / tech.demand0  # per real firm
    firms.profit = tech.margin[t] * firms.revenue - fixed[t] * firms.weight
    losing = firms.profit < 0
    firms.loss_streak = np.where(losing, np.minimum(firms.loss_streak + 1, 100), 0).astype(np.int8)
    # cumulative output in start-year yuan, net of the change in labour cost
    start = params.labour_cost0 + params.labour_cost_growth * (state.start_year - LABOUR_COST_YEAR)
    produced = firms.revenue / np.exp(labour_cost(params, state) - start)
    firms.output += produced
    tech.china_output += segments.group_sum(produced, t, len(tech))
    tech.foreign_output += tech.foreign_share * tech.demand + tech.foreign_exports
    state.macro.soe_losses = float(-firms.profit[firms.soe & losing].sum())


class Markets:
    """Domestic shares, exports and revenue for every firm at once."""

    name = "markets"

    def __init__(self, params: MarketParams, defence: TradeDefenceParams = NO_TRADE_DEFENCE) -> None:
        self.params = params
        self.defence = defence

    def step(self, state: State, ctx: Context) -> None:
        state.macro.labour_cost = labour_cost(self.params, state)
        if self._fused(state):
            return
        log_e = log_competitiveness(state, self.params)
        update_shares(state, self.params, log_e)
        trade(state, self.params, log_e, self.defence)
        settle(state, self.params)

    def _fused(self, state: State) -> bool:
        """The step in four compiled passes over technology segments (logit rule; bit-identical
        to :func:`update_shares`, :func:`trade` and :func:`settle`).

        Returns ``False`` (and changes nothing) when the NumPy lines must run instead: the
        NumPy kernels are chosen, the firms are not sorted by technology, or the share rule
        is the replicator. ``log1p``, ``log`` and ``exp`` are applied by NumPy between the
        passes; the per-technology lines (foreign presence, friction) are the reference's.
        """
        params = self.params
        if params.share_dynamics != "logit" or not kernels_compiled():
            return False
        bounds = state.technology_bounds()
        if bounds is None:
            return False
        firms, tech = state.firms, state.technologies
        pool = learning_pool(tech, params)
        learned = ops.market_experience(
            bounds, firms.weight, firms.output, pool, tech.output_scale, params.learning_spillover
        )
        np.log1p(learned, out=learned)
        log_foreign = foreign_log_presence(state, params)
        relative, shifted, share_peak, export_peak = ops.market_competitiveness(
            bounds,
            firms.capability,
            learned,
            np.log(firms.weight),
            log_foreign,
            labour_cost(params, state),
            params.learning_rate,
            params.capability_weight,
            params.cost_weight,
            params.export_elasticity,
        )
        np.exp(relative, out=relative)  # e_i, relative to the technology's strongest player
        np.exp(shifted, out=shifted)  # E_i^σ_w relative to the technology's best Chinese firm
        e_foreign = np.exp(log_foreign - share_peak)
        speed = params.replicator_speed
        share, weights, total, composite = ops.market_logit_shares(
            bounds, firms.share, relative, shifted, e_foreign, speed
        )
        firms.share = share
        safe = np.where(total > 0, total, 1.0)
        tech.foreign_share = (1.0 - speed) * tech.foreign_share + speed * e_foreign / safe
        world_trade(state, params, _safe_log(composite) + params.export_elasticity * export_peak, self.defence)
        fixed = tech.fixed_cost0 * tech.demand / tech.demand0  # per real firm
        start = params.labour_cost0 + params.labour_cost_growth * (state.start_year - LABOUR_COST_YEAR)
        exports, revenue, profit, streak, produced, soe_loss, losing_soes = ops.market_settle(
            bounds,
            weights,
            share,
            tech.china_exports,
            tech.demand,
            tech.margin,
            fixed,
            firms.weight,
            firms.loss_streak,
            firms.output,
            firms.soe,
            float(np.exp(labour_cost(params, state) - start)),
        )
        firms.exports, firms.revenue, firms.profit, firms.loss_streak = exports, revenue, profit, streak
        tech.china_output += produced
        tech.foreign_output += tech.foreign_share * tech.demand + tech.foreign_exports
        state.macro.soe_losses = float(-soe_loss[:losing_soes].sum())
        return True
