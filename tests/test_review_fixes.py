"""Regression tests for defects found in review."""

from __future__ import annotations

from pathlib import Path

import pytest

from nswn import api
from nswn.core.model import SimulationError
from nswn.scenario import io, reference

ROOT = Path(__file__).resolve().parents[1]


def test_docs_scenarios_md_is_the_generators_output() -> None:
    assert (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8") == reference.markdown()


def test_an_exploding_firm_population_stops_with_a_clear_error() -> None:
    scenario = {
        "base": "baseline",
        "firms": 500,
        "years": {"end": 2040},
        "assumptions": {"entry_exit": {"entry_rate": 1.0, "spinoff_rate": 1.0}},
        "levers": {"patent_reform": {"inventor_share": 1.0}},
    }
    with pytest.raises(SimulationError, match="firm population would reach"):
        api.simulate(scenario, seed=0)


def test_instruments_that_are_off_do_not_enter_the_scenario_hash() -> None:
    scenario = io.load("baseline")
    data = scenario.model_dump(mode="json")
    assert data["levers"]["instruments"]["national_teams"] is None
    digest = io.scenario_hash(scenario)
    data["levers"]["instruments"].pop("national_teams")
    assert io.scenario_hash(io.validate(data, "test")) == digest


def test_a_file_that_is_not_text_is_a_clear_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(io.ScenarioError, match="not UTF-8 text"):
        io.load(path)


def test_compare_shows_no_value_for_years_the_runs_do_not_reach() -> None:
    table, _ = api.compare("baseline", "no_controls", seeds=1, firms=500, end_year=2030)
    row = table.set_index("indicator").loc["stranglehold_parity_2035"]
    assert row.isna()[["a", "b", "difference"]].all()
