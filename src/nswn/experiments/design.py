"""Experiment designs: scenarios × levers × uncertainties × seeds → frozen run specs.

A design file (YAML) names the scenarios to compare, how many seeds (replicates) to run,
and two separate blocks of sampled parameters in the XLRM spirit of EMA Workbench:
``levers`` (what a government chooses: paths under ``levers.``) and ``uncertainties``
(how the world might work: paths under ``assumptions.``). Each block has its own sampler:
``full_factorial``, ``latin_hypercube``, or the ``morris`` and ``sobol`` samplers of SALib.

The design expands into :class:`RunSpec` objects, one per run: the cross product of
scenarios, lever points, uncertainty points and replicates. A spec is frozen, hashable and
self-contained: it carries the complete validated scenario (with the design's overrides
applied) as JSON, so any worker on any machine can run it without the design's files.

Seeds come from one root :class:`numpy.random.SeedSequence`: replicate ``r`` uses the seed
of child ``r`` in every scenario and lever arm (common random numbers), and the same
uncertainty point is paired with every arm, so arms can be compared run by run. A run's
seed and id never depend on where, in what order, or with how many other runs it runs;
raising ``seeds`` later keeps the first replicates' seeds, so their runs are reused.

Example
-------
::

    name: example
    scenarios: [baseline]
    seeds: 4
    root_seed: 2024

    years: {end: 2035}
    levers:
      sampler: full_factorial
      parameters:
        levers.priorities.mode: {values: [broad, shortlist]}
    uncertainties:
      sampler: latin_hypercube
      samples: 3
      parameters:
        assumptions.innovation.emulation_rate: {range: [0.05, 0.2]}

``worlds: calibrated`` (default ``judged``) draws the assumptions that ``nswn calibrate
--history`` calibrated from its posterior — particles by weight, reproducibly from the root
seed — instead of their judged ranges: one particle per uncertainty point (the block's
``samples``; ``worlds: {calibrated: N}`` gives N points when the block is absent). Other
assumptions in the block keep their Latin-hypercube sample. ``posterior:`` names a posterior
file or results directory (default: the shipped posterior); without any posterior the design
is refused.

References
----------
Kwakkel, J. H. (2017). The Exploratory Modeling Workbench. Environmental Modelling &
Software 96, 239–250 (XLRM: levers and uncertainties kept apart).
Herman, J. and Usher, W. (2017). SALib: an open-source Python library for sensitivity
analysis. Journal of Open Source Software 2(9), 97.
model.md §4 (stochasticity, common random numbers) and §10 (claims as paired experiments).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from nswn.experiments.sampling import (
    DEFAULT_FACTORIAL_LEVELS,
    MAX_PROBLEMS,
    ROLES,
    SAMPLERS,
    Block,
    Factor,
    Parameter,
    Problems,
    is_int,
    parameter,
    parameter_paths,
    parse_block,
    sample_block,
)
from nswn.scenario import io
from nswn.scenario.io import _NO_VALUE, Problem, ScenarioError

__all__ = [
    "SAMPLERS",
    "Block",
    "Design",
    "DesignError",
    "Factor",
    "Parameter",
    "RunSpec",
    "apply_overrides",
    "design_from_dict",
    "load_design",
    "parameter",
    "parameter_paths",
    "replicate_seeds",
]

TOP_KEYS = (
    "name",
    "description",
    "scenarios",
    "seeds",
    "root_seed",
    "firms",
    "institutions",
    "years",
    "levers",
    "uncertainties",
    "worlds",
    "posterior",
)
WORLDS = ("judged", "calibrated")
DEFAULT_CALIBRATED_WORLDS = 20  # worlds drawn from the posterior when the design gives no count
MAX_SEEDS = 100_000
MAX_RUNS = 1_000_000  # no design expands beyond this, whatever the cap
DEFAULT_MAX_RUNS = 20_000  # the default cap (``--max-runs`` or NSWN_MAX_RUNS raise it up to MAX_RUNS)
# seconds per 10 000 firm-years of one run on one core, from the measured "a 20 000-firm baseline
# run costs about 1.1 s" (26 years; docs/performance.md): 1.1 / 52; only used to say how long a
# refused design would take
SECONDS_PER_10K_FIRM_YEARS = 1.1 / 52
LABEL_LIMIT = 60

# children of the root SeedSequence: one per purpose, so adding a sampler never moves seeds
_REPLICATE_STREAM = 0
_SAMPLER_STREAM = {"levers": 1, "uncertainties": 2}
_WORLDS_STREAM = 3  # draws of posterior particles for ``worlds: calibrated``


class DesignError(ScenarioError):
    """A design cannot be loaded or expanded; ``problems`` lists every reason."""


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs; frozen and hashable, independent of where it runs.

    Attributes
    ----------
    run_id
        The run's id (:func:`nswn.api.run_id_for` of ``scenario_hash`` and ``seed``).
    arm
        Label of the scenario × lever point this run belongs to.
    scenario_name, scenario_hash
        Name of the design's scenario; hash of the scenario with the overrides applied.
    seed
        The run seed (the same for replicate ``replicate`` in every arm).
    replicate, lever_point, uncertainty_point
        Position in the design.
    overrides
        ``(dotted path, value)`` pairs applied to the scenario (levers, then uncertainties).
    scenario_json
        The complete validated scenario (overrides applied) as JSON.
    version
        The nswn version that expanded the design (part of the run id).
    """

    run_id: str
    arm: str
    scenario_name: str
    scenario_hash: str
    seed: int
    replicate: int
    lever_point: int
    uncertainty_point: int
    overrides: tuple[tuple[str, Any], ...]
    scenario_json: str = field(repr=False)
    version: str

    @property
    def world(self) -> str:
        """The pairing key: runs of different arms with the same world share seed and assumptions."""
        return f"u{self.uncertainty_point}:r{self.replicate}"


