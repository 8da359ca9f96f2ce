"""The de-risking design file: the control design space, objectives, robustness and search settings.

A design file names a base scenario (its own control batches stay in force), the reference
arm without controls, the seeds, the run size, and the ``controls_space`` section: which
technologies may enter the yard (ids, ``group:NAME`` or ``sector:NAME`` from the catalog),
the fence height (one for the yard or one per yard unit), the announcement year, the lag from
announcement to effect, allied coverage and duration. Each dimension is either a ``range``
(searched) or a fixed ``value``. Every problem is reported with file, field, value and the
allowed range (:class:`DeriskError`, exit status 2 on the command line).

Example
-------
::

    name: derisk_example
    base: baseline
    reference: no_controls
    seeds: 5
    root_seed: 2024
    firms: 5000
    horizon: 2050
    objectives: [delay, lost_sales, share_gain]
    max_yard: 8
    controls_space:
      yard: [lithography_machines, high_end_chips, "sector:aerospace"]
      fence: {per: yard, range: [0.3, 1.0]}
      announcement_year: {range: [2025, 2030]}
      effective_lag: {range: [0, 3]}
      coverage: {range: [0.4, 1.0]}
      duration: {range: [5, 30]}
    search: {population: 40, generations: 25}
    quick: {firms: 2000, seeds: 3, population: 20, generations: 7}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nswn import catalog
from nswn.experiments.design import check_header, replicate_seeds
from nswn.experiments.sampling import MAX_PROBLEMS, Problems, is_int
from nswn.scenario.io import _NO_VALUE, Problem, ScenarioError

TOP_KEYS = (
    "name",
    "description",
    "base",
    "reference",
    "shipped",
    "seeds",
    "root_seed",
    "firms",
    "institutions",
    "horizon",
    "quantile",
    "objectives",
    "max_yard",
    "controls_space",
    "search",
    "quick",
)
SPACE_KEYS = ("yard", "fence", "announcement_year", "effective_lag", "coverage", "duration")
SEARCH_KEYS = ("population", "generations")
QUICK_KEYS = ("firms", "seeds", "population", "generations")
OBJECTIVES = ("delay", "lost_sales", "share_gain", "gdp_cost")
DEFAULT_OBJECTIVES = ("delay", "lost_sales", "share_gain")
DEFAULT_SHIPPED = ("small_yard_high_fence", "broad_controls")

# allowed ranges of each searched dimension (the scenario schema's batch ranges, model.md §6.1)
BOUNDS: dict[str, tuple[float, float]] = {
    "fence": (0.0, 1.0),
    "announcement_year": (1990, 2100),
    "effective_lag": (0, 20),
    "coverage": (0.0, 1.0),
    "duration": (1, 200),
}
INTEGER = {"announcement_year", "effective_lag", "duration"}
MAX_SEEDS = 1000
MAX_POPULATION = 10_000
MAX_GENERATIONS = 10_000


class DeriskError(ScenarioError):
    """A de-risking design cannot be loaded; ``problems`` lists every reason."""


class _Problems(Problems):
    """Collects problems; raises :class:`DeriskError`."""

    def raise_if_any(self) -> None:
        if self.items:
            shown = self.items[:MAX_PROBLEMS]
            if len(self.items) > MAX_PROBLEMS:
                shown.append(Problem(self.source, "", _NO_VALUE, f"… and {len(self.items) - MAX_PROBLEMS} more"))
            raise DeriskError(shown)


@dataclass(frozen=True)
class Dimension:
    """One dimension of the space: searched over ``[low, high]`` or fixed at ``value``."""

    name: str
    low: float | None = None
    high: float | None = None
    value: float | None = None
    fixed: bool = False

    @property
    def searched(self) -> bool:
        return not self.fixed and self.low is not None and self.high is not None and self.high > self.low

    def decode(self, x: float) -> float | int | None:
        """The dimension's value at ``x`` in [0, 1] (integers rounded, shares to 0.01)."""
        if not self.searched:
            return self.value if self.fixed else self.low
        assert self.low is not None and self.high is not None
        raw = self.low + min(max(x, 0.0), 1.0) * (self.high - self.low)
        if self.name in INTEGER:
            return int(round(raw))
        return round(raw, 2)


