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
    firms: 2000
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

References
----------
Kwakkel, J. H. (2017). The Exploratory Modeling Workbench. Environmental Modelling &
Software 96, 239–250 (XLRM: levers and uncertainties kept apart).
Herman, J. and Usher, W. (2017). SALib: an open-source Python library for sensitivity
analysis. Journal of Open Source Software 2(9), 97.
model.md §4 (stochasticity, common random numbers) and §10 (claims as paired experiments).
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from nswn.scenario import io
from nswn.scenario.io import Problem, ScenarioError

SAMPLERS = ("full_factorial", "latin_hypercube", "morris", "sobol")
ROLES = {"levers": "levers.", "uncertainties": "assumptions."}
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
)
BLOCK_KEYS = ("sampler", "samples", "levels", "second_order", "parameters")
FACTOR_KEYS = ("range", "values", "levels")
MAX_SEEDS = 100_000
MAX_RUNS = 1_000_000
MAX_PROBLEMS = 20
DEFAULT_FACTORIAL_LEVELS = 3
DEFAULT_MORRIS_LEVELS = 4
LABEL_LIMIT = 60

# children of the root SeedSequence: one per purpose, so adding a sampler never moves seeds
_REPLICATE_STREAM = 0
_SAMPLER_STREAM = {"levers": 1, "uncertainties": 2}

_NO_VALUE = object()


class DesignError(ScenarioError):
    """A design cannot be loaded or expanded; ``problems`` lists every reason."""


@dataclass(frozen=True)
class Parameter:
    """A scenario parameter that a design may vary, as the schema declares it.

    Attributes
    ----------
    path
        Dotted scenario path, e.g. ``assumptions.innovation.emulation_rate``.
    kind
        ``float``, ``int``, ``bool`` or ``choice``.
    low, high
        Inclusive allowed range (``None``: unbounded on that side).
    choices
        Allowed values of a ``choice`` or ``bool`` parameter.
    unit
        Unit in plain words.
    """

    path: str
    kind: Literal["float", "int", "bool", "choice"]
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    unit: str = ""

    def allowed(self) -> str:
        """The allowed values in words, as scenario errors write them."""
        if self.kind in ("choice", "bool"):
            return " | ".join(json.dumps(c) for c in self.choices)
        unit = f" {self.unit}" if self.unit else ""
        kind = "integer " if self.kind == "int" else ""
        if self.low is not None and self.high is not None:
            return f"{kind}from {self.low} to {self.high}{unit}"
        if self.low is not None:
            return f"{kind}at least {self.low}{unit}"
        if self.high is not None:
            return f"{kind}at most {self.high}{unit}"
        return f"any {kind or 'number '}".strip() + unit


@dataclass(frozen=True)
class Factor:
    """One parameter as a design varies it: a numeric range or a list of values."""

    parameter: Parameter
    low: float | None = None
    high: float | None = None
    values: tuple[Any, ...] = ()
    levels: int | None = None

    @property
    def path(self) -> str:
        return self.parameter.path

    @property
    def is_range(self) -> bool:
        return not self.values

    def to_json(self) -> dict[str, Any]:
        if self.values:
            return {"path": self.path, "values": list(self.values)}
        out: dict[str, Any] = {"path": self.path, "range": [self.low, self.high]}
        if self.levels is not None:
            out["levels"] = self.levels
        return out


@dataclass(frozen=True)
class Block:
    """The levers or the uncertainties of a design, with their sampler and sampled points.

    Attributes
    ----------
    role
        ``levers`` or ``uncertainties``.
    sampler
        One of :data:`SAMPLERS` (``None`` when the block varies nothing).
    factors
        The varied parameters, in file order.
    points
        One tuple of ``(path, value)`` overrides per sampled point; a block that varies
        nothing has one empty point.
    matrix
        The raw numeric sample (one row per point, one column per factor), before integer
        rounding and the mapping of choices, as SALib's analysers need it.
    """

    role: str
    sampler: str | None = None
    samples: int | None = None
    levels: int | None = None
    second_order: bool = False
    factors: tuple[Factor, ...] = ()
    points: tuple[tuple[tuple[str, Any], ...], ...] = ((),)
    matrix: tuple[tuple[float, ...], ...] = ((),)

    def salib_problem(self) -> dict[str, Any]:
        """The SALib problem definition of this block's factors."""
        return {
            "num_vars": len(self.factors),
            "names": [f.path for f in self.factors],
            "bounds": [[f.low, f.high] if f.is_range else [0.0, 1.0] for f in self.factors],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "sampler": self.sampler,
            "samples": self.samples,
            "levels": self.levels,
            "second_order": self.second_order,
            "factors": [f.to_json() for f in self.factors],
            "points": [dict(p) for p in self.points],
            "matrix": [list(row) for row in self.matrix],
        }


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
# parameters known to the schema