@dataclass(frozen=True)
class Design:
    """An expanded experiment design.

    Attributes
    ----------
    name, description, source
        From the file (``source`` is its path).
    design_hash
        SHA-256 (16 hex digits) of everything that decides the runs (not name or description).
    root_seed, seeds
        The root seed and the seed of each replicate.
    scenarios
        ``(name, hash)`` of each scenario, after the design's run-size settings.
    levers, uncertainties
        The two sampled blocks.
    runs
        One spec per planned run, ordered by scenario, lever point, uncertainty point, replicate.
    """

    name: str
    description: str
    source: str
    design_hash: str
    root_seed: int
    seeds: tuple[int, ...]
    scenarios: tuple[tuple[str, str], ...]
    levers: Block
    uncertainties: Block
    runs: tuple[RunSpec, ...]
    settings: tuple[tuple[str, Any], ...] = ()

    @property
    def arms(self) -> list[str]:
        """Arm labels in design order."""
        return list(dict.fromkeys(spec.arm for spec in self.runs))

    def unique_runs(self) -> list[RunSpec]:
        """The planned runs without repeats (two design points can denote the same run)."""
        seen: dict[str, RunSpec] = {}
        for spec in self.runs:
            seen.setdefault(spec.run_id, spec)
        return list(seen.values())

    def to_json(self) -> dict[str, Any]:
        """The normalised design (what the results store keeps in its ``designs`` table)."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "design_hash": self.design_hash,
            "root_seed": self.root_seed,
            "seeds": list(self.seeds),
            "scenarios": [{"name": n, "hash": h} for n, h in self.scenarios],
            "settings": dict(self.settings),
            "levers": self.levers.to_json(),
            "uncertainties": self.uncertainties.to_json(),
            "arms": self.arms,
        }


# ---------------------------------------------------------------------------------------
# loading


def load_design(path: str | Path, max_runs: int | None = None) -> Design:
    """Load, validate and expand a design file.

    Parameters
    ----------
    path
        The design's YAML file. Scenario paths in it are relative to the file.

    Raises
    ------
    DesignError
        With every problem (file, field path, value, allowed range).
    nswn.ScenarioError
        When a scenario the design names is itself invalid.
    """
    file, data = _read_design(path)
    return design_from_dict(data, source=str(file), base_dir=file.parent, default_name=file.stem, max_runs=max_runs)


def _read_design(path: str | Path) -> tuple[Path, Any]:
    file = Path(path)
    if len(str(file)) > 4 * io.MAX_NAME_CHARS or len(file.name) > io.MAX_NAME_CHARS:
        raise DesignError([Problem(io.short_text(file), "", _NO_VALUE, "file name too long")])
    return file, io.read_yaml_file(file, "design", DesignError)


def max_runs_allowed(max_runs: int | None = None) -> int:
    """The cap on a design's runs: ``max_runs``, else ``NSWN_MAX_RUNS``, else :data:`DEFAULT_MAX_RUNS`."""
    import os

    if max_runs is None:
        text = os.environ.get("NSWN_MAX_RUNS", "").strip()
        max_runs = int(text) if text.isdigit() else DEFAULT_MAX_RUNS
    return max(1, min(int(max_runs), MAX_RUNS))


