"""The capability attribution (``technology_attribution_year``): channels add up, exactly.

The record splits each technology-year's change of log relative capability
(``log(relative_capability)`` in ``technology_year``, i.e. ``c_best − F``) over channels
(mechanisms.attribution). These tests pin that the channels sum to that change within 1e-9
in several scenarios, that the check notices a channel that is not recorded, that the
channels' signs are what their definitions say, that recording changes no model output,
and that the table reaches the results store and ``nswn export``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from nswn import api
from nswn.core.state import CapabilityAttribution
from nswn.mechanisms import attribution

FIRMS = 300
END = 2032
TABLE = "technology_attribution_year"


def sum_gap(result: Any) -> pd.DataFrame:
    """Per technology-year: the change of log relative capability, the channels' sum, and the gap."""
    tech = result.technology_year.set_index(["technology_id", "year"]).sort_index()
    change = np.log(tech["relative_capability"]).groupby(level="technology_id").diff().rename("change")
    channels = result.breakdowns[TABLE]
    summed = channels.groupby(["technology_id", "year"])["log_capability_change"].sum(min_count=1).rename("summed")
    both = pd.concat([change, summed], axis=1).dropna()
    both["gap"] = (both["change"] - both["summed"]).abs()
    return both


@pytest.fixture(scope="module")
def runs() -> dict[str, Any]:
    scenarios = ("baseline", "no_controls", "shortlist5", "state_led")
    return {name: api.simulate(name, seed=3, firms=FIRMS, end_year=END) for name in scenarios}


@pytest.mark.parametrize("scenario", ["baseline", "no_controls", "shortlist5", "state_led"])
def test_channels_add_up_to_the_change_of_log_relative_capability(runs: dict[str, Any], scenario: str) -> None:
    result = runs[scenario]
    both = sum_gap(result)
    years = END - 2024
    technologies = result.technology_year["technology_id"].nunique()
    # every technology-year with a defined measure is attributed (none is dropped as undefined)
    assert len(both) == years * technologies
    assert both["change"].abs().max() > 1e-3  # the check is about real movement, not zeros
    assert both["gap"].max() <= 1e-9


def test_the_sum_check_fails_when_a_channel_is_not_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Break one channel's recording on purpose: the sum check must notice it."""
    original = CapabilityAttribution.add

    def drop_knowledge(self: CapabilityAttribution, channel: str, values: Any) -> None:
        if channel != "knowledge":
            original(self, channel, values)

    monkeypatch.setattr(CapabilityAttribution, "add", drop_knowledge)
    both = sum_gap(api.simulate("baseline", seed=3, firms=FIRMS, end_year=END))
    assert both["gap"].max() > 1e-4


def test_start_year_rows_are_zero_and_channels_are_one_row_per_technology_and_year(runs: dict[str, Any]) -> None:
    table = runs["baseline"].breakdowns[TABLE]
    assert (table.loc[table["year"] == 2024, "log_capability_change"] == 0).all()
    assert not table.duplicated(["technology_id", "channel", "year"]).any()
    assert set(attribution.FIXED_CHANNELS) <= set(table["channel"])
    # the central instruments and both local channels appear by name
    for channel in ("subsidy_megaprojects", "subsidy_export_discipline", "subsidy_local_discretion"):
        assert channel in set(table["channel"])


def test_channel_signs_follow_their_definitions(runs: dict[str, Any]) -> None:
    table = runs["baseline"].breakdowns[TABLE]
    by = table.groupby("channel")["log_capability_change"]
    assert by.max()["frontier_growth"] <= 0 and by.min()["frontier_growth"] < 0
    assert by.max()["frontier_learning"] <= 0
    assert by.max()["leader_change"] <= 0
    assert by.max()["exit"] <= 0
    assert by.min()["entry"] >= 0
    assert by.max()["controls_knowhow_cut"] <= 0
    for channel in ("emulation", "own_innovation", "knowledge", "subsidy_megaprojects"):
        assert by.min()[channel] >= 0 and by.max()[channel] > 0


def test_controls_cut_only_where_a_fence_stands(runs: dict[str, Any]) -> None:
    free = runs["no_controls"].breakdowns[TABLE]
    assert (free.loc[free["channel"] == "controls_knowhow_cut", "log_capability_change"] == 0).all()
    base = runs["baseline"]
    cut = base.breakdowns[TABLE].query("channel == 'controls_knowhow_cut'")
    fence = base.technology_year[["technology_id", "year", "fence_height"]]
    merged = cut.merge(fence, on=["technology_id", "year"])
    assert (merged.loc[merged["fence_height"] == 0, "log_capability_change"] == 0).all()
    assert (merged.loc[merged["fence_height"] > 0, "log_capability_change"] < 0).any()


