"""Issue 16: a small, fast sample of the fuzz benchmark (benchmarks/fuzz.py) as property tests."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nswn.scenario import io

KEYS = st.sampled_from(["firms", "institutions", "years", "name", "base", "levers", "assumptions", "start", "end", "x"])
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=5) | VALUES)
def test_any_mapping_is_accepted_or_refused_with_a_scenario_error(data: object) -> None:
    try:
        scenario = io.from_dict(data)  # type: ignore[arg-type]
    except io.ScenarioError as exc:
        assert exc.problems and len(str(exc)) < 20_000
    else:
        assert scenario.firms >= 100 and math.isfinite(scenario.firms)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_file_is_accepted_or_refused_with_a_scenario_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        io.load(path)
    except io.ScenarioError as exc:
        assert exc.problems