def count_design(path: str | Path) -> tuple[int, str]:
    """How many runs a design file plans, counted without sampling or expanding (milliseconds).

    Returns ``(runs, shape)`` where ``shape`` reads like ``2 scenarios × 1 lever point × …``.
    Raises :class:`DesignError` for an invalid design.
    """
    file, data = _read_design(path)
    parsed = _parse(data, str(file), file.stem)
    return parsed[-2], parsed[-3]


def _block_points(block: Block) -> int:
    """Points a block's sampler will draw, by arithmetic (SALib's sample sizes)."""
    if not block.factors:
        return 1
    k = len(block.factors)
    n = int(block.samples or 1)
    if block.sampler == "full_factorial":
        count = 1
        for f in block.factors:
            if f.values:
                count *= len(f.values)
            else:
                levels = f.levels or block.levels or DEFAULT_FACTORIAL_LEVELS
                if f.parameter.kind == "int" and f.low is not None and f.high is not None:
                    levels = min(levels, int(np.floor(f.high) - np.ceil(f.low)) + 1)
                count *= max(1, levels)
        return count
    if block.sampler == "morris":
        return n * (k + 1)
    if block.sampler == "sobol":
        return n * (2 * k + 2 if block.second_order else k + 2)
    return n


def _estimate(runs: int, settings: dict[str, Any]) -> str:
    firms = settings.get("firms", 20_000)
    span = 26
    if isinstance(settings.get("years.end"), int) and isinstance(settings.get("years.start", 2024), int):
        span = max(1, settings["years.end"] - settings.get("years.start", 2024))
    firms = firms if isinstance(firms, int) and firms > 0 else 20_000
    seconds = runs * firms * span / 10_000 * SECONDS_PER_10K_FIRM_YEARS
    hours = seconds / 3600
    return f"about {hours:,.0f} CPU-hours" if hours >= 1 else f"about {seconds / 60:,.0f} CPU-minutes"


def check_header(data: Any, problems: Problems, top_keys: tuple[str, ...], default_name: str) -> tuple[Any, Any]:
    """Check that a design file is a mapping of known keys; return its ``name`` and
    ``description`` (problems are collected, raised at once if ``data`` is not a mapping)."""
    if not isinstance(data, dict):
        problems.add("", _NO_VALUE, f"a design must be a mapping of keys to values, not {type(data).__name__}")
        problems.raise_if_any()
    for key in data:
        if key not in top_keys:
            problems.unknown(str(key), top_keys)
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        problems.add("name", name, "must be a non-empty text")
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.add("description", description, "must be text")
    return name, description


