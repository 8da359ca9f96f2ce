"""World shares and catch-up as the 2006–2024 hindcast demands (issue 11, item 4a; docs/model.md §12).

Three rules, each checked by hand on tiny states:

* the home-market effect on the Armington weights: China's odds abroad, and the foreign
  aggregate's weight in China, move with China's home market relative to the world market
  outside China (Krugman 1980);
* friction solved together with the share it responds to: the share rises strictly with
  China's lead, so friction damps but never reverses a widening lead;
* logistic catch-up (Benhabib & Spiegel 2005): emulation on a large gap is bounded.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nswn import catalog
from nswn.analysis import hindcast
from nswn.mechanisms.innovation import Innovation, InnovationParams, catch_up_gap
from nswn.mechanisms.markets import (
    MarketParams,
    adjust_logit,
    china_composite,
    foreign_log_competitiveness,
    friction_equilibrium,
    home_market_shift,
    log_competitiveness,
    trade,
)
from nswn.scenario import io
from nswn.scenario.build import build_model, to_config
from tiny_states import FLAT_MARKETS, ctx, tiny_state

# tiny_states.FLAT_MARKETS with friction off unless a test sets it
FLAT = dataclasses.replace(FLAT_MARKETS, friction_slope=0.0)


def odds(share: float) -> float:
    return share / (1.0 - share)


def test_home_market_growth_raises_chinas_odds_abroad_in_proportion() -> None:
    """η = 1: China's home market ×8 while the world outside China ×2 → its odds abroad ×4."""
    state = tiny_state(n_tech=1, world_share=0.2)
    trade(state, FLAT, log_competitiveness(state, FLAT))
    start = state.technologies.world_share[0]
    assert start == pytest.approx(0.5)  # equal competitiveness, unit weights
    state.technologies.demand[:] = 8 * 100.0
    state.technologies.world_demand[:] = 2 * 200.0
    assert home_market_shift(state, FLAT)[0] == pytest.approx(math.log(4.0))
    trade(state, FLAT, log_competitiveness(state, FLAT))
    assert odds(state.technologies.world_share[0]) == pytest.approx(4.0 * odds(start))


def test_home_market_effect_is_zero_at_the_start_and_off_at_eta_zero() -> None:
    """The start-year calibration is untouched (D = D0, W = W0), and η = 0 restores fixed weights."""
    state = tiny_state(n_tech=2, demand=[100.0, 300.0], world_demand=[200.0, 100.0])
    shift = home_market_shift(state, FLAT)
    assert shift[0] == 0.0
    assert shift[1] == pytest.approx(math.log(3.0) - math.log(0.5))
    fixed = MarketParams(**{**FLAT.__dict__, "home_market_effect": 0.0})
    np.testing.assert_array_equal(home_market_shift(state, fixed), [0.0, 0.0])


def test_a_home_market_growing_slower_than_the_world_lowers_chinas_share() -> None:
    """The rule is symmetric: the sign follows relative market growth."""
    state = tiny_state(n_tech=1, demand=100.0, world_demand=800.0)
    trade(state, FLAT, log_competitiveness(state, FLAT))
    assert odds(state.technologies.world_share[0]) == pytest.approx(0.25)


def test_the_same_variety_shift_applies_to_the_foreign_aggregate_in_china() -> None:
    """At home too: D ×4 (W unchanged) divides the foreign logit term by 4 (full adjustment, χ = 1)."""
    params = MarketParams(**{**FLAT.__dict__, "replicator_speed": 1.0})
    state = tiny_state(n_tech=1, firm_values={"technology": [0], "share": [0.5]}, foreign_share=0.5)
    adjust_logit(state, params, log_competitiveness(state, params))
    assert state.technologies.foreign_share[0] == pytest.approx(0.5)  # E = 1 against E^f = 1
    state.technologies.demand[:] = 400.0
    adjust_logit(state, params, log_competitiveness(state, params))
    assert state.technologies.foreign_share[0] == pytest.approx(0.25 / 1.25)
    assert state.firms.share[0] == pytest.approx(1.0 / 1.25)