def parameter(path: str) -> Parameter | None:
    """The schema's declaration of a dotted scenario path, or ``None`` if it cannot be varied.

    Paths name leaf values: ``levers.<section>.<field>``,
    ``levers.instruments.<instrument>.<field>`` or ``assumptions.<section>.<field>``.
    """
    from nswn.scenario.schema import scenario_model

    model: Any = scenario_model()
    info = None
    for part in path.split("."):
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        info = model.model_fields[part]
        model = _inner_model(info.annotation)
    if info is None or model is not None:
        return None
    return _describe(path, info)


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _describe(path: str, info: Any) -> Parameter | None:
    annotation = info.annotation
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    unit = str(extra.get("unit") or "")
    if typing.get_origin(annotation) is Literal:
        return Parameter(path, "choice", choices=typing.get_args(annotation), unit=unit)
    if annotation is bool:
        return Parameter(path, "bool", choices=(False, True), unit=unit)
    if annotation in (int, float):
        low = high = None
        for item in info.metadata:
            low = getattr(item, "ge", low)
            high = getattr(item, "le", high)
        return Parameter(path, "int" if annotation is int else "float", low, high, unit=unit)
    return None


def parameter_paths() -> list[str]:
    """Every dotted path a design may vary (levers first, then assumptions)."""
    from nswn.scenario.schema import scenario_model

    out: list[str] = []

    def walk(model: Any, prefix: str) -> None:
        for name, info in model.model_fields.items():
            inner = _inner_model(info.annotation)
            path = f"{prefix}{name}"
            if inner is not None:
                walk(inner, path + ".")
            elif _describe(path, info) is not None:
                out.append(path)

    root = scenario_model()
    for section in ("levers", "assumptions"):
        walk(_inner_model(root.model_fields[section].annotation), section + ".")
    return out


# ---------------------------------------------------------------------------------------
# loading


