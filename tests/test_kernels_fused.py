"""The fused kernels of issue 14 give exactly their NumPy references: open-challenge winner
selection (top-k without ranking every firm), entry and exit's totals and its one compaction of
the firm table, and the segment bounds kept on the state."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nswn import kernels
from nswn.core import segments
from nswn.core.state import firm_rows
from nswn.instruments.unveiling_the_list import percentile_in_group
from nswn.kernels import ops

needs_numba = pytest.mark.skipif(not kernels._numba_importable(), reason="numba cannot be imported")


def reference_challenge(capability, noise, technology, n_tech, alignment, sigma, k):  # type: ignore[no-untyped-def]
    """The NumPy lines of ``UnveilingTheList.allocate`` for firms."""
    with kernels.using("numpy"):
        score = percentile_in_group(capability, technology, n_tech) + alignment + sigma * noise
        return segments.group_top(score, technology, n_tech, k), score


def fused_challenge(capability, noise, technology, n_tech, alignment, sigma, k):  # type: ignore[no-untyped-def]
    with kernels.using("numba"):
        out = ops.challenge_top(capability, noise, segments.segment_bounds(technology, n_tech), alignment, sigma, k)
    assert out is not None
    return out


def check_challenge(capability, noise, technology, n_tech, alignment, sigma, k):  # type: ignore[no-untyped-def]
    mask, score = reference_challenge(capability, noise, technology, n_tech, alignment, sigma, k)
    fast_mask, fast_score = fused_challenge(capability, noise, technology, n_tech, alignment, sigma, k)
    assert fast_mask.tolist() == mask.tolist()
    assert fast_score[mask].tobytes() == score[mask].tobytes()  # the winners' bids, bit for bit


@needs_numba
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("sizes", [(5000, 3000, 70, 1, 0), (20000,), (200, 65, 64, 900)])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_challenge_winners_are_those_of_ranking_every_firm(seed: int, sizes: tuple[int, ...], k: int) -> None:
    rng = np.random.default_rng(seed)
    technology = np.repeat(np.arange(len(sizes)), sizes).astype(np.int32)
    capability = rng.normal(0.0, 1.0, len(technology))
    if seed % 2:  # ties: a coarse grid of capabilities
        capability = np.round(capability, 1)
    if seed == 5:  # a few exact duplicates of the best firms
        capability[: len(capability) // 50] = capability.max()
    noise = rng.standard_normal(len(technology))
    check_challenge(capability, noise, technology, len(sizes), 0.3, 0.3, k)


@needs_numba
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 400), min_size=1, max_size=4),
    st.sampled_from([0.0, 0.01, 0.3, 3.0]),
    st.integers(1, 20),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["normal", "grid", "equal", "nan"]),
)
def test_challenge_winners_on_random_segments(sizes: list[int], sigma: float, k: int, seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    technology = np.repeat(np.arange(len(sizes)), sizes).astype(np.int32)
    n = len(technology)
    capability = {
        "normal": rng.normal(size=n),
        "grid": np.round(rng.normal(size=n), 1),
        "equal": np.full(n, 0.5),
        "nan": np.where(rng.random(n) < 0.05, np.nan, rng.normal(size=n)),
    }[kind]
    check_challenge(capability, rng.standard_normal(n), technology, len(sizes), 0.3, sigma, k)


@needs_numba
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=1, max_size=5), st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_demography_totals_are_the_group_sums(sizes: list[int], seed: int, exit_after: int) -> None:
    rng = np.random.default_rng(seed)
    n_tech = len(sizes)
    technology = np.repeat(np.arange(n_tech), sizes).astype(np.int32)
    n = len(technology)
    weight = rng.choice([1.0, 2.5, 7.0], n)
    capability = np.where(rng.random(n) < 0.05, np.nan, rng.normal(size=n))
    soe = rng.random(n) < 0.3
    loss_streak = rng.integers(0, 6, n).astype(np.int8)
    revenue, profit = rng.normal(size=n), rng.normal(size=n)
    with kernels.using("numba"):
        fused = ops.demography_totals(
            segments.segment_bounds(technology, n_tech),
            weight,
            capability,
            soe,
            loss_streak,
            exit_after,
            revenue,
            profit,
        )
    assert fused is not None
    count, best, exits, revenue_sum, profit_sum, leaving = fused
    expected_leaving = (~soe) & (loss_streak >= exit_after)
    assert leaving.tolist() == expected_leaving.tolist()
    for got, want in (
        (count, segments.group_sum(weight, technology, n_tech)),
        (best, segments.group_max(capability, technology, n_tech)),
        (exits, segments.group_sum(expected_leaving * weight, technology, n_tech)),
        (revenue_sum, segments.group_sum(revenue, technology, n_tech)),
        (profit_sum, segments.group_sum(profit, technology, n_tech)),
    ):
        assert got.tobytes() == want.tobytes()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=5),
    st.lists(st.integers(0, 4), min_size=5, max_size=5),
    st.lists(st.integers(0, 3), min_size=5, max_size=5),
    st.integers(0, 2**32 - 1),
)
def test_one_compaction_is_take_extend_and_stable_sort(
    sizes: list[int], entrants: list[int], spinoffs: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n_tech = len(sizes)
    enter, spin = np.array(entrants[:n_tech]), np.array(spinoffs[:n_tech])
    technology = np.repeat(np.arange(n_tech), sizes).astype(np.int32)
    n = len(technology)
    table = firm_rows(n, technology=technology, capability=rng.normal(size=n), age=rng.integers(0, 9, n))
    kept = np.flatnonzero(rng.random(n) < 0.7)
    tech_of = np.concatenate([np.repeat(np.arange(n_tech), enter), np.repeat(np.arange(n_tech), spin)])
    new = firm_rows(len(tech_of), technology=tech_of, capability=rng.normal(size=len(tech_of)))

    columns, bounds = ops.rebuild_sorted(table, kept, technology[kept], new, [enter, spin], n_tech, bump="age")

    expected = {name: values[kept] for name, values in table.items()}
    expected["age"] = expected["age"] + np.int16(1)
    expected = {name: np.concatenate([values, new[name]]) for name, values in expected.items()}
    order = np.argsort(expected["technology"], kind="stable")
    for name, values in expected.items():
        assert columns[name].dtype == table[name].dtype
        assert columns[name].tobytes() == values[order].astype(table[name].dtype).tobytes(), name
    assert bounds.tolist() == segments.segment_bounds(columns["technology"], n_tech).tolist()


def test_segment_bounds_on_the_state_follow_the_firm_table() -> None:
    from nswn import api
    from nswn.scenario.build import build_model, to_config

    model = build_model(to_config(api.with_overrides(api.load_scenario("baseline"), firms=400)), 1)
    state = model.state
    for _ in range(3):
        bounds = state.technology_bounds()
        assert bounds is not None
        assert bounds.tolist() == segments.segment_bounds(state.firms.technology, state.n_technologies).tolist()
        assert state.technology_bounds() is bounds  # cached while the table is unchanged
        model.step()
    state.firms.take(np.arange(len(state.firms))[::-1].copy())  # unsorted now
    assert state.technology_bounds() is None
    state.sort_firms()
    assert state.technology_bounds() is not None


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(0, 700), min_size=1, max_size=5),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["normal", "grid", "nan"]),
    st.sampled_from(["ones", "mixed", "some zero"]),
)
def test_weighted_median_with_the_unstable_sort_is_the_stable_one(
    sizes: list[int], seed: int, kind: str, weighting: str
) -> None:
    rng = np.random.default_rng(seed)
    technology = np.repeat(np.arange(len(sizes)), sizes).astype(np.int32)
    n = len(technology)
    values = {
        "normal": rng.normal(size=n),
        "grid": np.round(rng.normal(size=n), 1),
        "nan": np.where(rng.random(n) < 0.05, np.nan, rng.normal(size=n)),
    }[kind]
    weights = {
        "ones": np.ones(n),
        "mixed": rng.choice([1.0, 3.7, 12.25, 0.1], n),
        "some zero": np.where(rng.random(n) < 0.5, 0.0, rng.random(n)),
    }[weighting]
    bounds = segments.segment_bounds(technology, len(sizes))
    # the definition: a stable sort of each segment, the first value at half its weight
    expected = np.full(len(sizes), np.nan)
    for g in range(len(sizes)):
        lo, hi = bounds[g], bounds[g + 1]
        total = weights[lo:hi].sum()
        if hi > lo and total > 0:
            order = np.argsort(values[lo:hi], kind="stable")
            cumulative = np.cumsum(weights[lo:hi][order])
            expected[g] = values[lo:hi][order][np.searchsorted(cumulative, 0.5 * total)]
    assert segments.segment_weighted_median(values, weights, bounds).tobytes() == expected.tobytes()


@needs_numba
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_challenge_ties_between_bids_go_to_the_lower_index(seed: int, k: int) -> None:
    """Bids that tie exactly: 1 025 firms (percentiles ``1 − rank/1024``, exact binary fractions)
    and noise on a grid of 1/8; four firms whose ranks differ by 128 get noise that makes
    their bids equal and the best, so the winners depend on the tie rule alone (lower index
    first, as ``group_top``) — on the pruning path, which these segments take."""
    rng = np.random.default_rng(seed)
    n = 1025
    technology = np.zeros(n, dtype=np.int32)
    capability = rng.permutation(n).astype(float)  # distinct: firm i has rank n - 1 - capability[i]
    noise = np.round(rng.normal(0.0, 0.25, n) * 8) / 8
    noise = np.minimum(noise, 1.0)
    tied = [int(np.flatnonzero(capability == n - 1 - r)[0]) for r in (0, 128, 256, 384)]
    for step, i in enumerate(tied):
        noise[i] = 2.0 + step / 8  # bid = 1 − 128·step/1024 + 0.25 + 2 + step/8 = 3.25 for each
    mask, score = reference_challenge(capability, noise, technology, 1, 0.25, 1.0, k)
    assert len({score[i] for i in tied}) == 1
    fast_mask, fast_score = fused_challenge(capability, noise, technology, 1, 0.25, 1.0, k)
    assert fast_mask.tolist() == mask.tolist()
    assert fast_score[mask].tobytes() == score[mask].tobytes()


PRUNED = """
import hashlib, json
import numpy as np
import numba
from nswn import kernels
from nswn.core import segments
from nswn.kernels import ops
rng = np.random.default_rng(7)
sizes = (6000, 4000, 3000, 80, 0, 2500)
technology = np.repeat(np.arange(len(sizes)), sizes).astype(np.int32)
capability = rng.normal(size=len(technology))
noise = rng.standard_normal(len(technology))
bounds = segments.segment_bounds(technology, len(sizes))
mask, score = ops.challenge_top(capability, noise, bounds, 0.3, 0.3, 3)
digest = hashlib.sha256(mask.tobytes() + score[mask].tobytes()).hexdigest()
print(json.dumps({"digest": digest, "threads": numba.get_num_threads(), "module": kernels.module().__name__}))
"""


@needs_numba
def test_pruned_winner_selection_is_identical_with_one_and_two_threads() -> None:
    import json
    import os
    import subprocess
    import sys

    def run(threads: str) -> dict[str, object]:
        env = {**os.environ, "NSWN_KERNELS": "numba", "NSWN_THREADS": threads, "NUMBA_NUM_THREADS": "2"}
        done = subprocess.run([sys.executable, "-c", PRUNED], env=env, capture_output=True, text=True, check=True)
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    one, two = run("1"), run("2")
    assert (one["threads"], two["threads"]) == (1, 2)
    assert one["module"] != two["module"]  # the serial and the parallel build
    assert one["digest"] == two["digest"]