def test_friction_is_solved_with_the_share_it_responds_to() -> None:
    """Equal competitiveness, κ 2, θ 0.3: s = 1 / (2 + 2 (s − 0.3)) → 2s² + 1.4s − 1 = 0."""
    params = MarketParams(**{**FLAT.__dict__, "friction_slope": 2.0, "friction_threshold": 0.3})
    expected = (-1.4 + math.sqrt(1.4**2 + 8.0)) / 4.0
    for last_year in (0.0, 0.5, 0.95):  # last year's share no longer matters
        state = tiny_state(n_tech=1, world_share=last_year)
        trade(state, params, log_competitiveness(state, params))
        tech = state.technologies
        assert tech.world_share[0] == pytest.approx(expected, abs=1e-12)
        assert tech.friction[0] == pytest.approx(2.0 * (expected - 0.3), abs=1e-12)
        assert tech.china_exports[0] == pytest.approx(200.0 * expected)


@settings(max_examples=60, deadline=None)
@given(
    lead=st.floats(-20.0, 20.0),
    step=st.floats(1e-3, 5.0),
    slope=st.floats(0.0, 20.0),
    threshold=st.floats(0.0, 1.0),
)
def test_friction_damps_but_never_reverses_a_widening_lead(
    lead: float, step: float, slope: float, threshold: float
) -> None:
    """For any κ, θ: a larger lead gives a share at least as large; each is the fixed point."""
    z = np.array([lead, lead + step])
    share = friction_equilibrium(z, slope, threshold)
    assert share[1] >= share[0]
    friction = slope * np.maximum(0.0, share - threshold)
    np.testing.assert_allclose(share, 1.0 / (1.0 + (1.0 + friction) * np.exp(-z)), atol=1e-12)


def test_a_jump_in_the_lead_is_not_followed_by_a_fall_in_share() -> None:
    """A path of leads that only widens gives a share path that only rises, friction or not."""
    params = MarketParams(**{**FLAT.__dict__, "friction_slope": 5.0, "friction_threshold": 0.3})
    state = tiny_state(n_tech=1, world_share=0.1)
    shares = []
    for frontier in (0.0, -3.0, -3.05, -3.1):  # China's lead jumps, then keeps widening a little
        state.technologies.frontier[:] = frontier
        trade(state, params, log_competitiveness(state, params))
        shares.append(float(state.technologies.world_share[0]))
    assert all(b > a for a, b in zip(shares, shares[1:], strict=False))


def test_catch_up_is_the_log_gap_when_small_and_bounded_when_large() -> None:
    gaps = np.array([-0.5, 0.0, 0.01, 0.2, 2.5, 50.0])
    out = catch_up_gap(gaps)
    np.testing.assert_allclose(out, [0.0, 0.0, -math.expm1(-0.01), -math.expm1(-0.2), -math.expm1(-2.5), 1.0])
    assert out[2] == pytest.approx(0.01, rel=0.01)  # ≈ the log gap when small
    assert out.max() <= 1.0  # bounded however large the gap


def test_emulation_on_a_large_gap_is_bounded_by_absorptive_capacity() -> None:
    """Δc = λ e A α (1 − e^{−gap}): a firm 2.5 log units behind gains λ e A α (1 − e^{−2.5}), not λ e A α · 2.5."""
    params = InnovationParams(innovation_rate=0.0, emulation_rate=0.1)
    state = tiny_state(
        n_tech=2,
        firm_values={"technology": [0, 1], "share": [0.5, 0.5], "capability": [-2.5, -0.1], "revenue": [20.0, 20.0]},
        emulability=0.9,
        knowhow_access=0.7,
        rd_half0=1.0,
    )
    before = state.firms.capability.copy()
    Innovation(params).step(state, ctx(state))
    rd = 0.05 * 20.0  # private firm, r_own 0.05, no subsidy
    alpha = rd / (rd + 1.0)
    rate = 0.1 * 0.9 * 0.7 * alpha
    gained = state.firms.capability - before
    assert gained[0] == pytest.approx(rate * -math.expm1(-2.5))
    assert gained[1] == pytest.approx(rate * -math.expm1(-0.1))
    # the large gap closes at most λ e A α a year, far less than the linear rule's 2.5 λ e A α
    assert gained[0] < rate < 2.5 * rate