@dataclass(frozen=True)
class YardUnit:
    """What one inclusion switch adds to the yard: one technology, or a catalog group or sector."""

    label: str
    technologies: tuple[str, ...]


@dataclass(frozen=True)
class ControlsSpace:
    """The ``controls_space`` section, validated."""

    units: tuple[YardUnit, ...]
    fence_per: str
    fence: Dimension
    announcement_year: Dimension
    effective_lag: Dimension
    coverage: Dimension
    duration: Dimension

    def variables(self) -> list[str]:
        """Names of the search variables, each scaled to [0, 1]."""
        names = [f"in:{u.label}" for u in self.units]
        if self.fence.searched:
            names += [f"fence:{u.label}" for u in self.units] if self.fence_per == "technology" else ["fence"]
        rest = (self.announcement_year, self.effective_lag, self.coverage, self.duration)
        names += [d.name for d in rest if d.searched]
        return names


@dataclass(frozen=True)
class DeriskDesign:
    """A validated de-risking design."""

    name: str
    description: str
    source: str
    base: str
    reference: str
    shipped: tuple[str, ...]
    seeds: tuple[int, ...]
    root_seed: int
    firms: int | None
    institutions: int | None
    start_year: int
    horizon: int
    quantile: float
    objectives: tuple[str, ...]
    max_yard: int
    space: ControlsSpace
    population: int
    generations: int
    quick: dict[str, int] = field(default_factory=dict)

    def quick_version(self) -> DeriskDesign:
        """The design with its ``quick`` settings (smaller firm counts, fewer seeds and generations)."""
        q = self.quick
        seeds = replicate_seeds(self.root_seed, q["seeds"]) if "seeds" in q else self.seeds
        return replace(
            self,
            firms=q.get("firms", self.firms),
            seeds=seeds,
            population=q.get("population", self.population),
            generations=q.get("generations", self.generations),
        )


