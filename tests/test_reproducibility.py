"""Same scenario + seed ⇒ identical tables; another seed ⇒ different ones."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import nswn


def without_run_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="run_id")


def test_same_seed_gives_identical_tables(baseline_result: Any) -> None:
    again = nswn.simulate("baseline", seed=0, firms=2000)
    pd.testing.assert_frame_equal(again.technology_year, baseline_result.technology_year)
    pd.testing.assert_frame_equal(again.macro_year, baseline_result.macro_year)
    assert again.run_id == baseline_result.run_id
    assert again.manifest["scenario_hash"] == baseline_result.manifest["scenario_hash"]


def test_a_different_seed_gives_different_tables(baseline_result: Any) -> None:
    other = nswn.simulate("baseline", seed=1, firms=2000)
    assert other.run_id != baseline_result.run_id
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(
            without_run_id(other.technology_year), without_run_id(baseline_result.technology_year)
        )
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(without_run_id(other.macro_year), without_run_id(baseline_result.macro_year))
    # the start year is the catalog's whatever the seed
    assert other.macro_year["gdp"].iloc[0] == baseline_result.macro_year["gdp"].iloc[0]


def test_results_do_not_depend_on_what_ran_before() -> None:
    first = nswn.simulate("baseline", seed=3, firms=1000, end_year=2030)
    nswn.simulate("baseline", seed=4, firms=1500, end_year=2028)
    second = nswn.simulate("baseline", seed=3, firms=1000, end_year=2030)
    pd.testing.assert_frame_equal(first.technology_year, second.technology_year)
    pd.testing.assert_frame_equal(first.macro_year, second.macro_year)


def test_the_same_scenario_given_as_a_mapping_gives_the_same_run() -> None:
    by_name = nswn.simulate("baseline", seed=5, firms=1000, end_year=2028)
    by_dict = nswn.simulate({"base": "baseline"}, seed=5, firms=1000, end_year=2028)
    assert by_dict.run_id == by_name.run_id
    pd.testing.assert_frame_equal(by_dict.technology_year, by_name.technology_year)
    pd.testing.assert_frame_equal(by_dict.macro_year, by_name.macro_year)


def test_a_renamed_copy_has_the_same_content_hash_and_results() -> None:
    by_name = nswn.simulate("baseline", seed=5, firms=1000, end_year=2028)
    renamed = nswn.simulate({"base": "baseline", "name": "renamed"}, seed=5, firms=1000, end_year=2028)
    assert renamed.manifest["scenario_name"] == "renamed"
    assert renamed.manifest["scenario_hash"] == by_name.manifest["scenario_hash"]
    pd.testing.assert_frame_equal(without_run_id(renamed.technology_year), without_run_id(by_name.technology_year))


def test_a_negative_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        nswn.simulate("baseline", seed=-1, firms=1000, end_year=2026)