def test_no_central_budget_means_no_central_subsidy_channel() -> None:
    result = api.simulate(
        {"base": "baseline", "levers": {"central_budget": {"share_of_gdp": 0.0}}}, seed=3, firms=FIRMS, end_year=END
    )
    table = result.breakdowns[TABLE]
    central = table[table["channel"].isin(["subsidy_megaprojects", "subsidy_unveiling_the_list"])]
    assert (central["log_capability_change"].fillna(0) == 0).all()
    local = table.query("channel == 'subsidy_local_discretion'")["log_capability_change"]
    assert local.max() > 0
    assert sum_gap(result)["gap"].max() <= 1e-9


def test_recording_changes_no_model_output(monkeypatch: pytest.MonkeyPatch, runs: dict[str, Any]) -> None:
    """The hooks only read: a run with every hook switched off gives identical tables."""
    for name in ("note_frontier", "reset_subsidies", "note_subsidy", "note_subsidy_paid", "note_innovation"):
        monkeypatch.setattr(attribution, name, lambda *args, **kwargs: None)
    monkeypatch.setattr(attribution, "note_turnover", lambda state, channel, before, after=None: before)
    quiet = api.simulate("baseline", seed=3, firms=FIRMS, end_year=END)
    pd.testing.assert_frame_equal(
        quiet.technology_year.drop(columns="run_id"), runs["baseline"].technology_year.drop(columns="run_id")
    )
    pd.testing.assert_frame_equal(
        quiet.macro_year.drop(columns="run_id"), runs["baseline"].macro_year.drop(columns="run_id")
    )


def test_the_table_reaches_the_store_and_export(runs: dict[str, Any], tmp_path: Path) -> None:
    from nswn.analysis.export import export_tables
    from nswn.storage.store import ResultsStore

    store = ResultsStore(tmp_path / "store")
    store.write(runs["baseline"])
    written = export_tables(tmp_path / "store", tmp_path / "out", "parquet", [TABLE])
    path = next(p for p in written if p.name == f"{TABLE}.parquet")
    back = pd.read_parquet(path)
    assert len(back) == len(runs["baseline"].breakdowns[TABLE])
    assert {"run_id", "technology_id", "group", "channel", "year", "log_capability_change"} <= set(back.columns)
    units = pd.read_csv(tmp_path / "out" / "units.csv")
    assert "log points" in units.query("column == 'log_capability_change'")["unit"].iloc[0]


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
def test_the_exit_channel_is_the_fall_of_the_best_when_the_leader_leaves(
    monkeypatch: pytest.MonkeyPatch, compiled: bool
) -> None:
    """Technology 0's best firm (capability 3, private, three loss-making years) exits and no firm
    enters: the exit channel is the new best minus the old, 1 − 3 = −2, and entry adds nothing —
    on the compiled path (one compaction, mark taken from the kept rows) as on the NumPy path."""
    import nswn.mechanisms.entry_exit as entry_exit_module
    from nswn.instruments.patent_reform import PatentReformParams
    from nswn.kernels import compiled as kernels_compiled
    from nswn.mechanisms.entry_exit import EntryExit, EntryExitParams
    from tiny_states import ctx, tiny_state

    if compiled and not kernels_compiled():
        pytest.skip("numba is not in use")
    monkeypatch.setattr(entry_exit_module, "kernels_compiled", lambda: compiled)
    state = tiny_state(
        n_tech=2,
        firm_values={
            "technology": np.array([0, 0, 0, 1, 1]),
            "capability": np.array([3.0, 1.0, 1.0, 2.0, 2.0]),
            "loss_streak": np.array([3, 0, 0, 0, 0], dtype=np.int8),
            "revenue": np.full(5, 10.0),
            "profit": np.array([-1.0, 1.0, 1.0, 1.0, 1.0]),
            "share": np.full(5, 0.1),
        },
    )
    state.attribution.take()  # nothing recorded before the step
    params = EntryExitParams(entry_rate=0.0, spinoff_rate=0.0, exit_after=3)
    EntryExit(params, PatentReformParams(), 0.0).step(state, ctx(state, 3))
    assert len(state.firms) == 4
    channels = state.attribution.take()
    np.testing.assert_allclose(channels["exit"], [-2.0, 0.0])
    np.testing.assert_allclose(np.nan_to_num(channels.get("entry", np.zeros(2))), [0.0, 0.0])
