"""Experiment designs: expansion into run specs, seeds, samplers and clear errors (exit 2)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from nswn import cli
from nswn.cli import app
from nswn.experiments.design import (
    DesignError,
    RunSpec,
    design_from_dict,
    load_design,
    parameter,
    replicate_seeds,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "designs" / "example.yaml"
SMALL = {"firms": 500, "years": {"end": 2027}}


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 300)
    monkeypatch.setattr(cli.errors, "width", 300)


def design(**fields: Any) -> Any:
    data: dict[str, Any] = {"name": "t", "scenarios": ["baseline"], "seeds": 2, **SMALL}
    data.update(fields)
    return design_from_dict(data, source="t.yaml")


def test_the_example_design_expands_into_paired_arms() -> None:
    loaded = load_design(EXAMPLE)
    assert len(loaded.runs) == 1 * 2 * 3 * 4
    assert loaded.arms == ["baseline/priorities.mode=broad", "baseline/priorities.mode=shortlist"]
    assert len({spec.run_id for spec in loaded.runs}) == len(loaded.runs)
    by_arm: dict[str, list[RunSpec]] = {}
    for spec in loaded.runs:
        by_arm.setdefault(spec.arm, []).append(spec)
    broad, shortlist = by_arm.values()
    # common random numbers: the same world (uncertainty point × replicate) has the same seed and assumptions
    for a, b in zip(broad, shortlist, strict=True):
        assert (a.world, a.seed, a.overrides[1:]) == (b.world, b.seed, b.overrides[1:])
        assert a.overrides[0] == ("levers.priorities.mode", "broad")
        assert b.overrides[0] == ("levers.priorities.mode", "shortlist")
    assert {spec.seed for spec in loaded.runs} == set(loaded.seeds)


def test_specs_are_frozen_hashable_and_self_contained() -> None:
    spec = load_design(EXAMPLE).runs[0]
    assert hash(spec) == hash(dataclasses.replace(spec))
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 1  # type: ignore[misc]
    scenario = yaml.safe_load(spec.scenario_json)
    assert scenario["firms"] is None and scenario["years"]["end"] == 2035  # the whole real population
    assert scenario["levers"]["priorities"]["mode"] == "broad"
    assert scenario["assumptions"]["innovation"]["emulation_rate"] == spec.overrides[1][1]


def test_expansion_is_deterministic_and_seeds_extend_without_moving() -> None:
    assert load_design(EXAMPLE) == load_design(EXAMPLE)
    assert replicate_seeds(7, 5)[:3] == replicate_seeds(7, 3)
    assert replicate_seeds(7, 3) != replicate_seeds(8, 3)
    assert len(set(replicate_seeds(0, 1000))) == 1000
    small, large = design(seeds=2), design(seeds=4)
    assert {s.run_id for s in small.runs} < {s.run_id for s in large.runs}
    assert small.design_hash != large.design_hash


def test_listed_seeds_are_used_as_given() -> None:
    loaded = design(seeds=[7, 3])
    assert loaded.seeds == (7, 3)
    assert [s.seed for s in loaded.runs] == [7, 3]


def test_full_factorial_crosses_values_and_levels() -> None:
    loaded = design(
        seeds=1,
        levers={
            "sampler": "full_factorial",
            "parameters": {
                "levers.priorities.mode": {"values": ["broad", "shortlist"]},
                "levers.central_budget.share_of_gdp": {"range": [0.004, 0.006], "levels": 3},
            },
        },
    )
    points = {tuple(v for _, v in p) for p in loaded.levers.points}
    assert len(points) == 6
    assert sorted({p[1] for p in points}) == pytest.approx([0.004, 0.005, 0.006])
    assert len(loaded.arms) == 6


@pytest.mark.parametrize(
    ("sampler", "samples", "expected"),
    [("latin_hypercube", 5, 5), ("morris", 2, 2 * (2 + 1)), ("sobol", 4, 4 * (2 + 2))],
)
def test_salib_samplers_give_the_expected_number_of_points_within_range(
    sampler: str, samples: int, expected: int
) -> None:
    loaded = design(
        seeds=1,
        uncertainties={
            "sampler": sampler,
            "samples": samples,
            "parameters": {
                "assumptions.innovation.emulation_rate": {"range": [0.05, 0.2]},
                "assumptions.entry_exit.exit_after": {"range": [2, 6]},
            },
        },
    )
    assert len(loaded.uncertainties.points) == expected
    for point in loaded.uncertainties.points:
        values = dict(point)
        assert 0.05 <= values["assumptions.innovation.emulation_rate"] <= 0.2
        assert isinstance(values["assumptions.entry_exit.exit_after"], int)
        assert 2 <= values["assumptions.entry_exit.exit_after"] <= 6


def test_latin_hypercube_samples_choices_from_their_values() -> None:
    loaded = design(
        seeds=1,
        uncertainties={
            "samples": 6,
            "parameters": {"assumptions.markets.share_dynamics": {"values": ["logit", "replicator"]}},
        },
    )
    assert {dict(p)["assumptions.markets.share_dynamics"] for p in loaded.uncertainties.points} == {
        "logit",
        "replicator",
    }


def test_parameters_come_from_the_schema() -> None:
    rate = parameter("assumptions.innovation.emulation_rate")
    assert rate is not None and (rate.kind, rate.low, rate.high) == ("float", 0.0, 1.0)
    mode = parameter("levers.priorities.mode")
    assert mode is not None and "shortlist" in mode.choices
    assert parameter("levers.export_controls.batches") is None
    assert parameter("assumptions.innovation") is None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = "name: bad\nscenarios: [baseline]\nseeds: 2\nfirms: 500\nyears: {end: 2027}\n"

BAD_DESIGNS = [
    (
        BASE + "uncertainties:\n  samples: 4\n  parameters:\n"
        "    assumptions.innovation.emulation_rate: {range: [0.1, 1.5]}\n",
        "uncertainties.parameters.assumptions.innovation.emulation_rate.range",
        "outside the allowed range of assumptions.innovation.emulation_rate: from 0.0 to 1.0",
    ),
    (
        BASE + "uncertainties:\n  samples: 4\n  parameters:\n    levers.priorities.mode: {values: [broad]}\n",
        "uncertainties.parameters.levers.priorities.mode",
        "is a lever (policy): put it under levers",
    ),
    (
        BASE + "levers:\n  parameters:\n    levers.priorities.mdoe: {values: [broad]}\n",
        "levers.parameters.levers.priorities.mdoe",
        "no such parameter (did you mean 'levers.priorities.mode'?)",
    ),
    (
        BASE + "levers:\n  parameters:\n    levers.priorities.mode: {values: [broad, everything]}\n",
        "levers.parameters.levers.priorities.mode.values = 'everything'",
        'allowed: "none" | "broad"',
    ),
    (BASE + "sedes: 3\n", "sedes", "unknown key (did you mean 'seeds'?)"),
    (BASE.replace("seeds: 2", "seeds: 0"), "seeds = 0", "integer from 1 to 100000"),
    (BASE.replace("scenarios: [baseline]\n", ""), "scenarios", "missing"),
    (BASE.replace("[baseline]", "[baselin]"), "baselin", "did you mean 'baseline'?"),
    (BASE.replace("firms: 500", "firms: 5"), "bad.yaml: firms = 5", "out of range; allowed: integer from 100"),
    (
        BASE + "uncertainties:\n  sampler: sobol\n  samples: 6\n  parameters:\n"
        "    assumptions.innovation.emulation_rate: {range: [0.1, 0.2]}\n",
        "uncertainties.samples = 6",
        "power of 2",
    ),
    (
        BASE + "uncertainties:\n  sampler: morris\n  samples: 4\n  parameters:\n"
        "    assumptions.markets.share_dynamics: {values: [logit, replicator]}\n",
        "uncertainties.parameters.assumptions.markets.share_dynamics.values",
        "morris samples numeric ranges",
    ),
    (
        BASE + "uncertainties:\n  sampler: latin_hypercub\n  samples: 4\n  parameters:\n"
        "    assumptions.innovation.emulation_rate: {range: [0.1, 0.2]}\n",
        "uncertainties.sampler = 'latin_hypercub'",
        "did you mean 'latin_hypercube'?",
    ),
    (
        BASE + "levers:\n  parameters:\n    levers.instruments.basic_research.share: {values: [0.5]}\n",
        "bad.yaml (scenario baseline, levers point 0, uncertainties point 0): levers.instruments",
        "instrument shares must sum to 1",
    ),
    ("- just\n- a list\n", "bad.yaml", "a design must be a mapping"),
    ("name: [unclosed\n", "bad.yaml", "invalid YAML: line"),
]


@pytest.mark.parametrize(("text", "where", "message"), BAD_DESIGNS)
def test_invalid_designs_name_file_field_and_range(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DesignError) as caught:
        load_design(path)
    problems = "\n".join(str(p) for p in caught.value.problems)
    assert where in problems and message in problems, problems

    done = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out"), "--runner", "serial"])
    assert done.exit_code == 2, done.output
    assert where in done.output and message in done.output
    assert "Traceback" not in done.output
    assert not (tmp_path / "out" / "results.duckdb").exists()  # nothing is written for an invalid design


def test_a_missing_design_file_exits_2(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["sweep", str(tmp_path / "none.yaml"), "--out", str(tmp_path / "out")])
    assert done.exit_code == 2
    assert "none.yaml: cannot read design file" in done.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--runner", "threads"], "unknown runner 'threads'"),
        (["--runner", "serial", "--scheduler", "tcp://127.0.0.1:1"], "need --runner dask"),
        (["--scheduler", "tcp://127.0.0.1:1", "--dask-local", "2"], "not both"),
        (["--runner", "serial", "--workers", "3"], "serial runner uses one process"),
    ],
)
def test_runner_options_that_do_not_fit_exit_2(tmp_path: Path, options: list[str], message: str) -> None:
    done = CliRunner().invoke(app, ["sweep", str(EXAMPLE), "--out", str(tmp_path), *options])
    assert done.exit_code == 2
    assert message in done.output


def test_dry_run_shows_the_plan_and_runs_nothing(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["sweep", str(EXAMPLE), "--out", str(tmp_path / "out"), "--dry-run"])
    assert done.exit_code == 0, done.output
    assert "24 runs = 1 scenario × 2 lever points × 3 uncertainty points × 4 seeds" in done.output
    assert "baseline/priorities.mode=shortlist" in done.output
    assert not (tmp_path / "out" / "results.duckdb").exists()