def test_the_2024_start_still_reproduces_the_catalogs_world_shares(model) -> None:  # type: ignore[no-untyped-def]
    """The home-market shift is zero at the start and the friction fixed point returns the
    calibrated share: a 2024 start reproduces ``world_share0``."""
    tech = model.state.technologies
    sim = tech.simulated
    assert np.all(home_market_shift(model.state, MarketParams()) == 0.0)
    np.testing.assert_allclose(tech.world_share[sim], tech.world_share0[sim], rtol=0, atol=1e-12)
    # some start shares lie above θ_fric = 0.3, so the friction part of the fixed point is exercised
    assert (tech.friction[sim] > 0).any()


# --- round 2: like-with-like comparison, nascent markets, growth range --------------------


def _one_technology_frame(**columns: float) -> pd.DataFrame:
    row = {"year": 2024, "technology_id": "x", "relative_capability": 0.5, **columns}
    return pd.DataFrame([row])


def _target(indicator: str) -> hindcast.Target:
    return hindcast.Target("t", indicator, "x", 2024, 50.0, 5.0, "test", "test", "test")


def test_global_share_targets_compare_chinas_share_of_the_world_market_home_included() -> None:
    """D = 100 (Chinese firms hold 90 %), exports 50 of W = 200: China's share of world
    production is (90 + 50) / 300, not its share of the market outside China (25 %)."""
    tech = _one_technology_frame(
        china_domestic_share=0.9, demand=100.0, china_exports=50.0, foreign_exports=150.0, china_world_share=0.25
    )
    macro = pd.DataFrame({"year": [2024]})
    for indicator in (
        "world_production_share",
        "world_share_ev_battery_installations",
        "world_share_ship_completions",
        "world_share_ev_production",
    ):
        value = hindcast.simulated_value(_target(indicator), tech, macro)
        assert value == pytest.approx(100 * 140 / 300), indicator
    # EV *sales* share is China's share of world demand in units, whoever supplies it: the
    # market outside China (W = 200 bn CNY) at Chinese prices is W / R, R = 1.981 in 2024
    # (history/macro_series.csv: a car sold outside China costs about twice one sold in China)
    sales = hindcast.simulated_value(_target("world_share_ev_sales"), tech, macro)
    assert sales == pytest.approx(100 * 100 / (100 + 200 / 1.981))
    assert hindcast.demand_share(tech, 1.0).iloc[0] == pytest.approx(100 * 100 / 300)  # in value


def test_a_unit_share_without_a_sourced_price_ratio_is_not_compared() -> None:
    """2021 has no sourced EV price ratio: the units target cannot be formed from the money
    markets, so it is not modelled (None), not compared in value."""
    tech = _one_technology_frame(
        china_domestic_share=0.9, demand=100.0, china_exports=50.0, foreign_exports=150.0, china_world_share=0.25
    ).assign(year=2021)
    target = hindcast.Target("t", "world_share_ev_sales", "x", 2021, 50.0, 5.0, "test", "test", "test")
    assert hindcast.simulated_value(target, tech, pd.DataFrame({"year": [2021]})) is None
    with pytest.raises(ValueError, match="positive"):
        hindcast.demand_share(tech, 0.0)


