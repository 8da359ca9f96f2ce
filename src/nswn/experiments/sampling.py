"""Parameters a design may vary, and the samplers that draw their points.

A design has two blocks, ``levers`` (paths under ``levers.``: what a government chooses) and
``uncertainties`` (paths under ``assumptions.``: how the world might work). Each block names
parameters of the scenario schema — with their ranges taken from the schema itself, so a
design cannot ask for a value a scenario would refuse — and one sampler:

* ``full_factorial`` — every combination of listed ``values`` and of ``levels`` evenly spaced
  points of each ``range``;
* ``latin_hypercube`` — ``samples`` points, one per stratum of every range (SALib);
* ``morris`` — ``samples`` one-at-a-time trajectories over ``levels`` grid levels (SALib);
* ``sobol`` — Saltelli's extension of Sobol' sequences, ``samples`` a power of 2 (SALib).

Every sampler is deterministic in the seed it is given (derived from the design's root seed).

References
----------
McKay, M. D., Beckman, R. J. and Conover, W. J. (1979). A comparison of three methods for
selecting values of input variables in the analysis of output from a computer code.
Technometrics 21, 239–245. Morris, M. D. (1991). Factorial sampling plans for preliminary
computational experiments. Technometrics 33, 161–174. Saltelli, A. (2002). Making best use of
model evaluations to compute sensitivity indices. Computer Physics Communications 145, 280–297.
Herman, J. and Usher, W. (2017). SALib. Journal of Open Source Software 2(9), 97.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
import typing
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from nswn.scenario.io import _NO_VALUE, Problem

SAMPLERS = ("full_factorial", "latin_hypercube", "morris", "sobol")
ROLES = {"levers": "levers.", "uncertainties": "assumptions."}
BLOCK_KEYS = ("sampler", "samples", "levels", "second_order", "parameters")
FACTOR_KEYS = ("range", "values", "levels")
MAX_POINTS = 1_000_000
MAX_PROBLEMS = 20
DEFAULT_FACTORIAL_LEVELS = 3
DEFAULT_MORRIS_LEVELS = 4


class Problems:
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
        """Raise :class:`~nswn.experiments.design.DesignError` with the problems collected so far."""
        if self.items:
            shown = self.items[:MAX_PROBLEMS]
            if len(self.items) > MAX_PROBLEMS:
                shown.append(Problem(self.source, "", _NO_VALUE, f"… and {len(self.items) - MAX_PROBLEMS} more"))
            from nswn.experiments.design import DesignError

            raise DesignError(shown)


def is_int(value: Any) -> bool:
    """An int that is not a bool (YAML ``true`` is not a count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


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
# reading a block of a design file


def parse_block(role: str, value: Any, problems: Problems) -> Block:
    """Read and check a ``levers`` or ``uncertainties`` block (unsampled: no points yet)."""
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
    elif not is_int(samples) or not 1 <= samples <= MAX_POINTS:
        problems.add(f"{role}.samples", samples, f"out of range; allowed: integer from 1 to {MAX_POINTS}")
    elif sampler == "sobol" and samples & (samples - 1):
        problems.add(f"{role}.samples", samples, "sobol needs a power of 2 (e.g. 64, 128, 256)")
    elif sampler == "morris" and samples < 2:
        problems.add(f"{role}.samples", samples, "morris needs at least 2 trajectories")
    levels = value.get("levels")
    if levels is not None and (not is_int(levels) or not 2 <= levels <= 1000):
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
        samples=samples if is_int(samples) else None,
        levels=levels,
        second_order=bool(second_order),
        factors=tuple(factors),
    )


def _factor(role: str, path: str, spec: Any, sampler: str, problems: Problems) -> Factor | None:
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
        if not is_int(levels) or not 2 <= levels <= 1000:
            problems.add(f"{where}.levels", levels, "out of range; allowed: integer from 2 to 1000")
            return None
        if sampler != "full_factorial" or has_values:
            problems.add(f"{where}.levels", levels, "levels per parameter apply to full_factorial ranges only")
            return None
    if has_values:
        return _values_factor(where, declared, spec["values"], sampler, problems)
    return _range_factor(where, declared, spec["range"], levels, problems)


def _values_factor(where: str, declared: Parameter, values: Any, sampler: str, problems: Problems) -> Factor | None:
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
    if not _is_number(value) or (declared.kind == "int" and not is_int(value)):
        return False
    return (declared.low is None or value >= declared.low) and (declared.high is None or value <= declared.high)


def _range_factor(
    where: str, declared: Parameter, bounds: Any, levels: int | None, problems: Problems
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


def sample_block(block: Block, seed: int, problems: Problems) -> Block:
    """Draw the block's points with its sampler (deterministic in ``seed``)."""
    if not block.factors:
        return Block(block.role)
    try:
        if block.sampler == "full_factorial":
            matrix = np.asarray(_full_factorial(block), dtype=float)
        else:
            matrix = _salib_sample(block, block.salib_problem(), seed)
    except Exception as exc:  # noqa: BLE001 - SALib raises plain ValueErrors on bad settings
        problems.add(f"{block.role}.sampler", block.sampler, f"sampling failed: {exc}")
        return Block(block.role)
    points = tuple(
        tuple((f.path, _to_value(f, float(x))) for f, x in zip(block.factors, row, strict=True)) for row in matrix
    )
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
    count = math.prod(len(axis) for axis in axes)
    if count > MAX_POINTS:
        raise ValueError(f"the full factorial has {count:,} points; at most {MAX_POINTS:,} are allowed")
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
