"""Scenario files: every error path of ``nswn.scenario.io`` / ``schema``, and ``base:`` inheritance."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nswn.mechanisms.initialisation import InitialParams
from nswn.scenario import io
from nswn.scenario.io import ScenarioError


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(source: Path | str | dict[str, Any]) -> list[io.Problem]:
    with pytest.raises(ScenarioError) as caught:
        if isinstance(source, dict):
            io.from_dict(source)
        else:
            io.load(source)
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return caught.value.problems


def only_problem(source: Path | str | dict[str, Any]) -> io.Problem:
    problems = problems_of(source)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# ----------------------------------------------------------------------------- schema errors


def test_unknown_top_level_key_suggests_the_close_one(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.yaml", "firm: 1000\n")
    problem = only_problem(path)
    assert problem.file == str(path) and problem.path == "firm"
    text = str(problem)
    assert text.startswith(f"{path}: firm: unknown key")
    assert "did you mean 'firms'?" in text
    assert "allowed here:" in text and "levers" in text


def test_unknown_nested_key_suggests_the_close_one(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.yaml", "levers:\n  priorities:\n    mdoe: broad\n")
    problem = only_problem(path)
    assert problem.path == "levers.priorities.mdoe"
    assert "did you mean 'mode'?" in str(problem)
    assert "shortlist_size" in str(problem)  # lists the allowed keys of that section


def test_out_of_range_names_file_path_value_and_range(tmp_path: Path) -> None:
    path = write(tmp_path, "big.yaml", "levers:\n  central_budget:\n    share_of_gdp: 0.9\n")
    text = str(only_problem(path))
    assert str(path) in text
    assert "levers.central_budget.share_of_gdp = 0.9" in text
    assert "out of range" in text and "from 0.0 to 0.05" in text


def test_out_of_range_integer_says_integer(tmp_path: Path) -> None:
    text = str(only_problem(write(tmp_path, "few.yaml", "firms: 5\n")))
    assert "firms = 5" in text and "integer from 100 to 10000000" in text


@pytest.mark.parametrize(
    ("yaml_text", "path", "expected"),
    [
        ("assumptions:\n  innovation:\n    emulation_rate: fast\n", "assumptions.innovation.emulation_rate", "number"),
        ("firms: 1000.5\n", "firms", "integer"),
        ("firms: [1, 2]\n", "firms", "integer"),
        ("years: 2030\n", "years", "Years"),
    ],
)
def test_wrong_type_names_the_field(tmp_path: Path, yaml_text: str, path: str, expected: str) -> None:
    problem = only_problem(write(tmp_path, "types.yaml", yaml_text))
    assert problem.path == path
    assert expected in problem.message


def test_wrong_type_of_a_ranged_number_also_states_the_range(tmp_path: Path) -> None:
    text = str(only_problem(write(tmp_path, "t.yaml", "levers:\n  central_budget:\n    share_of_gdp: lots\n")))
    assert "levers.central_budget.share_of_gdp = 'lots'" in text and "from 0.0 to 0.05" in text


def test_bad_literal_lists_the_choices(tmp_path: Path) -> None:
    problem = only_problem(write(tmp_path, "mode.yaml", "levers:\n  priorities:\n    mode: everything\n"))
    assert problem.path == "levers.priorities.mode"
    assert problem.value == "everything"
    assert "'broad'" in problem.message and "'shortlist'" in problem.message


def test_unknown_technology_in_an_export_control_batch(tmp_path: Path) -> None:
    text = """\
levers:
  export_controls:
    batches:
      - {technologies: [high_end_chips], year: 2022, fence_height: 0.5}
      - {technologies: [lithography], year: 2024, fence_height: 0.9}