def test_each_year_of_a_run_is_converted_with_its_own_price_ratio() -> None:
    """A run's frame holds every year (2006-2024), not one: the 2023 target takes 2023's row
    and 2023's ratio (2.052), the 2022 one 2022's (1.755), and 2021 (no ratio) is not compared.
    Markets differ by year so that taking another year's row or ratio gives another number."""
    years = [2021, 2022, 2023, 2024]
    tech = pd.DataFrame(
        {
            "year": years,
            "technology_id": "x",
            "relative_capability": 0.5,
            "china_domestic_share": 0.9,
            "demand": [50.0, 100.0, 150.0, 300.0],
            "china_exports": [10.0, 20.0, 30.0, 40.0],
            "foreign_exports": [90.0, 130.0, 170.0, 160.0],
        }
    )
    macro = pd.DataFrame({"year": years})
    ratio = {2022: 1.755, 2023: 2.052, 2024: 1.981}  # history/macro_series.csv
    for row in tech.itertuples():
        target = hindcast.Target("t", "world_share_ev_sales", "x", row.year, 50.0, 5.0, "test", "test", "test")
        value = hindcast.simulated_value(target, tech, macro)
        if row.year not in ratio:
            assert value is None
            continue
        outside = row.china_exports + row.foreign_exports
        assert value == pytest.approx(100 * row.demand / (row.demand + outside / ratio[row.year])), row.year


def test_the_macro_series_handed_out_cannot_be_changed_by_a_caller() -> None:
    """``_series`` reads the CSV once (cached) but hands each caller its own dict: a caller that
    edits what it got (report/history.py builds frames from it) changes no later answer."""
    first = hindcast._series("ev_price_ratio_rest_to_china")
    assert first == {2022: 1.755, 2023: 2.052, 2024: 1.981}
    first[2021] = 1.0
    first[2024] = 99.0
    assert hindcast._series("ev_price_ratio_rest_to_china") == {2022: 1.755, 2023: 2.052, 2024: 1.981}
    tech = _one_technology_frame(
        china_domestic_share=0.9, demand=100.0, china_exports=50.0, foreign_exports=150.0, china_world_share=0.25
    )
    sales = hindcast.simulated_value(_target("world_share_ev_sales"), tech, pd.DataFrame({"year": [2024]}))
    assert sales == pytest.approx(100 * 100 / (100 + 200 / 1.981))


def test_every_technology_share_target_has_an_explicit_definition() -> None:
    """No share target is compared through a catch-all: each indicator of targets.csv that
    names a technology and a share maps to a stated quantity."""
    for target in hindcast.targets():
        if target.technology and "share" in target.indicator:
            assert target.indicator in hindcast.SHARE_INDICATORS, target.target_id


@pytest.fixture(scope="module")
def history_start():  # type: ignore[no-untyped-def]
    """The 2006 start of ``history`` (1 000 firms), before the first step."""
    scenario = io.validate(io.deep_merge(io.load("history").model_dump(mode="json"), {"firms": 1000}), "test")
    return build_model(to_config(scenario), seed=0)


def test_a_nascent_market_gets_a_neutral_armington_weight(history_start) -> None:  # type: ignore[no-untyped-def]
    """2006: EVs (0.1 + 0.5 bn CNY, no trade) are nascent: ln ω_f = 0, so China's first
    exports are the competitiveness share; HSR (60 + 100 bn CNY, no exports) is an observed
    zero in an existing market and keeps the calibrated floor."""
    state = history_start.state
    tech = state.technologies
    mp = MarketParams()
    ev, hsr = tech.index("electric_vehicles"), tech.index("high_speed_rail")
    assert tech.world_share0[ev] == 0.0 and tech.world_share0[hsr] == 0.0
    assert tech.demand0[ev] + tech.world_demand0[ev] < mp.nascent_market < tech.demand0[hsr] + tech.world_demand0[hsr]
    assert tech.foreign_log_weight[ev] == 0.0
    log_e = log_competitiveness(state, mp)
    log_c, _, _ = china_composite(state, log_e, mp.export_elasticity)
    lead = log_c[ev] - mp.export_elasticity * foreign_log_competitiveness(state, mp)[ev]
    assert tech.world_share[ev] == pytest.approx(1.0 / (1.0 + math.exp(-lead)), rel=1e-12)
    assert 0.01 < tech.world_share[ev] < 0.5  # EV capability 0.5 of the frontier in 2006: a minority share
    # HSR: the observed zero (floored at 1e-6) is reproduced, no invented exports
    assert tech.world_share[hsr] == pytest.approx(1e-6, rel=1e-6)
    # every other start-year share is reproduced as calibrated
    other = tech.simulated & ~((tech.world_share0 <= 0) & (tech.demand0 + tech.world_demand0 < mp.nascent_market))
    np.testing.assert_allclose(tech.world_share[other], np.clip(tech.world_share0[other], 1e-6, None), rtol=1e-9)