def _parse(data: Any, source: str, default_name: str) -> tuple[Any, ...]:
    """Check a design's keys and blocks (no sampling, no scenarios loaded); count its runs."""
    problems = Problems(source)
    name, description = check_header(data, problems, TOP_KEYS, default_name)
    root_seed = data.get("root_seed", 0)
    if not is_int(root_seed) or root_seed < 0:
        problems.add("root_seed", root_seed, "must be a non-negative integer")
        root_seed = 0
    seeds = _seeds(data.get("seeds", _NO_VALUE), int(root_seed), problems)
    settings = _settings(data, problems)
    scenario_refs = _scenario_refs(data.get("scenarios", _NO_VALUE), problems)
    blocks = {role: parse_block(role, data.get(role), problems) for role in ROLES}
    worlds = _worlds(data, blocks["uncertainties"], problems)
    problems.raise_if_any()
    points = {role: _block_points(blocks[role]) for role in ROLES}
    if worlds is not None and not blocks["uncertainties"].factors:
        points["uncertainties"] = worlds[1]
    total = len(scenario_refs) * points["levers"] * points["uncertainties"] * len(seeds)
    plural = {"scenario": len(scenario_refs), "seed": len(seeds)}
    shape = " × ".join(
        [
            f"{plural['scenario']} scenario{'s' * (plural['scenario'] != 1)}",
            f"{points['levers']} lever point{'s' * (points['levers'] != 1)}",
            f"{points['uncertainties']} uncertainty point{'s' * (points['uncertainties'] != 1)}",
            f"{plural['seed']} seed{'s' * (plural['seed'] != 1)}",
        ]
    )
    return problems, name, description, root_seed, seeds, settings, scenario_refs, blocks, shape, total, worlds


def _worlds(data: dict[str, Any], block: Block, problems: Problems) -> tuple[str, int] | None:
    """Check ``worlds`` (and ``posterior``); ``(posterior source, points)`` for calibrated worlds."""
    value = data.get("worlds", "judged")
    count: Any = None
    if isinstance(value, dict) and list(value) == ["calibrated"]:
        count = value["calibrated"]
        if not is_int(count) or not 1 <= count <= MAX_SEEDS:
            problems.add("worlds.calibrated", count, f"out of range; allowed: integer from 1 to {MAX_SEEDS}")
            return None
        value = "calibrated"
    if value not in WORLDS:
        problems.add("worlds", value, "must be judged, calibrated or {calibrated: number of worlds}")
        return None
    source = data.get("posterior")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        problems.add("posterior", source, "must be the path of a posterior file or a results directory")
        return None
    if value == "judged":
        if source is not None:
            problems.add("posterior", source, "only used with worlds: calibrated")
        return None
    if block.factors and block.sampler != "latin_hypercube":
        problems.add(
            "worlds",
            value,
            "calibrated worlds replace sampled points, which only a latin_hypercube block allows "
            f"(not {block.sampler})",
        )
        return None
    if block.factors and count is not None:
        problems.add("worlds.calibrated", count, "the uncertainties block's samples already give the number of worlds")
        return None
    return (source or "", int(count or DEFAULT_CALIBRATED_WORLDS))