def load_design(path: str | Path) -> Design:
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
    import yaml

    file = Path(path)
    source = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise DesignError([Problem(source, "", _NO_VALUE, f"cannot read design file: {exc.strerror}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise DesignError([Problem(source, "", _NO_VALUE, f"invalid YAML: {where}{reason}")]) from None
    return design_from_dict(data, source=source, base_dir=file.parent, default_name=file.stem)


def design_from_dict(
    data: Any,
    source: str = "<design>",
    base_dir: Path | None = None,
    default_name: str = "design",
) -> Design:
    """Validate and expand a design given as a mapping (see :func:`load_design`)."""
    problems = _Problems(source)
    if not isinstance(data, dict):
        problems.add("", _NO_VALUE, f"a design must be a mapping of keys to values, not {type(data).__name__}")
        problems.raise_if_any()
    for key in data:
        if key not in TOP_KEYS:
            problems.unknown(str(key), TOP_KEYS)
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        problems.add("name", name, "must be a non-empty text")
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.add("description", description, "must be text")
    root_seed = data.get("root_seed", 0)
    if not _is_int(root_seed) or root_seed < 0:
        problems.add("root_seed", root_seed, "must be a non-negative integer")
        root_seed = 0
    seeds = _seeds(data.get("seeds", _NO_VALUE), int(root_seed), problems)
    settings = _settings(data, problems)
    scenario_refs = _scenario_refs(data.get("scenarios", _NO_VALUE), problems)
    blocks = {role: _block(role, data.get(role), problems) for role in ROLES}
    problems.raise_if_any()

    # sample the blocks (seeded from the root), then load the scenarios and expand
    root = np.random.SeedSequence(int(root_seed))
    sampled = {role: _sample(blocks[role], _sampler_seed(root, role), problems) for role in ROLES}
    problems.raise_if_any()
    scenarios = _load_scenarios(scenario_refs, settings, base_dir, problems)
    problems.raise_if_any()
    total = len(scenarios) * len(sampled["levers"].points) * len(sampled["uncertainties"].points) * len(seeds)
    if total > MAX_RUNS:
        problems.add("", _NO_VALUE, f"the design expands to {total:,} runs; at most {MAX_RUNS:,} are allowed")
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
        settings=tuple(sorted(settings.items())),
    )


class _Problems:
    """Collects design problems so that the user sees all of them at once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[Problem] = []

    def add(self, path: str, value: Any, message: str) -> None:
        self.items.append(Problem(self.source, path, value, message))

    def unknown(self, path: str, allowed: tuple[str, ...] | list[str]) -> None:
        key = path.rsplit(".", 1)[-1]
        hint = difflib.get_close_matches(key, list(allowed), n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        self.add(path, _NO_VALUE, f"unknown key{suggestion}; allowed here: {', '.join(allowed)}")

    def extend(self, items: list[Problem]) -> None:
        self.items.extend(items)

    def raise_if_any(self) -> None:
        if self.items:
            shown = self.items[:MAX_PROBLEMS]
            if len(self.items) > MAX_PROBLEMS:
                shown.append(Problem(self.source, "", _NO_VALUE, f"… and {len(self.items) - MAX_PROBLEMS} more"))
            raise DesignError(shown)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


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


def _seeds(value: Any, root_seed: int, problems: _Problems) -> tuple[int, ...]:
    if value is _NO_VALUE:
        problems.add("seeds", _NO_VALUE, f"missing: give a number of replicates (1 to {MAX_SEEDS}) or a list of seeds")
        return (0,)
    if _is_int(value):
        if not 1 <= value <= MAX_SEEDS:
            problems.add("seeds", value, f"out of range; allowed: integer from 1 to {MAX_SEEDS}, or a list of seeds")
            return (0,)
        return replicate_seeds(root_seed, value)
    if isinstance(value, list) and value:
        bad = [s for s in value if not _is_int(s) or s < 0]
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


def _settings(data: dict[str, Any], problems: _Problems) -> dict[str, Any]:
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


def _scenario_refs(value: Any, problems: _Problems) -> list[str]:
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


def _block(role: str, value: Any, problems: _Problems) -> Block:
    if value is None:
        return Block(role)
    if not isinstance(value, dict):
        problems.add(role, value, "must be a mapping with sampler and parameters")
        return Block(role)
    for key in value:
        if key not in BLOCK_KEYS:
            problems.unknown(f"{role}.{key}", BLOCK_KEYS)
    raw_parameters = value.get("parameters")
    if raw_parameters is None or raw_parameters == {}:
        if any(k in value for k in ("sampler", "samples")):
            problems.add(f"{role}.parameters", _NO_VALUE, "missing: the parameters to vary (dotted paths)")
        return Block(role)
    default_sampler = "full_factorial" if role == "levers" else "latin_hypercube"
    sampler = value.get("sampler", default_sampler)
    if sampler not in SAMPLERS:
        hint = difflib.get_close_matches(str(sampler), SAMPLERS, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        problems.add(f"{role}.sampler", sampler, f"unknown sampler{suggestion}; allowed: {', '.join(SAMPLERS)}")
        return Block(role)
    samples = value.get("samples")
    if sampler == "full_factorial":
        if samples is not None:
            problems.add(f"{role}.samples", samples, "full_factorial takes no samples; give levels or values instead")
    elif samples is None:
        problems.add(f"{role}.samples", _NO_VALUE, f"missing: {sampler} needs a number of samples")
    elif not _is_int(samples) or not 1 <= samples <= MAX_RUNS:
        problems.add(f"{role}.samples", samples, f"out of range; allowed: integer from 1 to {MAX_RUNS}")
    elif sampler == "sobol" and samples & (samples - 1):
        problems.add(f"{role}.samples", samples, "sobol needs a power of 2 (e.g. 64, 128, 256)")
    elif sampler == "morris" and samples < 2:
        problems.add(f"{role}.samples", samples, "morris needs at least 2 trajectories")
    levels = value.get("levels")
    if levels is not None and (not _is_int(levels) or not 2 <= levels <= 1000):
        problems.add(f"{role}.levels", levels, "out of range; allowed: integer from 2 to 1000")
        levels = None
    if levels is not None and sampler in ("latin_hypercube", "sobol"):
        problems.add(f"{role}.levels", levels, f"{sampler} takes no levels (only full_factorial and morris do)")
    if sampler == "morris" and levels is not None and levels % 2:
        problems.add(f"{role}.levels", levels, "morris needs an even number of levels (e.g. 4)")
    second_order = value.get("second_order", False)
    if not isinstance(second_order, bool):
        problems.add(f"{role}.second_order", second_order, "must be true or false")
        second_order = False
    elif second_order and sampler != "sobol":
        problems.add(f"{role}.second_order", second_order, "only the sobol sampler has second-order indices")
    if not isinstance(raw_parameters, dict):
        problems.add(
            f"{role}.parameters", raw_parameters, "must map dotted parameter paths to {range: …} or {values: …}"
        )
        return Block(role)
    factors = []
    for path, spec in raw_parameters.items():
        factor = _factor(role, str(path), spec, sampler, problems)
        if factor is not None:
            factors.append(factor)
    return Block(
        role,
        sampler=sampler,
        samples=samples if _is_int(samples) else None,
        levels=levels,
        second_order=bool(second_order),
        factors=tuple(factors),
    )


def _factor(role: str, path: str, spec: Any, sampler: str, problems: _Problems) -> Factor | None:
    where = f"{role}.parameters.{path}"
    prefix = ROLES[role]
    if not path.startswith(prefix):
        other = next(r for r, p in ROLES.items() if r != role)
        if path.startswith(ROLES[other]):
            kind = "a lever (policy)" if other == "levers" else "an assumption (how the world works)"
            problems.add(where, _NO_VALUE, f"{path} is {kind}: put it under {other}, not {role}")
        else:
            problems.add(where, _NO_VALUE, f"{role} vary paths that start with {prefix!r}")
        return None
    declared = parameter(path)
    if declared is None:
        known = parameter_paths()
        hint = difflib.get_close_matches(path, known, n=1, cutoff=0.6)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        problems.add(where, _NO_VALUE, f"no such parameter{suggestion}; `nswn params` lists every path")
        return None
    if isinstance(spec, list):
        spec = {"values": spec}
    if not isinstance(spec, dict):
        problems.add(where, spec, "must be {range: [low, high]} or {values: [...]}")
        return None
    for key in spec:
        if key not in FACTOR_KEYS:
            problems.unknown(f"{where}.{key}", FACTOR_KEYS)
    has_range, has_values = "range" in spec, "values" in spec
    if has_range == has_values:
        problems.add(where, _NO_VALUE, "give exactly one of range: [low, high] or values: [...]")
        return None
    levels = spec.get("levels")
    if levels is not None:
        if not _is_int(levels) or not 2 <= levels <= 1000:
            problems.add(f"{where}.levels", levels, "out of range; allowed: integer from 2 to 1000")
            return None
        if sampler != "full_factorial" or has_values:
            problems.add(f"{where}.levels", levels, "levels per parameter apply to full_factorial ranges only")
            return None
    if has_values:
        return _values_factor(where, declared, spec["values"], sampler, problems)
    return _range_factor(where, declared, spec["range"], levels, problems)


def _values_factor(where: str, declared: Parameter, values: Any, sampler: str, problems: _Problems) -> Factor | None:
    if sampler in ("morris", "sobol"):
        problems.add(
            f"{where}.values", values, f"{sampler} samples numeric ranges; use range: [low, high] or full_factorial"
        )
        return None
    if not isinstance(values, list) or not values:
        problems.add(f"{where}.values", values, "must be a non-empty list")
        return None
    if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
        problems.add(f"{where}.values", values, "values must be distinct")
        return None
    for value in values:
        if not _value_allowed(declared, value):
            problems.add(f"{where}.values", value, f"not allowed for {declared.path}; allowed: {declared.allowed()}")
            return None
    return Factor(declared, values=tuple(values))


def _value_allowed(declared: Parameter, value: Any) -> bool:
    if declared.kind in ("choice", "bool"):
        return any(value == c and type(value) is type(c) for c in declared.choices)
    if not _is_number(value) or (declared.kind == "int" and not _is_int(value)):
        return False
    return (declared.low is None or value >= declared.low) and (declared.high is None or value <= declared.high)


def _range_factor(
    where: str, declared: Parameter, bounds: Any, levels: int | None, problems: _Problems
) -> Factor | None:
    if declared.kind not in ("float", "int"):
        problems.add(f"{where}.range", bounds, f"{declared.path} is not numeric; use values: [{declared.allowed()}]")
        return None
    if not isinstance(bounds, list) or len(bounds) != 2 or not all(_is_number(b) for b in bounds):
        problems.add(f"{where}.range", bounds, "must be [low, high] (two numbers)")
        return None
    low, high = float(bounds[0]), float(bounds[1])
    if not low < high:
        problems.add(f"{where}.range", bounds, "low must be below high")
        return None
    if (declared.low is not None and low < declared.low) or (declared.high is not None and high > declared.high):
        problems.add(f"{where}.range", bounds, f"outside the allowed range of {declared.path}: {declared.allowed()}")
        return None
    if declared.kind == "int" and math.floor(high) < math.ceil(low):
        problems.add(f"{where}.range", bounds, f"{declared.path} is an integer; the range holds none")
        return None
    return Factor(declared, low=low, high=high, levels=levels)


# ---------------------------------------------------------------------------------------
# sampling


def _sample(block: Block, seed: int, problems: _Problems) -> Block:
    """Draw the block's points with its sampler (deterministic in ``seed``)."""
    if not block.factors:
        return Block(block.role)
    if block.sampler == "full_factorial":
        matrix = _full_factorial(block)
    else:
        problem = block.salib_problem()
        try:
            matrix = _salib_sample(block, problem, seed)
        except Exception as exc:  # noqa: BLE001 - SALib raises plain ValueErrors on bad settings
            problems.add(f"{block.role}.sampler", block.sampler, f"sampling failed: {exc}")
            return Block(block.role)
    points = tuple(tuple((f.path, _to_value(f, x)) for f, x in zip(block.factors, row, strict=True)) for row in matrix)
    return Block(
        block.role,
        sampler=block.sampler,
        samples=block.samples,
        levels=block.levels,
        second_order=block.second_order,
        factors=block.factors,
        points=points,
        matrix=tuple(tuple(float(x) for x in row) for row in matrix),
    )


def _full_factorial(block: Block) -> list[tuple[float, ...]]:
    axes: list[list[float]] = []
    for f in block.factors:
        if f.values:
            # choices are sampled as positions in [0, 1): the value's index over the count
            axes.append([(i + 0.5) / len(f.values) for i in range(len(f.values))])
            continue
        count = f.levels or block.levels or DEFAULT_FACTORIAL_LEVELS
        grid = np.linspace(f.low, f.high, count)
        if f.parameter.kind == "int":
            grid = np.unique(np.round(grid))
        axes.append([float(x) for x in grid])
    return [tuple(row) for row in itertools.product(*axes)]


def _salib_sample(block: Block, problem: dict[str, Any], seed: int) -> np.ndarray:
    n = int(block.samples or 1)
    if block.sampler == "latin_hypercube":
        from SALib.sample import latin

        return np.asarray(latin.sample(problem, n, seed=seed))
    if block.sampler == "morris":
        from SALib.sample import morris

        levels = block.levels or DEFAULT_MORRIS_LEVELS
        return np.asarray(morris.sample(problem, n, num_levels=levels, seed=seed))
    from SALib.sample import sobol

    return np.asarray(sobol.sample(problem, n, calc_second_order=block.second_order, scramble=True, seed=seed))


def _to_value(factor: Factor, x: float) -> Any:
    if factor.values:
        index = min(int(x * len(factor.values)), len(factor.values) - 1)
        return factor.values[index]
    if factor.parameter.kind == "int":
        return int(round(x))
    return float(x)


# ---------------------------------------------------------------------------------------
# expansion


def _load_scenarios(refs: list[str], settings: dict[str, Any], base_dir: Path | None, problems: _Problems) -> list[Any]:
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
                _set_path(data, path, value)
            try:
                scenario = io.validate(data, problems.source)
            except ScenarioError as exc:
                for p in exc.problems:
                    problems.add(p.path, p.value, p.message)
                return []
        loaded.append(scenario)
    return loaded


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
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
        _set_path(data, path, value)
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
            parts = ", ".join(f"{path.removeprefix('levers.')}={_fmt(value)}" for path, value in point)
            label = f"{base}[{parts}]"
            labels[(s, p)] = label if len(label) <= LABEL_LIMIT else f"{base}#L{p}"
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    return {key: (f"{label}#L{key[1]}" if counts[label] > 1 else label) for key, label in labels.items()}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _expand(
    scenarios: list[Any], levers: Block, uncertainties: Block, seeds: tuple[int, ...], problems: _Problems
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
                            run_id=run_id_for(digest, seed),
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


def single_run_design(scenario: str, seed: int, **settings: Any) -> Design:
    """A design of exactly one run (the same run as ``nswn run SCENARIO --seed SEED``)."""
    data: dict[str, Any] = {"name": f"{scenario}-seed-{seed}", "scenarios": [scenario], "seeds": [seed]}
    data.update(settings)
    return design_from_dict(data, source="<single run>")