def test_history_grows_the_ev_markets_to_their_2024_size() -> None:
    """The 2006 → 2024 EV paths are no longer cut at 50 %/yr: the derived constant rates take
    both markets from the 2006 vintage to the 2024 catalog (to rounding)."""
    overrides, _ = hindcast.derived_inputs()
    then = {t.id: t for t in catalog.technologies_for(2006)}["electric_vehicles"]
    now = {t.id: t for t in catalog.technologies_for(2024)}["electric_vehicles"]
    ev = overrides["electric_vehicles"]
    assert ev["demand_growth"] > 0.5 and ev["world_demand_growth"] > 0.5
    assert then.demand0 * (1 + ev["demand_growth"]) ** 18 == pytest.approx(now.demand0, rel=1e-3)
    assert then.world_demand0 * (1 + ev["world_demand_growth"]) ** 18 == pytest.approx(now.world_demand0, rel=1e-3)
    low, high = catalog.TECHNOLOGY_RANGES["demand_growth"]
    assert (low, high) == (-0.2, 4.0)


def test_the_ev_price_ratios_follow_from_jato_prices_and_iea_units() -> None:
    """``ev_price_ratio_rest_to_china`` (history/macro_series.csv) is the midpoint of two bounds:
    the unit-weighted mean price outside China (Europe, US at JATO's BEV list prices; the other
    markets priced like China, or like Europe+US) over China's price. Worked from the sourced
    figures for 2022 and 2023 (EUR; IEA electric-car sales, millions)."""
    text = resources.files("nswn.catalog").joinpath("history", "macro_series.csv").read_text(encoding="utf-8")
    series = {
        int(row["year"]): float(row["value"])
        for row in csv.DictReader(text.splitlines())
        if row["indicator"] == "ev_price_ratio_rest_to_china"
    }
    jato = {2022: (31829, 55821, 63864), 2023: (31165, 66864, 68023)}  # China, Europe, US
    units = {2022: (2.6, 0.99, 0.71), 2023: (3.2, 1.39, 1.01)}  # Europe, US, other
    for year, (china, europe, us) in jato.items():
        eu_n, us_n, other_n = units[year]
        eu_us = (eu_n * europe + us_n * us) / (eu_n + us_n)
        low = (eu_n * europe + us_n * us + other_n * china) / (eu_n + us_n + other_n) / china
        high = eu_us / china
        assert series[year] == pytest.approx((low + high) / 2, abs=1e-3), year
    # 2024: JATO gives only ratios to China (Eurozone 2.11, UK 2.22, US 2.09); Europe weights the
    # UK's 0.55 M of its 3.18 M; IEA units Europe 3.18 M, US 1.52 M, other 1.5 M
    europe = (2.63 * 2.11 + 0.55 * 2.22) / 3.18
    high = (3.18 * europe + 1.52 * 2.09) / (3.18 + 1.52)
    low = (3.18 * europe + 1.52 * 2.09 + 1.5 * 1.0) / (3.18 + 1.52 + 1.5)
    assert series[2024] == pytest.approx((low + high) / 2, abs=1e-3)