def _calibrated_block(
    block: Block, worlds: tuple[str, int], root: np.random.SeedSequence, base_dir: Path | None, problems: Problems
) -> tuple[Block, str, bool]:
    """The uncertainties block with the posterior's parameters drawn from its particles, the
    posterior's id, and whether it was made with another model than the installed one."""
    from nswn.experiments import posterior as post
    from nswn.experiments.sampling import Factor

    source, count = worlds
    try:
        if source:
            path = Path(source)
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            found = post.read(path)
        else:
            found = post.shipped()
    except post.PosteriorError as exc:
        problems.add("posterior", source, str(exc))
        return block, "", False
    if found is None:
        problems.add(
            "worlds",
            "calibrated",
            "no calibrated posterior is shipped or named: run `nswn calibrate --history --out DIR` and give "
            "posterior: DIR, or use worlds: judged",
        )
        return block, "", False
    n = len(block.points) if block.factors else count
    seed = np.random.SeedSequence(root.entropy, spawn_key=(_WORLDS_STREAM,))
    draws = found.sample(n, seed)
    factors = list(block.factors)
    known = {f.path for f in factors}
    for path in found.parameters:
        if path not in known:
            declared = parameter(path)
            if declared is None:
                problems.add("posterior", source or "shipped", f"its parameter {path} is not in the scenario schema")
                return block, "", False
            lo, hi = found.prior[path]
            factors.append(Factor(declared, low=lo, high=hi))
    matrix = [list(row) for row in block.matrix] if block.factors else [[] for _ in range(n)]
    points = [dict(p) for p in block.points] if block.factors else [{} for _ in range(n)]
    for i, draw in enumerate(draws):
        row = matrix[i] + [math.nan] * (len(factors) - len(matrix[i]))
        for j, f in enumerate(factors):
            if f.path in draw:
                row[j] = draw[f.path]
                points[i][f.path] = draw[f.path]
        matrix[i] = row
    ordered = [tuple((f.path, point[f.path]) for f in factors) for point in points]
    return (
        Block(
            "uncertainties",
            sampler="latin_hypercube",
            samples=n,
            factors=tuple(factors),
            points=tuple(ordered),
            matrix=tuple(tuple(float(x) for x in row) for row in matrix),
        ),
        found.posterior_id,
        found.stale(),
    )


def design_from_dict(
    data: Any,
    source: str = "<design>",
    base_dir: Path | None = None,
    default_name: str = "design",
    max_runs: int | None = None,
) -> Design:
    """Validate and expand a design given as a mapping (see :func:`load_design`).

    The runs are counted before anything is sampled: a design over the cap
    (:func:`max_runs_allowed`) is refused at once, saying how many runs and how long.
    """
    problems, name, description, root_seed, seeds, settings, scenario_refs, blocks, shape, total, worlds = _parse(
        data, source, default_name
    )
    cap = max_runs_allowed(max_runs)
    if total > cap:
        problems.add(
            "",
            _NO_VALUE,
            f"the design expands to {total:,} runs ({shape}), {_estimate(total, settings)} at the measured "
            f"rate; at most {cap:,} are allowed (raise the cap with --max-runs or NSWN_MAX_RUNS, "
            f"up to {MAX_RUNS:,}, or reduce samples, seeds or parameters)",
        )
        problems.raise_if_any()

    # sample the blocks (seeded from the root), then load the scenarios and expand
    root = np.random.SeedSequence(int(root_seed))
    sampled = {role: sample_block(blocks[role], _sampler_seed(root, role), problems) for role in ROLES}
    problems.raise_if_any()
    world_settings: dict[str, Any] = {}
    if worlds is not None:
        sampled["uncertainties"], posterior_id, stale = _calibrated_block(
            sampled["uncertainties"], worlds, root, base_dir, problems
        )
        problems.raise_if_any()
        world_settings = {"worlds": "calibrated", "posterior_id": posterior_id}
        if stale:
            world_settings["posterior_stale"] = True
    scenarios = _load_scenarios(scenario_refs, settings, base_dir, problems)
    problems.raise_if_any()
    total = len(scenarios) * len(sampled["levers"].points) * len(sampled["uncertainties"].points) * len(seeds)
    if total > cap:
        problems.add("", _NO_VALUE, f"the design expands to {total:,} runs; at most {cap:,} are allowed")
        problems.raise_if_any()
    runs = _expand(scenarios, sampled["levers"], sampled["uncertainties"], seeds, problems)
    problems.raise_if_any()
    scenario_ids = tuple((s.name, io.scenario_hash(s)) for s in scenarios)
    content = {
        "root_seed": int(root_seed),
        "seeds": list(seeds),
        "scenarios": [h for _, h in scenario_ids],
        "levers": sampled["levers"].to_json(),
        "uncertainties": sampled["uncertainties"].to_json(),
        "runs": [[r.arm, r.uncertainty_point, r.replicate, r.run_id] for r in runs],
    }
    if world_settings:
        content["worlds"] = world_settings
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return Design(
        name=str(name),
        description=str(description),
        source=source,
        design_hash=digest,
        root_seed=int(root_seed),
        seeds=seeds,
        scenarios=scenario_ids,
        levers=sampled["levers"],
        uncertainties=sampled["uncertainties"],
        runs=tuple(runs),
        settings=tuple(sorted({**settings, **world_settings}.items())),
    )


