"""The compiled national-team tournament gives exactly the NumPy reference's teams: the fused
kernels against the NumPy lines of ``select_team`` on random inputs (ties, zeros, -0.0, NaN,
unsorted and sorted provinces, technologies without priority), on a built economy with several
tournament settings, whole runs table by table, and one or two threads (model.md §6.8)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nswn
from nswn import kernels
from nswn.core import segments
from nswn.instruments.national_teams import NationalTeamParams, select_team
from nswn.kernels import ops
from nswn.scenario.build import build_model, to_config
from test_kernels import DIGEST, needs_numba, same_bits, tables_digest

# many ties, zeros and a signed zero; noise from a small pool so that measured scores tie too
TIED = [-0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 3.0]


@st.composite
def contest(draw: st.DrawFn) -> dict[str, np.ndarray | int]:
    """Firms sorted by technology (some technologies empty or without priority) in provinces that
    are unsorted, or sorted within each technology (then the province groups are contiguous)."""
    n_tech = draw(st.integers(1, 4))
    n_prov = draw(st.integers(1, 4))
    n = draw(st.integers(0, 60))

    def column(pool: list[float], size: int = n) -> np.ndarray:
        return np.array(draw(st.lists(st.sampled_from(pool), min_size=size, max_size=size)), dtype=np.float64)

    technology = np.sort(np.array(draw(st.lists(st.integers(0, n_tech - 1), min_size=n, max_size=n)), dtype=np.int32))
    province = np.array(draw(st.lists(st.integers(0, n_prov - 1), min_size=n, max_size=n)), dtype=np.int16)
    if draw(st.booleans()):
        province = province[np.lexsort((province, technology))]
    exports = column(TIED)
    if n and draw(st.booleans()):
        exports[draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.nan, np.inf]))
    share, grassroots, national = column([0.0, -0.0, 0.01, 0.5]), column([-1.0, 0.0, 0.5]), column([-1.0, 0.0, 0.5])
    if draw(st.booleans()):
        # scores equal to the exports, from three values: ties at every rank, in both rounds
        exports = column([1.0, 2.0, 3.0])
        share[:], grassroots[:], national[:] = 0.0, 0.0, 0.0
    return {
        "n_tech": n_tech,
        "n_prov": n_prov,
        "technology": technology,
        "province": province,
        "exports": exports,
        "share": share,
        "demand": column([0.0, 1.0, 3.5], n_tech),
        "priority": column([0.0, -0.0, 0.5, 1.0, np.nan], n_tech),
        "grassroots": grassroots,
        "national": national,
        "revenue": column([-1.0, -0.0, 0.0, 2.0, 2.0, np.inf]) + column([0.0, 0.0, np.nan]),
    }


def tournament_reference(e: dict, sigma: float, weight: float, per_province: int, team_size: int) -> np.ndarray:
    """The NumPy lines of ``select_team`` (``selection: score``) on ``e``, with ``segments.group_top``."""
    t, n_tech, n_prov = e["technology"], e["n_tech"], e["n_prov"]
    eligible = e["priority"][t] > 0

    def measured(noise: np.ndarray) -> np.ndarray:
        score = e["exports"] + weight * e["share"] * e["demand"][t]
        return np.asarray(score * np.exp(sigma * noise))

    local_group = t.astype(np.int64) * n_prov + e["province"]
    local = np.where(eligible, measured(e["grassroots"]), -np.inf)
    advance = segments.group_top(local, local_group, n_tech * n_prov, per_province) & eligible
    national = np.where(advance, measured(e["national"]), -np.inf)
    return np.asarray(segments.group_top(national, t, n_tech, team_size) & advance)


def tournament_compiled(e: dict, sigma: float, weight: float, per_province: int, team_size: int) -> np.ndarray | None:
    grassroots, national = e["grassroots"].copy(), e["national"].copy()
    with kernels.using("numba"):
        team = ops.national_team_score(
            e["exports"],
            e["share"],
            e["demand"],
            grassroots,
            national,
            e["province"],
            e["n_prov"],
            segments.segment_bounds(e["technology"], e["n_tech"]),
            e["priority"],
            referee_noise=sigma,
            domestic_weight=weight,
            per_province=per_province,
            team_size=team_size,
        )
    assert same_bits(grassroots, e["grassroots"]) and same_bits(national, e["national"])  # draws left alone
    return team


@needs_numba
@settings(max_examples=200, deadline=None)
@given(contest(), st.data())
def test_fused_tournament_is_the_reference(e: dict, data: st.DataObject) -> None:
    sigma = data.draw(st.sampled_from([0.0, 0.2, 1.0]))
    weight = data.draw(st.sampled_from([0.0, 1.0, 2.5]))
    per_province = data.draw(st.integers(1, 5))
    team_size = data.draw(st.integers(1, 8))
    with np.errstate(all="ignore"):
        reference = tournament_reference(e, sigma, weight, per_province, team_size)
        fast = tournament_compiled(e, sigma, weight, per_province, team_size)
        eligible = e["priority"][e["technology"]] > 0
        scores = e["exports"] + weight * e["share"] * e["demand"][e["technology"]]
        nan_score = bool(np.isnan(scores[eligible] * np.exp(sigma * e["grassroots"][eligible])).any())
    if fast is None:
        # only a NaN score in a priority technology sends the tournament back to the NumPy lines
        assert nan_score
        return
    assert same_bits(reference, fast)
    assert not (fast & ~eligible).any()


@needs_numba
@settings(max_examples=150, deadline=None)
@given(contest(), st.integers(0, 8))
def test_fused_team_by_size_is_the_reference(e: dict, team_size: int) -> None:
    t, n_tech = e["technology"], e["n_tech"]
    eligible = e["priority"][t] > 0
    reference = segments.group_top(np.where(eligible, e["revenue"], -np.inf), t, n_tech, team_size) & eligible
    with kernels.using("numba"):
        fast = ops.national_team_size(e["revenue"], segments.segment_bounds(t, n_tech), e["priority"], team_size)
    assert fast is not None and same_bits(reference, fast)


@needs_numba
def test_ties_go_to_the_lower_index_in_both_rounds() -> None:
    """Scores 5, 5, 6, 5 (firm 3 in another province), two advance per province, team of two:
    province 0 sends firms 2 and 0 (0 before 1 on the tie), province 1 firm 3; the national round
    ties 0 and 3 at 5 and takes 0. Both paths, against these hand-worked teams."""
    e = {
        "n_tech": 1,
        "n_prov": 2,
        "technology": np.zeros(4, dtype=np.int32),
        "province": np.array([0, 0, 0, 1], dtype=np.int16),
        "exports": np.array([5.0, 5.0, 6.0, 5.0]),
        "share": np.zeros(4),
        "demand": np.ones(1),
        "priority": np.ones(1),
        "grassroots": np.zeros(4),
        "national": np.zeros(4),
    }
    for per_province, team_size, team in ((2, 2, [0, 2]), (2, 3, [0, 2, 3]), (1, 2, [2, 3])):
        reference = tournament_reference(e, 0.2, 1.0, per_province, team_size)
        fast = tournament_compiled(e, 0.2, 1.0, per_province, team_size)
        assert fast is not None
        assert list(np.flatnonzero(reference)) == team and list(np.flatnonzero(fast)) == team


def test_the_numpy_switch_unsorted_firms_and_nan_scores_leave_the_numpy_lines() -> None:
    one = np.ones(3)
    args = (one, one, one, one, one, np.zeros(3, dtype=np.int16), 1)
    knobs = {"referee_noise": 0.2, "domestic_weight": 1.0, "per_province": 1, "team_size": 1}
    bounds = np.array([0, 3], dtype=np.intp)
    with kernels.using("numpy"):
        assert ops.national_team_score(*args, bounds, one[:1], **knobs) is None
        assert ops.national_team_size(one, bounds, one[:1], 1) is None
    if not kernels._numba_importable():
        return
    with kernels.using("numba"):
        assert ops.national_team_score(*args, None, one[:1], **knobs) is None
        assert ops.national_team_size(one, None, one[:1], 1) is None
        exports = np.array([1.0, np.nan, 2.0])
        # a NaN score in a priority technology: the NumPy lines; in a technology without priority: ignored
        assert ops.national_team_score(exports, *args[1:], bounds, one[:1], **knobs) is None
        team = ops.national_team_score(exports, *args[1:], bounds, np.zeros(1), **knobs)
        assert team is not None and not team.any()


@needs_numba
@pytest.mark.parametrize(
    "knobs",
    [
        {},
        {"per_province": 1, "team_size": 1},
        {"per_province": 30, "team_size": 40, "referee_noise": 0.0},
        {"per_province": 4, "team_size": 12, "referee_noise": 2.0, "score_domestic_weight": 0.0},
        {"selection": "size", "team_size": 7},
    ],
)
def test_select_team_on_a_built_economy_is_the_reference(knobs: dict) -> None:
    """Both paths of ``select_team`` on the export-discipline economy (firms sorted by technology,
    provinces interleaved): the same team; the compiled path really runs (no NaN fallback)."""
    state = build_model(to_config(nswn.load_scenario("export_discipline")), 4).state
    state.firms.exports = state.firms.revenue * np.linspace(0.0, 0.6, len(state.firms))  # exports at the start are 0
    params = NationalTeamParams(**{"share": 0.1, **knobs})
    teams = {}
    for name in kernels.BACKENDS:
        copied = copy.deepcopy(state)
        with kernels.using(name):
            select_team(copied, params, np.random.default_rng(17))
        teams[name] = copied.firms.national_team
    assert same_bits(teams["numpy"], teams["numba"])
    assert teams["numba"].sum() > 0
    with kernels.using("numba"):
        if params.selection == "score":
            rng = np.random.default_rng(17)
            n = len(state.firms)
            assert (
                ops.national_team_score(
                    state.firms.exports,
                    state.firms.share,
                    state.technologies.demand,
                    rng.standard_normal(n),
                    rng.standard_normal(n),
                    state.firms.province,
                    len(state.provinces),
                    state.technology_bounds(),
                    state.technologies.priority,
                    referee_noise=params.referee_noise,
                    domestic_weight=params.score_domestic_weight,
                    per_province=params.per_province,
                    team_size=params.team_size,
                )
                is not None
            )


@needs_numba
# export_discipline (tournament by score, a tenth of the budget); state_led (teams by size);
# baseline (national teams not funded: the tournament does not run); export_discipline with a
# tournament every year and larger rounds
@pytest.mark.parametrize(
    ("scenario", "overrides"),
    [
        ("export_discipline", None),
        ("state_led", None),
        ("baseline", None),
        (
            "export_discipline",
            {
                "levers.instruments.national_teams.period": 1,
                "levers.instruments.national_teams.per_province": 3,
                "levers.instruments.national_teams.team_size": 9,
            },
        ),
    ],
)
def test_whole_runs_are_identical_table_by_table(scenario: str, overrides: dict | None) -> None:
    runs = {}
    for name in kernels.BACKENDS:
        with kernels.using(name):
            runs[name] = nswn.simulate(scenario, seed=7, firms=700, end_year=2030, overrides=overrides)
    for table in ("technology_year", "macro_year"):
        pd.testing.assert_frame_equal(getattr(runs["numpy"], table), getattr(runs["numba"], table), check_exact=True)
    assert tables_digest(runs["numpy"]) == tables_digest(runs["numba"])


@needs_numba
def test_two_threads_give_the_same_tables() -> None:
    # the tournament kernel loops over technology segments with prange
    code = DIGEST.replace('"baseline"', '"export_discipline"')
    assert code != DIGEST
    digests = {}
    for threads in ("1", "2"):
        env = {**os.environ, "NSWN_KERNELS": "numba", "NSWN_THREADS": threads, "NUMBA_NUM_THREADS": "2"}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["threads"] == int(threads) and result["kernels"] == "numba"
        digests[threads] = result["digest"]
    assert digests["1"] == digests["2"]
