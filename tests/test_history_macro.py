"""The macro closure as history demands it (issue 11 item 4b/4c; model.md §6.10, §12).

* traditional manufacturing follows the demand for its goods, which grows with real income
  (income elasticity ``η``), less the labour-cost drag (the only relocation term);
* debt is a nominal stock: real flows at this year's prices plus new credit as a share of
  nominal GDP; debt/GDP is a nominal ratio;
* the R&D intensity of the economy outside the modelled industries rises with income;
* the history scenario's macro inputs are derived from the data files in one place.

Helper state ``economy``: two technologies, the second the aggregate traditional sector (no
firms); two firms with revenue 10 and 30 at value-added ratio 0.3 (strategic VA 12); VA
traditional 20, strategic 10, services 50, other 20 (GDP 100); no budgets, no SOE losses.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from importlib import resources

import pytest

import nswn
from nswn import catalog
from nswn.analysis import hindcast
from nswn.core.state import Macro as MacroState
from nswn.instruments.keep_manufacturing import KeepManufacturingParams
from nswn.instruments.upgrade_traditional import UpgradeTraditionalParams
from nswn.mechanisms import indicators
from nswn.mechanisms.macro import (
    Macro,
    MacroParams,
    MacroPolicy,
    strategic_demand_value_added,
    traditional_and_gdp,
)
from nswn.scenario import io
from nswn.scenario.build import build_model, to_config
from tiny_states import ctx, tiny_state

# no policy, no autonomous growth, no inflation or credit, no substitution by the modelled
# industries' markets: each test switches on what it checks
PLAIN = MacroParams(
    traditional_growth=0.0,
    income_elasticity=1.0,
    strategic_substitution=0.0,
    services_growth=0.10,
    other_growth=0.05,
    credit_growth=0.0,
    inflation=0.0,
    rd_income_elasticity=0.0,
)


def economy(price_level: float = 1.0, debt: float = 0.0):  # type: ignore[no-untyped-def]
    macro = MacroState(
        gdp=100.0,
        va_traditional=20.0,
        va_strategic=10.0,
        va_services=50.0,
        va_other=20.0,
        debt=debt,
        price_level=price_level,
    )
    return tiny_state(
        n_tech=2,
        firm_values={"technology": [0, 0], "revenue": [10.0, 30.0], "capability": [0.0, 0.0]},
        macro=macro,
        simulated=[True, False],
        value_added_ratio=0.3,
    )


def policy(labour_cost_growth: float = 0.0, keep: float = 0.0) -> MacroPolicy:
    return MacroPolicy(
        keep=KeepManufacturingParams(keep=keep),
        upgrade=UpgradeTraditionalParams(upgrade=0.0),
        central_debt_share=0.0,
        local_debt_share=0.0,
        labour_cost_growth=labour_cost_growth,
    )


def step(params: MacroParams, state=None, labour_cost_growth: float = 0.0, keep: float = 0.0):  # type: ignore[no-untyped-def]
    state = state if state is not None else economy()
    Macro(params, policy(labour_cost_growth, keep)).step(state, ctx(state))
    return state.macro


# --- manufacturing follows demand ---------------------------------------------------------


def test_traditional_value_added_grows_with_real_gdp_at_unit_elasticity() -> None:
    """η = 1, no drag: the traditional sector grows exactly as fast as GDP (solved jointly)."""
    m = step(PLAIN)
    assert m.gdp == pytest.approx(m.va_traditional + m.va_strategic + m.va_services + m.va_other)
    assert m.va_traditional / 20.0 - 1 == pytest.approx(m.gdp / 100.0 - 1, rel=1e-12)
    # by hand: rest = 12 + 55 + 21 = 88; Y = (20 (1 − 1) + 88) / (1 − 20/100) = 110
    assert m.gdp == pytest.approx(110.0)
    assert m.va_traditional == pytest.approx(22.0)


@pytest.mark.parametrize("elasticity", [0.0, 0.5, 1.5])
def test_traditional_growth_is_the_income_elasticity_times_gdp_growth(elasticity: float) -> None:
    m = step(replace(PLAIN, income_elasticity=elasticity))
    assert m.va_traditional / 20.0 - 1 == pytest.approx(elasticity * (m.gdp / 100.0 - 1), abs=1e-12)


def test_faster_income_growth_raises_traditional_value_added() -> None:
    """The demand channel: the same sector grows more when the rest of the economy grows more."""
    slow = step(replace(PLAIN, services_growth=0.02))
    fast = step(replace(PLAIN, services_growth=0.10))
    assert fast.va_traditional > slow.va_traditional
    # and with η = 0 it does not (the old fixed-growth rule)
    fixed = replace(PLAIN, income_elasticity=0.0)
    assert step(replace(fixed, services_growth=0.02)).va_traditional == step(fixed).va_traditional


def test_the_labour_cost_drag_is_subtracted_once_from_income_driven_growth() -> None:
    """Relocation is the drag alone: T/T₀ − 1 = η g_Y − ε_w g_w (no second relocation term)."""
    m = step(PLAIN, labour_cost_growth=0.02)
    assert m.va_traditional / 20.0 - 1 == pytest.approx((m.gdp / 100.0 - 1) - 0.02, abs=1e-12)
    # keep = 1 refuses the whole drag: back to growth with income
    kept = step(PLAIN, labour_cost_growth=0.02, keep=1.0)
    assert kept.va_traditional / 20.0 - 1 == pytest.approx(kept.gdp / 100.0 - 1, abs=1e-12)


def test_the_joint_solution_never_makes_the_sector_negative() -> None:
    traditional, gdp = traditional_and_gdp(20.0, 100.0, 80.0, growth=0.0, elasticity=1.0)
    assert traditional == 0.0 and gdp == 80.0


# --- the modelled industries' markets are part of the demand for manufactures ----------------


def test_without_substitution_the_rule_is_the_old_one_bit_for_bit() -> None:
    assert traditional_and_gdp(20.0, 100.0, 88.0, 1.0, 1.0, 0.0, 0.0) == traditional_and_gdp(
        20.0, 100.0, 88.0, 1.0, 1.0
    )
    # by hand, the old rule: Y = (20 (1 − 1) + 88) / (1 − 20/100) = 110
    assert traditional_and_gdp(20.0, 100.0, 88.0, 1.0, 1.0) == pytest.approx((22.0, 110.0))


def test_a_modelled_market_growing_faster_than_income_displaces_traditional_manufactures() -> None:
    """T₀ = 20, S₀ = 6, S = 8, rest = 88, η = 1: T = 20 + g (20 + 6) − (8 − 6) with
    Y = T + 88, so Y = (20 − 26 + 6 − 8 + 88) / (1 − 26/100) = 80 / 0.74 and T = Y − 88."""
    traditional, gdp = traditional_and_gdp(20.0, 100.0, 88.0, 1.0, 1.0, 6.0, 8.0)
    assert gdp == pytest.approx(80.0 / 0.74, rel=1e-12)
    assert traditional == pytest.approx(gdp - 88.0, rel=1e-12)
    g = gdp / 100.0 - 1.0
    assert traditional == pytest.approx(20.0 + g * 26.0 - 2.0, rel=1e-12)
    # manufactures as a whole (traditional + the markets' value added) grow with income
    assert (traditional + 8.0) / 26.0 - 1.0 == pytest.approx(g, rel=1e-12)
    # the same markets without substitution leave more traditional value added and more GDP
    plain_t, plain_gdp = traditional_and_gdp(20.0, 100.0, 88.0, 1.0, 1.0)
    assert traditional < plain_t and gdp < plain_gdp


def _growing_market(substitution: float):  # type: ignore[no-untyped-def]
    state = economy()
    state.macro.strategic_demand_va = strategic_demand_value_added(state)
    before = state.macro.strategic_demand_va
    state.technologies.demand = state.technologies.demand * 1.3  # Σ v D: 30 → 39, faster than income
    m = step(replace(PLAIN, strategic_substitution=substitution), state)
    return m, before


def test_the_substitution_share_scales_the_displacement() -> None:
    """χ = 1: traditional value added falls by the whole growth of χ Σ v D beyond income; χ = 0.5
    by half of it; χ = 0: not at all (and the markets' value added is then remembered unchanged)."""
    none, before = _growing_market(0.0)
    half, _ = _growing_market(0.5)
    full, _ = _growing_market(1.0)
    after = 1.3 * before
    assert full.strategic_demand_va == pytest.approx(after) and none.strategic_demand_va == pytest.approx(after)
    for m, chi in ((half, 0.5), (full, 1.0)):
        g = m.gdp / 100.0 - 1.0
        assert m.va_traditional == pytest.approx(20.0 + g * (20.0 + chi * before) - chi * (after - before))
    assert full.va_traditional < half.va_traditional < none.va_traditional


def test_only_home_demand_counts_not_chinese_sales_or_exports() -> None:
    """``Σ_t v_t D_t`` over the modelled industries: Chinese firms' revenue (home sales won from
    foreign suppliers, exports) does not enter; the traditional aggregate (not simulated) does not."""
    state = economy()
    value = strategic_demand_value_added(state)
    tech = state.technologies
    assert value == pytest.approx(float((tech.value_added_ratio * tech.demand)[tech.simulated].sum()))
    state.firms.revenue = state.firms.revenue * 3.0
    state.firms.exports = state.firms.revenue.copy()
    assert strategic_demand_value_added(state) == value


def test_runs_start_with_the_markets_value_added_of_the_start_year() -> None:
    scenario = io.load("baseline")
    model = build_model(to_config(api_small(scenario)), seed=0)
    assert model.state.macro.strategic_demand_va == strategic_demand_value_added(model.state)
    assert model.state.macro.strategic_demand_va > 0


def api_small(scenario):  # type: ignore[no-untyped-def]
    from nswn import api

    return api.with_overrides(scenario, firms=300, end_year=scenario.years.start + 1)


# --- nominal debt ----------------------------------------------------------------------------


def test_debt_is_nominal_credit_is_a_share_of_nominal_gdp_and_the_ratio_is_nominal() -> None:
    params = replace(PLAIN, credit_growth=0.2, inflation=0.05)
    state = economy(price_level=0.5, debt=75.0)  # debt/GDP = 75 / (0.5 · 100) = 1.5
    m = step(params, state)
    assert m.price_level == pytest.approx(0.5 * 1.05)
    assert m.debt == pytest.approx(75.0 + 0.2 * m.gdp * m.price_level)
    ratio = indicators.macro_indicators()["debt_to_gdp"](state)
    assert ratio == pytest.approx(m.debt / (m.gdp * m.price_level))
    assert indicators.macro_indicators()["gdp_nominal"](state) == pytest.approx(m.gdp * m.price_level)


def test_inflation_dilutes_the_debt_ratio() -> None:
    """The same real path with 5 % inflation ends with a lower debt/GDP than with none."""
    ratios = {}
    for inflation in (0.0, 0.05):
        state = economy(debt=150.0)
        for _ in range(3):
            step(replace(PLAIN, credit_growth=0.2, inflation=inflation), state)
        ratios[inflation] = state.macro.debt / (state.macro.gdp * state.macro.price_level)
    assert ratios[0.05] < ratios[0.0]


def test_real_flows_are_borrowed_at_this_years_prices() -> None:
    """SOE losses (a real flow) add P · losses to the nominal stock."""
    state = economy(price_level=0.5)
    state.macro.soe_losses = 10.0
    m = step(replace(PLAIN, inflation=0.1), state)
    assert m.debt == pytest.approx(0.55 * 10.0)


# --- R&D outside the modelled industries --------------------------------------------------


@pytest.mark.parametrize("elasticity", [0.0, 0.7])
def test_the_rest_of_the_economys_rd_intensity_rises_with_income(elasticity: float) -> None:
    state = economy()
    state.macro.rd_rest_intensity = 0.01
    m = step(replace(PLAIN, rd_income_elasticity=elasticity), state)
    assert m.gdp > 100.0
    assert m.rd_rest_intensity == pytest.approx(0.01 * (m.gdp / 100.0) ** elasticity)


# --- the start and the history inputs -----------------------------------------------------


def test_the_2006_start_holds_a_nominal_debt_at_2006_prices() -> None:
    model = build_model(to_config(io.load("history")), seed=0)
    m, facts = model.state.macro, catalog.macro_for(2006)
    assert m.price_level == pytest.approx(facts["gdp_deflator"].value)
    assert m.debt == pytest.approx(facts["debt_to_gdp"].value * facts["gdp"].value * facts["gdp_deflator"].value)
    assert indicators.macro_indicators()["debt_to_gdp"](model.state) == pytest.approx(facts["debt_to_gdp"].value)


def _series(indicator: str) -> dict[int, float]:
    text = resources.files("nswn.catalog").joinpath("history", "macro_series.csv").read_text(encoding="utf-8")
    return {int(r["year"]): float(r["value"]) for r in csv.DictReader(text.splitlines()) if r["indicator"] == indicator}


def test_history_inflation_and_credit_come_from_the_deflator_and_total_social_financing() -> None:
    _, macro = hindcast.derived_inputs()
    nominal, real, tsf = _series("gdp_current"), _series("gdp_2024_prices"), _series("tsf_flow")
    # 2009: the stimulus year (TSF 13.9 trn on nominal GDP 35.5 trn) and a flat deflator
    assert macro[2009]["credit_growth"] == pytest.approx(tsf[2009] / nominal[2009], abs=1e-5)
    assert macro[2009]["credit_growth"] > 0.35
    deflator = {y: nominal[y] / real[y] for y in nominal}
    for year in (2009, 2015, 2024):
        assert macro[year]["inflation"] == pytest.approx(deflator[year] / deflator[year - 1] - 1, abs=1e-5)
    assert macro[2024]["inflation"] < 0  # 2023-2024 deflation
    # the deflator path compounds to the vintage's start price level
    assert deflator[2006] / deflator[2024] == pytest.approx(catalog.macro_for(2006)["gdp_deflator"].value, rel=1e-3)


def test_a_history_year_applies_its_inflation_and_credit() -> None:
    """2006 → 2009 on a small population: the price level and debt follow the schedule."""
    result = nswn.simulate({"base": "history", "years": {"end": 2009}}, seed=0, firms=1500)
    m = result.macro_year.set_index("year")
    _, macro = hindcast.derived_inputs()
    for year in (2007, 2008, 2009):
        assert m.loc[year, "price_level"] / m.loc[year - 1, "price_level"] - 1 == pytest.approx(
            macro[year]["inflation"], rel=1e-9
        )
    debt = m["debt_to_gdp"] * m["gdp_nominal"]
    # the credit boom of 2009: new debt at least the credit share of nominal GDP
    assert debt.loc[2009] - debt.loc[2008] >= macro[2009]["credit_growth"] * m.loc[2009, "gdp_nominal"]
    assert m.loc[2009, "debt_to_gdp"] - m.loc[2008, "debt_to_gdp"] > 0.2


# --- round 2: sourced real services growth, nominal manufacturing share ----------------------


def test_services_grow_as_the_tertiary_volume_index_not_as_their_nominal_share() -> None:
    """Services' real growth comes from NBS's tertiary-industry volume index (the release's
    premium over GDP growth carried onto the final GDP vintage), not from the nominal share,
    which overstates it while services' relative price rises (model.md §12.1)."""
    _, macro = hindcast.derived_inputs()
    final, release, tertiary = (
        _series("gdp_real_growth"),
        _series("gdp_real_growth_release"),
        _series("tertiary_real_growth"),
    )
    share = _series("services_share")
    assert set(tertiary) >= set(range(2007, 2025))
    for year in range(2007, 2025):
        expected = (1 + final[year] / 100) * (1 + tertiary[year] / 100) / (1 + release[year] / 100) - 1
        assert macro[year]["services_growth"] == pytest.approx(expected, abs=1e-5), year
    # 2009 and 2015: services' relative price rose, so the share rule gave far more (14.2 %, 13.4 %)
    for year in (2009, 2015):
        from_share = (1 + final[year] / 100) * share[year] / share[year - 1] - 1
        assert macro[year]["services_growth"] < from_share - 0.04
    # 2020: the census break in the share series no longer leaks into real growth (2.1 % observed)
    assert macro[2020]["services_growth"] == pytest.approx(0.02, abs=1e-3)


def test_agriculture_grows_as_the_primary_industry_index_where_sourced() -> None:
    _, macro = hindcast.derived_inputs()
    # 2020: GDP +2.3 %, primary +3.0 % (communique); "other" grows between the two, not at the share rule's
    assert 0.02 < macro[2020]["other_growth"] < 0.03


def test_manufacturings_relative_price_comes_from_the_secondary_industrys_implicit_deflator() -> None:
    _, macro = hindcast.derived_inputs()
    share, release, secondary = (
        _series("secondary_share"),
        _series("gdp_real_growth_release"),
        _series("secondary_real_growth"),
    )
    for year in (2012, 2015, 2024):
        expected = share[year] / share[year - 1] * (1 + release[year] / 100) / (1 + secondary[year] / 100) - 1
        assert macro[year]["manufacturing_price_growth"] == pytest.approx(expected, abs=1e-5)
    # 2019 -> 2020 is measured on one (pre-census) vintage: the revision is not a price change
    pre = _series("secondary_share_pre_census")[2020]
    assert macro[2020]["manufacturing_price_growth"] == pytest.approx(
        pre / share[2019] * (1 + release[2020] / 100) / (1 + secondary[2020] / 100) - 1, abs=1e-5
    )
    # the relative price fell over 2006-2024 (Baumol: goods' prices fall relative to services')
    index = 1.0
    for values in macro.values():
        index *= 1 + values["manufacturing_price_growth"]
    assert 0.7 < index < 0.85
    # the projection default is that history's geometric mean (derived, judged to continue)
    assert MacroParams().manufacturing_price_growth == pytest.approx(index ** (1 / 18) - 1, abs=1e-4)


def test_the_nominal_manufacturing_share_is_the_real_share_times_the_relative_price() -> None:
    m = step(replace(PLAIN, manufacturing_price_growth=-0.1))
    state = economy()
    state.macro = m
    real = indicators.macro_indicators()["manufacturing_share"](state)
    nominal = indicators.macro_indicators()["manufacturing_share_nominal"](state)
    assert m.manufacturing_relative_price == pytest.approx(0.9)
    assert nominal == pytest.approx(0.9 * real)
    # the price moves only the reported share, never real value added or GDP
    flat = step(replace(PLAIN, manufacturing_price_growth=0.0))
    assert (m.gdp, m.va_traditional) == pytest.approx((flat.gdp, flat.va_traditional))


def test_the_hindcast_compares_the_nominal_manufacturing_share_with_the_nominal_target() -> None:
    import pandas as pd

    target = next(t for t in hindcast.targets() if t.indicator == "manufacturing_share" and t.year == 2016)
    macro = pd.DataFrame({"year": [2016], "manufacturing_share": [0.30], "manufacturing_share_nominal": [0.27]})
    assert hindcast.simulated_value(target, pd.DataFrame(columns=["technology_id"]), macro) == pytest.approx(27.0)


def test_the_census_factor_is_the_secondary_industrys_2020_revision() -> None:
    """Revised over pre-census secondary share in 2020 (the vintage the relative price's 2019 ->
    2020 step is measured on), about 0.976."""
    factor = hindcast.census_factor()
    assert factor == pytest.approx(_series("secondary_share")[2020] / _series("secondary_share_pre_census")[2020])
    assert factor == pytest.approx(0.9759, abs=1e-4)


def test_manufacturing_shares_from_2020_are_compared_on_the_post_census_basis() -> None:
    import pandas as pd

    by_year = {t.year: t for t in hindcast.targets() if t.indicator.startswith("manufacturing_share")}
    macro = pd.DataFrame(
        {"year": [2019, 2020, 2021, 2024], "manufacturing_share": [0.3] * 4, "manufacturing_share_nominal": [0.27] * 4}
    )
    tech = pd.DataFrame(columns=["technology_id"])
    # before the revision's first year: the nominal share as it is (pre-census targets)
    assert hindcast.simulated_value(by_year[2019], tech, macro) == pytest.approx(27.0)
    # from it: converted, whichever indicator name the target uses (revised series or a later first release)
    assert by_year[2021].indicator == "manufacturing_share_revised" and by_year[2024].indicator == "manufacturing_share"
    for year in (2021, 2024):
        assert hindcast.simulated_value(by_year[year], tech, macro) == pytest.approx(27.0 * hindcast.census_factor())
    published = hindcast.published_manufacturing_share(macro)
    assert published.loc[2020] == pytest.approx(27.0 * hindcast.census_factor())
    assert published.loc[2019] == pytest.approx(27.0)
    # every manufacturing target from the census basis year on says it is on the post-census basis
    import csv
    from importlib import resources

    text = resources.files("nswn.catalog").joinpath("history", "targets.csv").read_text(encoding="utf-8")
    notes = {row["target_id"]: row["note"] for row in csv.DictReader(text.splitlines())}
    for year, target in by_year.items():
        basis = "post-census basis" if year >= hindcast.CENSUS_BASIS_FROM else "pre-census basis"
        assert notes[target.target_id] == basis


def test_the_census_revision_moved_manufacturing_with_the_secondary_industry_in_2021() -> None:
    """The conversion's assumption, checked where both vintages of both shares are in the data."""
    manufacturing = _series("manufacturing_share_revised")[2021] / _series("manufacturing_share")[2021]
    secondary = _series("secondary_share")[2021] / _series("secondary_share_csy2024")[2021]
    assert manufacturing == pytest.approx(secondary, abs=0.002)
    assert 0.96 < hindcast.census_factor() < 0.99 and 0.96 < secondary < 0.98


def test_observed_manufacturing_shares_are_listed_on_the_basis_of_each_year() -> None:
    observed = hindcast.published_manufacturing_share_observed()
    first, revised = _series("manufacturing_share"), _series("manufacturing_share_revised")
    expected = {y: v for y, v in first.items() if y < 2020} | {y: revised[y] for y in (2021, 2022, 2023)}
    assert observed == expected | {2024: first[2024]}  # 2024: first published after the revision
    assert list(observed) == sorted(observed) and 2020 not in observed  # 2020: pre-census, no revised value
    assert (observed[2021], observed[2023]) == (26.62, 25.01) and (first[2021], first[2023]) == (27.4, 26.2)


def test_a_run_starting_on_the_post_census_basis_is_not_converted() -> None:
    import pandas as pd

    start_2024 = pd.DataFrame({"year": [2024, 2025], "manufacturing_share_nominal": [0.249, 0.248]})
    assert list(hindcast.published_manufacturing_share(start_2024)) == pytest.approx([24.9, 24.8])
    start_2006 = pd.DataFrame({"year": [2006, 2024], "manufacturing_share_nominal": [0.32, 0.26]})
    assert list(hindcast.published_manufacturing_share(start_2006)) == pytest.approx(
        [32.0, 26.0 * hindcast.census_factor()]
    )
    # a run without the nominal column is read on its real share, converted the same way
    real = pd.DataFrame({"year": [2006, 2024], "manufacturing_share": [0.32, 0.26]})
    assert list(hindcast.published_manufacturing_share(real)) == pytest.approx([32.0, 26.0 * hindcast.census_factor()])


# --- the labour-cost drag falls on the labour-intensive segments only ----------------------


def test_the_drag_on_the_aggregate_is_the_segments_drag_times_their_share() -> None:
    """η = 1: the segments grow with income less ε_w g_w; the aggregate less ε_w g_w λ (λ = 0.2)."""
    state = economy()
    state.macro.va_labour_intensive = 4.0
    m = step(PLAIN, state, labour_cost_growth=0.02)
    growth = m.gdp / 100.0 - 1
    assert m.va_traditional / 20.0 - 1 == pytest.approx(growth - 0.02 * 0.2, abs=1e-12)
    assert m.va_labour_intensive / 4.0 - 1 == pytest.approx(growth - 0.02, abs=1e-12)
    # the rest of the aggregate (steel, chemicals, …) grows with income, undragged
    assert (m.va_traditional - m.va_labour_intensive) / 16.0 - 1 == pytest.approx(growth, abs=1e-12)


@pytest.mark.parametrize(("scenario", "year"), [("history", 2006), ("baseline", 2024)])
def test_each_vintage_starts_its_labour_intensive_segments_at_the_sourced_share(scenario: str, year: int) -> None:
    facts = catalog.macro_for(year)
    fact = facts["labour_intensive_share"]
    assert 0.0 < fact.value < 0.5 and "NV.MNF.TXTL.ZS.UN" in fact.source
    model = build_model(to_config(io.load(scenario)), seed=0)
    m = model.state.macro
    assert m.va_labour_intensive == pytest.approx(fact.value * facts["manufacturing_value_added"].value)
    assert m.va_labour_intensive < m.va_traditional


def test_a_scenario_may_override_the_labour_intensive_share_within_zero_to_one() -> None:
    scenario = io.from_dict({"base": "baseline", "start_values": {"labour_intensive_share": 0.3}})
    m = build_model(to_config(scenario), seed=0).state.macro
    assert m.va_labour_intensive == pytest.approx(0.3 * catalog.macro_for(2024)["manufacturing_value_added"].value)
    with pytest.raises(io.ScenarioError) as error:
        io.from_dict({"base": "baseline", "start_values": {"labour_intensive_share": 1.5}})
    assert "labour_intensive_share = 1.5: out of range" in str(error.value)


def test_gdp_without_a_solution_stops_the_run_with_a_clear_error() -> None:
    """η (T₀ + S₀)/Y₀ ≥ 1: manufactures' income-driven demand would outgrow the GDP it adds to."""
    from nswn.core.model import SimulationError

    with pytest.raises(SimulationError, match="income_elasticity 1.5"):
        traditional_and_gdp(40.0, 100.0, 60.0, 1.0, 1.5, 30.0, 31.0)
    # just below the bound it is solved
    traditional, gdp = traditional_and_gdp(40.0, 100.0, 60.0, 1.0, 1.4, 30.0, 31.0)
    assert gdp == pytest.approx(traditional + 60.0)