def replicate_seeds(root_seed: int, count: int) -> tuple[int, ...]:
    """The seeds of replicates ``0 … count-1``: child ``r`` of the root's replicate stream.

    Each seed is 63 bits of ``SeedSequence(root_seed).spawn(…)[0].spawn(…)[r]``'s state, so
    replicate ``r`` has the same seed whatever ``count`` is.
    """
    replicate_root = np.random.SeedSequence(root_seed, spawn_key=(_REPLICATE_STREAM,))
    out = []
    for r in range(count):
        child = np.random.SeedSequence(replicate_root.entropy, spawn_key=(*replicate_root.spawn_key, r))
        out.append(int(child.generate_state(1, np.uint64)[0] >> np.uint64(1)))
    return tuple(out)


def _sampler_seed(root: np.random.SeedSequence, role: str) -> int:
    child = np.random.SeedSequence(root.entropy, spawn_key=(_SAMPLER_STREAM[role],))
    return int(child.generate_state(1, np.uint32)[0])


def _seeds(value: Any, root_seed: int, problems: Problems) -> tuple[int, ...]:
    if value is _NO_VALUE:
        problems.add("seeds", _NO_VALUE, f"missing: give a number of replicates (1 to {MAX_SEEDS}) or a list of seeds")
        return (0,)
    if is_int(value):
        if not 1 <= value <= MAX_SEEDS:
            problems.add("seeds", value, f"out of range; allowed: integer from 1 to {MAX_SEEDS}, or a list of seeds")
            return (0,)
        return replicate_seeds(root_seed, value)
    if isinstance(value, list) and value:
        bad = [s for s in value if not is_int(s) or s < 0]
        if bad:
            problems.add("seeds", bad[0], "each listed seed must be a non-negative integer")
            return (0,)
        if len(set(value)) != len(value):
            problems.add("seeds", value, "listed seeds must be distinct")
            return (0,)
        if len(value) > MAX_SEEDS:
            problems.add("seeds", _NO_VALUE, f"at most {MAX_SEEDS} seeds")
            return (0,)
        return tuple(int(s) for s in value)
    problems.add("seeds", value, f"must be a number of replicates (1 to {MAX_SEEDS}) or a non-empty list of seeds")
    return (0,)


def _settings(data: dict[str, Any], problems: Problems) -> dict[str, Any]:
    """Run-size settings applied to every scenario: firms, institutions, years."""
    out: dict[str, Any] = {}
    for key in ("firms", "institutions"):
        if key in data:
            out[key] = data[key]
    years = data.get("years")
    if years is not None:
        if not isinstance(years, dict):
            problems.add("years", years, "must be a mapping with start and/or end")
        else:
            for key in years:
                if key not in ("start", "end"):
                    problems.unknown(f"years.{key}", ("start", "end"))
            for key in ("start", "end"):
                if key in years:
                    out[f"years.{key}"] = years[key]
    return out


def _scenario_refs(value: Any, problems: Problems) -> list[str]:
    if value is _NO_VALUE:
        problems.add("scenarios", _NO_VALUE, "missing: list the scenarios to run (shipped names or file paths)")
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        problems.add("scenarios", value, "must be a non-empty list of shipped scenario names or file paths")
        return []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item:
            problems.add(f"scenarios.{i}", item, "must be a shipped scenario name or a file path")
    if len(set(map(str, value))) != len(value):
        problems.add("scenarios", value, "a scenario is listed twice")
    return [str(v) for v in value]