def load(path: str | Path) -> DeriskDesign:
    """Load and validate a de-risking design file (raises :class:`DeriskError`)."""
    import yaml

    file = Path(path)
    source = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        message = "not UTF-8 text: a design must be a YAML text file"
        raise DeriskError([Problem(source, "", _NO_VALUE, message)]) from None
    except OSError as exc:
        raise DeriskError([Problem(source, "", _NO_VALUE, f"cannot read design file: {exc.strerror}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        message = f"invalid YAML: {where}{getattr(exc, 'problem', None) or exc}"
        raise DeriskError([Problem(source, "", _NO_VALUE, message)]) from None
    return from_dict(data, source=source, default_name=file.stem, base_dir=file.parent)


def _int_in(problems: Problems, data: dict[str, Any], key: str, default: Any, lo: int, hi: int, path: str = "") -> Any:
    value = data.get(key, default)
    if value is None and default is None:
        return None
    if not is_int(value) or not lo <= value <= hi:
        problems.add(path + key, value, f"out of range; allowed: integer from {lo} to {hi}")
        return default
    return value


def from_dict(
    data: Any, source: str = "<design>", default_name: str = "derisk", base_dir: Path | None = None
) -> DeriskDesign:
    """Validate a de-risking design given as a mapping (see :func:`load`).

    Scenario paths are relative to ``base_dir`` (the design file's folder); every scenario the
    design names is loaded and validated here, so a bad one stops the command before any run.
    """
    problems = _Problems(source)
    name, description = check_header(data, problems, TOP_KEYS, default_name)
    base = _scenario_name(problems, data, "base", "baseline")
    reference = _scenario_name(problems, data, "reference", "no_controls")
    shipped_raw = data.get("shipped", list(DEFAULT_SHIPPED))
    if not isinstance(shipped_raw, list) or not all(isinstance(s, str) and s for s in shipped_raw):
        problems.add("shipped", shipped_raw, "must be a list of shipped scenario names or paths")
        shipped_raw = []
    base = _loadable(problems, "base", base, base_dir)
    reference = _loadable(problems, "reference", reference, base_dir)
    shipped_raw = [_loadable(problems, f"shipped.{i}", ref, base_dir) for i, ref in enumerate(shipped_raw)]
    root_seed = _int_in(problems, data, "root_seed", 0, 0, 2**63 - 1)
    seeds_value = data.get("seeds", 5)
    if is_int(seeds_value) and 1 <= seeds_value <= MAX_SEEDS:
        seeds = replicate_seeds(int(root_seed), seeds_value)
    else:
        problems.add("seeds", seeds_value, f"out of range; allowed: integer from 1 to {MAX_SEEDS}")
        seeds = (0,)
    firms = _int_in(problems, data, "firms", None, 100, 10_000_000)
    institutions = _int_in(problems, data, "institutions", None, 10, 1_000_000)
    horizon = _int_in(problems, data, "horizon", 2050, 2025, 2150)
    quantile = data.get("quantile", 0.5)
    if not isinstance(quantile, int | float) or isinstance(quantile, bool) or not 0.0 < quantile <= 0.5:
        allowed = "out of range; allowed: number in (0, 0.5] (0.5 = median; lower = more cautious)"
        problems.add("quantile", quantile, allowed)
        quantile = 0.5
    objectives = data.get("objectives", list(DEFAULT_OBJECTIVES))
    if (
        not isinstance(objectives, list)
        or len(objectives) < 2
        or len(set(map(str, objectives))) != len(objectives)
        or any(o not in OBJECTIVES for o in objectives)
    ):
        problems.add("objectives", objectives, f"must list two or more distinct objectives of: {', '.join(OBJECTIVES)}")
        objectives = list(DEFAULT_OBJECTIVES)
    space = _space(problems, data.get("controls_space", _NO_VALUE))
    n_tech = len(catalog.technology_ids())
    max_yard = _int_in(problems, data, "max_yard", n_tech, 1, n_tech)
    search = _mapping(problems, data, "search", SEARCH_KEYS)
    population = _int_in(problems, search, "population", 40, 4, MAX_POPULATION, "search.")
    generations = _int_in(problems, search, "generations", 25, 1, MAX_GENERATIONS, "search.")
    quick_raw = _mapping(problems, data, "quick", QUICK_KEYS)
    quick: dict[str, int] = {}
    for key, lo, hi in (
        ("firms", 100, 10_000_000),
        ("seeds", 1, MAX_SEEDS),
        ("population", 4, MAX_POPULATION),
        ("generations", 1, MAX_GENERATIONS),
    ):
        if key in quick_raw:
            value = _int_in(problems, quick_raw, key, None, lo, hi, "quick.")
            if value is not None:
                quick[key] = int(value)
    problems.raise_if_any()
    assert space is not None
    return DeriskDesign(
        name=str(name),
        description=str(description),
        source=source,
        base=base,
        reference=reference,
        shipped=tuple(shipped_raw),
        seeds=seeds,
        root_seed=int(root_seed),
        firms=firms,
        institutions=institutions,
        start_year=2024,
        horizon=int(horizon),
        quantile=float(quantile),
        objectives=tuple(objectives),
        max_yard=int(max_yard),
        space=space,
        population=int(population),
        generations=int(generations),
        quick=quick,
    )


def _scenario_name(problems: Problems, data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value:
        problems.add(key, value, "must be a shipped scenario name or a file path")
        return default
    return value


def _loadable(problems: Problems, path: str, ref: str, base_dir: Path | None) -> str:
    """``ref`` as :func:`nswn.scenario.io.load` takes it (a file near the design wins); problems if it fails."""
    from nswn.scenario import io

    target = ref
    if base_dir is not None and not Path(ref).is_absolute():
        near = base_dir / ref
        for candidate in (near, near.with_suffix(".yaml")):
            if candidate.is_file():
                target = str(candidate)
                break
    try:
        io.load(target)
    except ScenarioError as exc:
        problems.add(path, ref, "cannot load this scenario:")
        problems.extend([Problem(p.file, p.path, p.value, p.message) for p in exc.problems])
    return target


def _mapping(problems: Problems, data: dict[str, Any], key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        problems.add(key, value, f"must be a mapping with keys {', '.join(allowed)}")
        return {}
    for k in value:
        if k not in allowed:
            problems.unknown(f"{key}.{k}", allowed)
    return value


def _yard_units(problems: Problems, value: Any) -> tuple[YardUnit, ...]:
    path = "controls_space.yard"
    if not isinstance(value, list) or not value:
        problems.add(path, value, "must be a non-empty list of technology ids, group:NAME or sector:NAME")
        return ()
    records = catalog.technologies()
    ids = [t.id for t in records]
    groups = sorted({t.group for t in records})
    sectors = sorted({t.sector for t in records})
    units: list[YardUnit] = []
    for i, item in enumerate(value):
        where = f"{path}.{i}"
        if not isinstance(item, str) or not item:
            problems.add(where, item, "must be a technology id, group:NAME or sector:NAME")
            continue
        kind, _, label = item.partition(":")
        if label and kind in ("group", "sector"):
            allowed = groups if kind == "group" else sectors
            if label not in allowed:
                problems.add(where, item, f"unknown {kind}; allowed: {', '.join(allowed)}")
                continue
            members = tuple(t.id for t in records if getattr(t, kind) == label)
            units.append(YardUnit(item, members))
        elif item in ids:
            units.append(YardUnit(item, (item,)))
        else:
            import difflib

            close = difflib.get_close_matches(item, ids, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            message = f"unknown technology{hint}; see `nswn catalog` for the ids, or use group:NAME / sector:NAME"
            problems.add(where, item, message)
    labels = [u.label for u in units]
    if len(set(labels)) != len(labels):
        problems.add(path, value, "an entry is listed twice")
    return tuple(units)


def _dimension(problems: Problems, space: dict[str, Any], name: str, default: Any) -> Dimension:
    path = f"controls_space.{name}"
    value = space.get(name, default)
    lo, hi = BOUNDS[name]
    kind = "integer" if name in INTEGER else "number"
    allowed = f"{kind} from {lo:g} to {hi:g}"
    if not isinstance(value, dict):
        problems.add(path, value, "must be a mapping: {range: [low, high]} or {value: v}")
        return Dimension(name, fixed=True, value=default.get("value"))
    keys = ("range", "value", "per") if name == "fence" else ("range", "value")
    for k in value:
        if k not in keys:
            problems.unknown(f"{path}.{k}", keys)
    if ("range" in value) == ("value" in value):
        problems.add(path, value, "give exactly one of range: [low, high] or value: v")
        return Dimension(name, fixed=True, value=None)

    def ok(v: Any) -> bool:
        number = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        return number and lo <= v <= hi and (name not in INTEGER or is_int(v))

    if "value" in value:
        v = value["value"]
        if name == "duration" and v is None:
            return Dimension(name, fixed=True, value=None)  # no expiry
        if not ok(v):
            extra = "; or null for no expiry" if name == "duration" else ""
            problems.add(f"{path}.value", v, f"out of range; allowed: {allowed}{extra}")
        return Dimension(name, fixed=True, value=v)
    rng = value["range"]
    if not isinstance(rng, list) or len(rng) != 2 or not all(ok(v) for v in rng) or rng[0] > rng[1]:
        problems.add(f"{path}.range", rng, f"must be [low, high] with low ≤ high; each an allowed {allowed}")
        return Dimension(name, fixed=True, value=lo)
    return Dimension(name, low=float(rng[0]), high=float(rng[1]))


def _space(problems: Problems, value: Any) -> ControlsSpace | None:
    if value is _NO_VALUE:
        problems.add("controls_space", _NO_VALUE, f"missing: give the control design space ({', '.join(SPACE_KEYS)})")
        return None
    if not isinstance(value, dict):
        problems.add("controls_space", value, f"must be a mapping with keys {', '.join(SPACE_KEYS)}")
        return None
    for k in value:
        if k not in SPACE_KEYS:
            problems.unknown(f"controls_space.{k}", SPACE_KEYS)
    units = _yard_units(problems, value.get("yard", _NO_VALUE))
    fence_raw = value.get("fence", {"range": [0.3, 1.0]})
    per = fence_raw.get("per", "yard") if isinstance(fence_raw, dict) else "yard"
    if per not in ("yard", "technology"):
        problems.add("controls_space.fence.per", per, "allowed: yard (one height) | technology (one per yard entry)")
        per = "yard"
    return ControlsSpace(
        units=units,
        fence_per=str(per),
        fence=_dimension(problems, value, "fence", {"range": [0.3, 1.0]}),
        announcement_year=_dimension(problems, value, "announcement_year", {"value": 2025}),
        effective_lag=_dimension(problems, value, "effective_lag", {"value": 0}),
        coverage=_dimension(problems, value, "coverage", {"value": 1.0}),
        duration=_dimension(problems, value, "duration", {"value": None}),
    )