"""
    problem = only_problem(write(tmp_path, "controls.yaml", text))
    assert problem.path == "levers.export_controls.batches.1.technologies"
    assert "unknown technology 'lithography'" in problem.message
    assert "did you mean 'lithography_machines'?" in problem.message


def test_batch_fence_height_out_of_range(tmp_path: Path) -> None:
    text = "levers:\n  export_controls:\n    batches:\n      - {technologies: [high_end_chips], fence_height: 1.5}\n"
    problem = only_problem(write(tmp_path, "fence.yaml", text))
    assert problem.path == "levers.export_controls.batches.0.fence_height"
    assert "from 0.0 to 1.0" in problem.message


def test_instrument_shares_must_sum_to_one(tmp_path: Path) -> None:
    problem = only_problem(
        write(tmp_path, "shares.yaml", "levers:\n  instruments:\n    basic_research: {share: 0.6}\n")
    )
    assert problem.path == "levers.instruments"
    assert "must sum to 1" in problem.message and "0.6000" in problem.message


def test_institution_type_shares_must_sum_to_one(tmp_path: Path) -> None:
    assert InitialParams().problems() == []
    bad = InitialParams(share_university=0.9)
    [(field, message)] = bad.problems()
    assert field == "share_university"
    assert "must sum to 1" in message and "1.3000" in message
    assert InitialParams(share_university=0.5, share_military_institute=0.2).problems() == []

    problem = only_problem(write(tmp_path, "mix.yaml", "assumptions:\n  initial:\n    share_university: 0.9\n"))
    assert problem.path == "assumptions.initial"
    assert "share_university" in problem.message and "must sum to 1" in problem.message


@pytest.mark.parametrize(("start", "end"), [(2024, 2024), (2024, 2020), (2006, 2005)])
def test_years_must_end_after_they_start(tmp_path: Path, start: int, end: int) -> None:
    problem = only_problem(write(tmp_path, "years.yaml", f"years: {{start: {start}, end: {end}}}\n"))
    assert problem.path == "years"
    assert f"end ({end}) must be after start ({start})" in problem.message


@pytest.mark.parametrize("start", [1990, 1999, 2010, 2030])
def test_a_start_year_without_a_vintage_is_refused_naming_the_vintages(tmp_path: Path, start: int) -> None:
    problem = only_problem(write(tmp_path, "start.yaml", f"years: {{start: {start}, end: 2040}}\n"))
    assert problem.path == "years"
    assert "no data vintage for this start year; available start years: 2006, 2024" in problem.message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = "firm: 1\nlevers:\n  priorities: {mode: everything}\n  central_budget: {share_of_gdp: -1}\n"
    paths = {p.path for p in problems_of(write(tmp_path, "many.yaml", text))}
    assert paths == {"firm", "levers.priorities.mode", "levers.central_budget.share_of_gdp"}


# ----------------------------------------------------------------------------- file errors


def test_invalid_yaml_syntax_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "name: x\nlevers: {priorities: [\n")
    problem = only_problem(path)
    assert problem.file == str(path)
    assert problem.message.startswith("invalid YAML: line ")
    assert "column" in problem.message


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("just a string\n", "str"), ("42\n", "int")])
def test_a_non_mapping_document_is_refused(tmp_path: Path, text: str, kind: str) -> None:
    problem = only_problem(write(tmp_path, "list.yaml", text))
    assert f"must be a mapping of keys to values, not {kind}" in problem.message


def test_an_empty_file_is_the_default_scenario_named_after_the_file(tmp_path: Path) -> None:
    scenario = io.load(write(tmp_path, "empty_one.yaml", ""))
    assert scenario.name == "empty_one"
    assert scenario.firms is None  # the whole real firm population


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    problem = only_problem(missing)
    assert problem.file == str(missing)
    assert "no such scenario file or shipped scenario" in problem.message
    assert "baseline" in problem.message  # lists what is shipped


def test_an_unknown_shipped_name_suggests_the_close_one() -> None:
    problem = only_problem("baselin")
    assert "did you mean 'baseline'?" in problem.message


def test_an_unreadable_path_is_reported(tmp_path: Path) -> None:
    directory = tmp_path / "folder.yaml"
    directory.mkdir()
    problem = only_problem(directory)
    assert "no such scenario file" in problem.message or "cannot read" in problem.message


# ----------------------------------------------------------------------------- inheritance


def test_circular_base_chain_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "base: b.yaml\n")
    write(tmp_path, "b.yaml", "base: c.yaml\n")
    write(tmp_path, "c.yaml", "base: a.yaml\n")
    problem = only_problem(tmp_path / "a.yaml")
    assert problem.path == "base"
    assert "circular base: a.yaml → b.yaml → c.yaml → a.yaml" in problem.message


def test_a_file_that_is_its_own_base_is_refused(tmp_path: Path) -> None:
    problem = only_problem(write(tmp_path, "self.yaml", "base: self.yaml\n"))
    assert "circular base" in problem.message


def test_base_must_be_a_name_or_path(tmp_path: Path) -> None:
    problem = only_problem(write(tmp_path, "num.yaml", "base: 3\n"))
    assert problem.path == "base" and problem.value == 3
    assert "must be a scenario name or a file path" in problem.message


def test_a_missing_base_file_is_reported(tmp_path: Path) -> None:
    problem = only_problem(write(tmp_path, "orphan.yaml", "base: parent_that_does_not_exist.yaml\n"))
    assert "no such scenario file" in problem.message


def test_base_inheritance_merges_deeply_and_keeps_identity(tmp_path: Path) -> None:
    write(
        tmp_path,
        "parent.yaml",
        """\
base: baseline
name: parent
description: the parent's description
claim: the parent's claim
firms: 5000
levers:
  priorities: {mode: shortlist, shortlist_size: 9}
  central_budget: {share_of_gdp: 0.01}