# ---------------------------------------------------------------------------------------
# expansion


def _load_scenarios(refs: list[str], settings: dict[str, Any], base_dir: Path | None, problems: Problems) -> list[Any]:
    """Load each scenario (relative to the design file) and apply the run-size settings."""
    loaded = []
    for i, ref in enumerate(refs):
        target: str | Path = ref
        if base_dir is not None and not Path(ref).is_absolute():
            near = base_dir / ref
            for candidate in (near, near.with_suffix(".yaml")):
                if candidate.is_file():
                    target = candidate
                    break
        try:
            scenario = io.load(target)
        except ScenarioError as exc:
            problems.add(f"scenarios.{i}", ref, "cannot load this scenario:")
            problems.extend([Problem(p.file, p.path, p.value, p.message) for p in exc.problems])
            continue
        if settings:
            data = scenario.model_dump(mode="json")
            for path, value in settings.items():
                set_path(data, path, value)
            try:
                scenario = io.validate(data, problems.source)
            except ScenarioError as exc:
                for p in exc.problems:
                    problems.add(p.path, p.value, p.message)
                return []
        loaded.append(scenario)
    return loaded


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path in nested mappings, creating missing mappings on the way."""
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def apply_overrides(scenario: BaseModel, overrides: tuple[tuple[str, Any], ...] | dict[str, Any], file: str) -> Any:
    """A copy of ``scenario`` with dotted-path overrides applied and validated like a file.

    Raises
    ------
    nswn.ScenarioError
        When a value is out of range or breaks a cross-field rule.
    """
    data = scenario.model_dump(mode="json")
    for path, value in dict(overrides).items():
        set_path(data, path, value)
    return io.validate(data, file)


def _arm_labels(scenarios: list[Any], levers: Block) -> dict[tuple[int, int], str]:
    names = [s.name for s in scenarios]
    repeated = {n for n in names if names.count(n) > 1}
    labels: dict[tuple[int, int], str] = {}
    for s, name in enumerate(names):
        base = f"{name}#S{s}" if name in repeated else name
        for p, point in enumerate(levers.points):
            if not point:
                labels[(s, p)] = base
                continue
            parts = ",".join(f"{path.removeprefix('levers.')}={_fmt(value)}" for path, value in point)
            label = f"{base}/{parts}"
            labels[(s, p)] = label if len(label) <= LABEL_LIMIT else f"{base}/L{p}"
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    return {key: (f"{label}/L{key[1]}" if counts[label] > 1 else label) for key, label in labels.items()}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _expand(
    scenarios: list[Any], levers: Block, uncertainties: Block, seeds: tuple[int, ...], problems: Problems
) -> list[RunSpec]:
    from nswn import __version__
    from nswn.api import run_id_for

    labels = _arm_labels(scenarios, levers)
    runs: list[RunSpec] = []
    for s, scenario in enumerate(scenarios):
        for lp, lever_point in enumerate(levers.points):
            for up, world_point in enumerate(uncertainties.points):
                overrides = lever_point + world_point
                where = f"{problems.source} (scenario {scenario.name}, levers point {lp}, uncertainties point {up})"
                try:
                    arm = apply_overrides(scenario, overrides, where) if overrides else scenario
                except ScenarioError as exc:
                    problems.extend(exc.problems)
                    if len(problems.items) > MAX_PROBLEMS:
                        return []
                    continue
                digest = io.scenario_hash(arm)
                text = arm.model_dump_json()
                for r, seed in enumerate(seeds):
                    runs.append(
                        RunSpec(
                            run_id=run_id_for(scenario.name, digest, seed),
                            arm=labels[(s, lp)],
                            scenario_name=scenario.name,
                            scenario_hash=digest,
                            seed=seed,
                            replicate=r,
                            lever_point=lp,
                            uncertainty_point=up,
                            overrides=overrides,
                            scenario_json=text,
                            version=__version__,
                        )
                    )
    return runs
