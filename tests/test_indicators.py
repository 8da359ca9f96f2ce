"""Recorded indicators (model.md §9) on a full baseline run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from nswn import catalog
from nswn.mechanisms.indicators import finalise


def test_one_row_per_simulated_technology_and_year(baseline_result: Any) -> None:
    tech = baseline_result.technology_year
    simulated = {t.id for t in catalog.technologies() if t.group != "traditional"}
    assert set(tech["technology_id"]) == simulated
    assert not tech.duplicated(["run_id", "technology_id", "year"]).any()
    assert len(tech) == len(simulated) * 27
    assert baseline_result.macro_year["year"].tolist() == list(range(2024, 2051))
    assert (tech["run_id"] == baseline_result.run_id).all()


def test_parity_flags_follow_relative_capability(baseline_result: Any) -> None:
    tech = baseline_result.technology_year
    np.testing.assert_array_equal(tech["parity_reached"], tech["relative_capability"] >= 0.9)
    np.testing.assert_allclose(tech["relative_capability"], np.exp(tech["best_capability"] - tech["frontier"]))
    np.testing.assert_allclose(tech["gap"], tech["frontier"] - tech["best_capability"])
    assert tech["parity_reached"].any() and not tech["parity_reached"].all()


def test_first_parity_year_is_the_first_year_at_parity(baseline_result: Any) -> None:
    tech = baseline_result.technology_year
    reached_some_time = 0
    for tech_id, rows in tech.groupby("technology_id"):
        years = rows.loc[rows["parity_reached"], "year"]
        first = rows["first_parity_year"].unique()
        assert len(first) == 1, tech_id
        if years.empty:
            assert np.isnan(first[0]), tech_id
        else:
            assert first[0] == years.min(), tech_id
            reached_some_time += 1
    assert 0 < reached_some_time < tech["technology_id"].nunique()


def test_the_books_balance_every_year(baseline_result: Any) -> None:
    macro = baseline_result.macro_year
    scale = macro["central_budget"] + macro["local_budget"] + 1.0
    assert (macro["ledger_imbalance"].abs() <= 1e-9 * scale).all()
    tech = baseline_result.technology_year
    funding = [c for c in tech.columns if c.startswith("funding_") and c != "funding_total"]
    assert funding
    later = tech["year"] > 2024
    np.testing.assert_allclose(tech.loc[later, funding].sum(axis=1), tech.loc[later, "funding_total"], rtol=1e-9)


def test_domestic_market_is_shared_between_china_and_the_foreign_competitor(baseline_result: Any) -> None:
    tech = baseline_result.technology_year
    foreign = tech["foreign_china_sales"] / tech["demand"]
    np.testing.assert_allclose(tech["china_domestic_share"] + foreign, 1.0, atol=1e-9)


def test_macro_identities(baseline_result: Any) -> None:
    macro = baseline_result.macro_year
    np.testing.assert_allclose(
        macro["manufacturing_share"], (macro["va_traditional"] + macro["va_strategic"]) / macro["gdp"]
    )
    start = macro.iloc[0]
    facts = catalog.macro()
    # start-year closures: the sourced manufacturing share and debt ratio are reproduced exactly
    assert start["manufacturing_share"] == pytest.approx(
        facts["manufacturing_value_added"].value / facts["gdp"].value, rel=1e-12
    )
    assert start["debt_to_gdp"] == pytest.approx(facts["debt_to_gdp"].value, rel=1e-12)
    assert start["gdp"] == pytest.approx(facts["gdp"].value)
    growth = macro["gdp"].iloc[1:].to_numpy() / macro["gdp"].iloc[:-1].to_numpy() - 1
    np.testing.assert_allclose(macro["gdp_growth"].iloc[1:], growth)
    assert np.isnan(macro["gdp_growth"].iloc[0])
    hhi = macro["hhi_priority"].iloc[1:]  # priorities are first set in the first simulated year
    assert ((hhi > 0) & (hhi <= 1)).all()


def test_finalise_by_hand() -> None:
    technology = {
        "technology_id": np.array(["a", "b", "a", "b", "a", "b"], dtype=object),
        "year": np.array([2024, 2024, 2025, 2025, 2026, 2026]),
        "relative_capability": np.array([0.5, 0.95, 0.92, np.nan, 0.7, 0.8]),
    }
    macro = {
        "publications": np.array([10.0, 12.0, 15.0]),
        "patents": np.array([1.0, 0.0, 2.0]),
        "gdp": np.array([100.0, 110.0, 121.0]),
    }
    finalise(technology, macro, parity=0.9)
    np.testing.assert_array_equal(technology["parity_reached"], [False, True, True, False, False, False])
    np.testing.assert_array_equal(technology["first_parity_year"], [2025, 2024, 2025, 2024, 2025, 2024])
    np.testing.assert_allclose(macro["publications_growth"], [np.nan, 0.2, 0.25])
    np.testing.assert_allclose(macro["gdp_growth"], [np.nan, 0.1, 0.1])
    assert np.isnan(macro["patents_growth"][2])  # growth from zero is undefined


def test_finalise_leaves_first_parity_empty_when_never_reached() -> None:
    technology = {
        "technology_id": np.array(["a", "a"], dtype=object),
        "year": np.array([2024, 2025]),
        "relative_capability": np.array([0.1, 0.2]),
    }
    macro = {name: np.array([1.0, 1.0]) for name in ("publications", "patents", "gdp")}
    finalise(technology, macro, parity=0.9)
    assert pd.isna(technology["first_parity_year"]).all()