""",
    )
    write(tmp_path, "child.yaml", "base: parent.yaml\nlevers:\n  priorities: {shortlist_size: 7}\n")
    baseline = io.load("baseline")
    child = io.load(tmp_path / "child.yaml")
    assert child.levers.priorities.mode == "shortlist"  # from the parent
    assert child.levers.priorities.shortlist_size == 7  # the child's own
    assert child.levers.central_budget.share_of_gdp == 0.01  # parent, beside the child's priorities
    assert child.firms == 5000
    # what neither overrides comes from the shipped baseline, not the schema defaults
    assert child.levers.local_allocation == baseline.levers.local_allocation
    assert child.levers.export_controls == baseline.levers.export_controls
    # identity is the file's own: not inherited
    assert child.name == "child"
    assert child.description == ""
    assert child.claim == ""
    parent = io.load(tmp_path / "parent.yaml")
    assert (parent.name, parent.description, parent.claim) == (
        "parent",
        "the parent's description",
        "the parent's claim",
    )


def test_a_child_list_replaces_the_parent_list(tmp_path: Path) -> None:
    write(
        tmp_path,
        "child.yaml",
        "base: baseline\nlevers:\n  export_controls:\n    batches:\n"
        "      - {technologies: [photoresist], year: 2025, fence_height: 0.4}\n",
    )
    batches = io.load(tmp_path / "child.yaml").levers.export_controls.batches
    assert len(batches) == 1 and batches[0].technologies == ("photoresist",)


def test_the_scenario_hash_ignores_identity_but_not_content(tmp_path: Path) -> None:
    same = io.load(write(tmp_path, "renamed.yaml", "base: baseline\nname: other\ndescription: words\n"))
    changed = io.load(write(tmp_path, "changed.yaml", "base: baseline\nfirms: 20001\n"))
    baseline = io.load("baseline")
    assert io.scenario_hash(same) == io.scenario_hash(baseline)
    assert io.scenario_hash(changed) != io.scenario_hash(baseline)


# ----------------------------------------------------------------------------- from_dict


def test_from_dict_inherits_from_a_shipped_scenario() -> None:
    scenario = io.from_dict({"base": "baseline", "firms": 1234})
    assert scenario.firms == 1234
    assert scenario.name == "baseline"
    assert scenario.levers == io.load("baseline").levers


def test_from_dict_never_reads_a_path_named_as_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = write(tmp_path, "parent.yaml", "firms: 5000\n")
    read: list[Path] = []
    original = io._read_yaml

    def spy(path: Path) -> dict[str, Any]:
        read.append(path)
        return original(path)

    monkeypatch.setattr(io, "_read_yaml", spy)
    for base in (str(parent), "parent.yaml", "../etc/passwd", 7):
        problem = only_problem({"base": base})
        assert problem.path == "base"
        assert "must name a shipped scenario" in problem.message
    assert read == []


def test_from_dict_does_not_change_the_callers_mapping() -> None:
    data = {"base": "baseline", "levers": {"priorities": {"mode": "none"}}, "description": "mine"}
    snapshot = {"base": "baseline", "levers": {"priorities": {"mode": "none"}}, "description": "mine"}
    scenario = io.from_dict(data)
    assert data == snapshot
    assert scenario.description == "mine"


def test_from_dict_reports_problems_with_its_source_name() -> None:
    with pytest.raises(ScenarioError) as caught:
        io.from_dict({"firms": 1}, source="request body")
    assert str(caught.value).startswith("request body: firms = 1: out of range")


# ----------------------------------------------------------------------------- properties

RANGED_FLOATS = [
    ("levers.central_budget.share_of_gdp", 0.0, 0.05),
    ("levers.local_allocation.centralisation", 0.0, 1.0),
    ("assumptions.innovation.emulation_rate", 0.0, 1.0),
    ("assumptions.markets.learning_rate", 0.0, 1.0),
]


def nested(path: str, value: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    node = data
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return data


def get(model: Any, path: str) -> Any:
    for key in path.split("."):
        model = getattr(model, key)
    return model


@st.composite
def in_range(draw: st.DrawFn) -> tuple[str, float]:
    path, lo, hi = draw(st.sampled_from(RANGED_FLOATS))
    return path, draw(st.floats(lo, hi, allow_nan=False))


@st.composite
def out_of_range(draw: st.DrawFn) -> tuple[str, float]:
    path, lo, hi = draw(st.sampled_from(RANGED_FLOATS))
    below = st.floats(max_value=lo, exclude_max=True, allow_nan=False, allow_infinity=False)
    above = st.floats(min_value=hi, exclude_min=True, allow_nan=False, allow_infinity=False)
    return path, draw(st.one_of(below, above))


@given(in_range())
def test_any_in_range_value_validates(case: tuple[str, float]) -> None:
    path, value = case
    scenario = io.from_dict(nested(path, value))
    assert get(scenario, path) == value


@given(out_of_range())
def test_any_out_of_range_value_fails_naming_the_field(case: tuple[str, float]) -> None:
    path, value = case
    problem = only_problem(nested(path, value))
    assert problem.path == path
    assert "out of range" in problem.message
    assert math.isclose(problem.value, value)


@given(st.integers(100, 10_000_000))
def test_any_in_range_firm_count_validates(firms: int) -> None:
    assert io.from_dict({"firms": firms}).firms == firms


@given(st.one_of(st.integers(max_value=99), st.integers(min_value=10_000_001)))
def test_any_out_of_range_firm_count_fails(firms: int) -> None:
    problem = only_problem({"firms": firms})
    assert problem.path == "firms" and f"firms = {firms}" in str(problem)
