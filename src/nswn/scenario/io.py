"""Loading scenario files: safe YAML, ``base:`` inheritance, clear errors.

Every problem becomes one line naming the file, the field path, the bad value and what is
allowed; :class:`ScenarioError` carries them all at once, so a user fixes a file in one go.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import typing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from nswn.scenario.schema import scenario_model

MAX_BASE_DEPTH = 16


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file."""

    file: str
    path: str
    value: Any
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        shown = "" if self.value is _NO_VALUE else f" = {_short(self.value)}"
        return f"{where}{shown}: {self.message}"


_NO_VALUE = object()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ScenarioError(ValueError):
    """A scenario cannot be loaded; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def scenario_dirs() -> list[Path]:
    """Where shipped scenarios live: inside the installed package, else the source tree."""
    dirs = []
    packaged = resources.files("nswn").joinpath("scenarios")
    if packaged.is_dir():
        dirs.append(Path(str(packaged)))
    source = Path(__file__).resolve().parents[3] / "scenarios"
    if source.is_dir():
        dirs.append(source)
    return dirs


def shipped_scenarios() -> dict[str, Path]:
    """Shipped scenario names → files."""
    found: dict[str, Path] = {}
    for directory in reversed(scenario_dirs()):
        for path in sorted(directory.glob("*.yaml")):
            found[path.stem] = path
    return dict(sorted(found.items()))


def resolve_path(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """A scenario name (``baseline``) or a path to a YAML file → an existing file."""
    text = str(name_or_path)
    candidate = Path(text)
    if relative_to is not None and not candidate.is_absolute():
        near = relative_to.parent / candidate
        if near.is_file():
            return near
        if near.with_suffix(".yaml").is_file():
            return near.with_suffix(".yaml")
    if candidate.is_file():
        return candidate
    shipped = shipped_scenarios()
    if text in shipped:
        return shipped[text]
    hint = difflib.get_close_matches(text, list(shipped), n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
    raise ScenarioError(
        [
            Problem(
                text,
                "",
                _NO_VALUE,
                f"no such scenario file or shipped scenario{suggestion}; shipped: {', '.join(shipped)}",
            )
        ]
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(
            [Problem(str(path), "", _NO_VALUE, "not UTF-8 text: a scenario must be a YAML text file")]
        ) from None
    except OSError as exc:
        raise ScenarioError([Problem(str(path), "", _NO_VALUE, f"cannot read file: {exc.strerror}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([Problem(str(path), "", _NO_VALUE, f"invalid YAML: {where}{reason}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(
            [
                Problem(
                    str(path),
                    "",
                    _NO_VALUE,
                    f"a scenario must be a mapping of keys to values, not {type(data).__name__}",
                )
            ]
        )
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``: mappings merge, everything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_raw(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a file and the chain of its ``base:`` scenarios, merged (child wins)."""
    resolved = path.resolve()
    if resolved in _seen:
        chain = " → ".join(p.name for p in (*_seen, resolved))
        raise ScenarioError([Problem(str(path), "base", _NO_VALUE, f"circular base: {chain}")])
    if len(_seen) > MAX_BASE_DEPTH:
        raise ScenarioError([Problem(str(path), "base", _NO_VALUE, f"base chain deeper than {MAX_BASE_DEPTH}")])
    data = _read_yaml(path)
    base = data.get("base")
    if base is None:
        return data
    if not isinstance(base, str):
        raise ScenarioError([Problem(str(path), "base", base, "must be a scenario name or a file path")])
    base_path = resolve_path(base, relative_to=path)
    merged = deep_merge(load_raw(base_path, (*_seen, resolved)), data)
    return merged


def validate(data: dict[str, Any], file: str) -> BaseModel:
    """Validate merged scenario data; raise :class:`ScenarioError` with every problem.

    A ``schedule`` is checked year by year: each year's scenario (the base with every change up
    to that year) must itself be valid, and change years must come after the start year
    (years after the end are not used).
    """
    try:
        scenario = scenario_model().model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([_problem(file, error) for error in exc.errors()]) from None
    problems: list[Problem] = []
    for year, changes in (getattr(scenario, "schedule", None) or {}).items():
        for key in changes:
            if key not in ("levers", "assumptions"):
                problems.append(
                    Problem(file, f"schedule.{year}.{key}", _NO_VALUE, "a schedule changes only levers and assumptions")
                )
        if isinstance(changes.get("levers"), dict) and "priorities" in changes["levers"]:
            problems.append(
                Problem(
                    file,
                    f"schedule.{year}.levers.priorities",
                    _NO_VALUE,
                    "priority modes cannot change by year (they are chosen on the start state)",
                )
            )
    for year, data_then in scheduled_data(scenario):
        start, end = scenario.years.start, scenario.years.end  # type: ignore[attr-defined]
        if year <= start:
            problems.append(Problem(file, f"schedule.{year}", year, f"change year must be after the start ({start})"))
            continue
        if year > end:
            continue  # beyond the simulated years: never used
        try:
            scenario_model().model_validate(data_then)
        except ValidationError as exc:
            for error in exc.errors():
                problem = _problem(file, error)
                problems.append(Problem(file, f"schedule.{year}.{problem.path}", problem.value, problem.message))
    if problems:
        raise ScenarioError(problems)
    return scenario


def scheduled_data(scenario: BaseModel) -> list[tuple[int, dict[str, Any]]]:
    """``(year, scenario data in force from that year)`` for every change year, in order.

    Each year's data is the scenario without its schedule, with the changes of that year and
    all earlier change years merged in (``levers`` and ``assumptions`` only).
    """
    data = scenario.model_dump(mode="json")
    schedule = data.pop("schedule", {}) or {}
    out = []
    current = data
    for year in sorted(schedule, key=int):
        changes = {key: value for key, value in schedule[year].items()}
        current = deep_merge(current, changes)
        out.append((int(year), current))
    return out


def _problem(file: str, error: Any) -> Problem:
    loc = tuple(error["loc"])
    path = ".".join(str(part) for part in loc)
    kind = error["type"]
    value = error.get("input", _NO_VALUE)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        return Problem(file, path, _NO_VALUE, f"unknown key{suggestion}; allowed here: {', '.join(allowed)}")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return Problem(file, path, value, f"out of range; allowed: {_range_text(loc)}")
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind.endswith("_type") or kind.endswith("_parsing"):
        message = f"{message}" + (f"; allowed: {_range_text(loc)}" if _range_text(loc) != "any value" else "")
    if kind == "missing":
        value = _NO_VALUE
    return Problem(
        file,
        path,
        value if value is not _NO_VALUE and not isinstance(value, dict) else _NO_VALUE,
        message,
    )


def _walk(loc: tuple[Any, ...]) -> tuple[type[BaseModel] | None, Any]:
    """Follow ``loc`` through the schema; return (model holding the last key, its FieldInfo)."""
    model: Any = scenario_model()
    info = None
    holder = None
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None, None
        holder = model
        info = model.model_fields[part]
        model = _inner_model(info.annotation)
    return holder, info


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = scenario_model()
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return []
        model = _inner_model(model.model_fields[part].annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _range_text(loc: tuple[Any, ...]) -> str:
    _, info = _walk(loc)
    if info is None:
        return "any value"
    lo = hi = None
    for item in info.metadata:
        lo = getattr(item, "ge", lo)
        hi = getattr(item, "le", hi)
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    unit = f" {extra.get('unit')}" if extra.get("unit") else ""
    kind = "integer " if info.annotation in (int, int | None) else ""
    if lo is not None and hi is not None:
        return f"{kind}from {lo} to {hi}{unit}"
    if lo is not None:
        return f"{kind}at least {lo}{unit}"
    if hi is not None:
        return f"{kind}at most {hi}{unit}"
    return "any value"


def scenario_hash(scenario: BaseModel) -> str:
    """SHA-256 (16 hex digits) of everything that changes results (not name or description)."""
    content = scenario.model_dump(mode="json", exclude={"name", "description", "claim", "base"})
    # instruments that are off do not count, so installing a plug-in changes no existing hash
    instruments = content["levers"]["instruments"]
    content["levers"]["instruments"] = {k: v for k, v in instruments.items() if v is not None}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def load(name_or_path: str | Path) -> BaseModel:
    """Load and validate a scenario by shipped name or path (raises :class:`ScenarioError`)."""
    path = resolve_path(name_or_path)
    own = _read_yaml(path)
    data = load_raw(path)
    _own_identity(data, own, path.stem)
    return validate(data, str(path))


def _own_identity(data: dict[str, Any], own: dict[str, Any], default_name: str) -> None:
    """Name, description and claim belong to the file itself; they are not inherited."""
    data.pop("base", None)
    data["name"] = own.get("name", default_name)
    for key in ("description", "claim"):
        if key in own:
            data[key] = own[key]
        else:
            data.pop(key, None)


def from_dict(data: dict[str, Any], source: str = "<dict>") -> BaseModel:
    """Validate a scenario given as a mapping.

    ``base:`` may only name a *shipped* scenario here (never a path), so callers such as the
    web service cannot make nswn read a file a request names.
    """
    own = dict(data)
    base = own.get("base")
    merged = dict(own)
    if base is not None:
        shipped = shipped_scenarios()
        if not isinstance(base, str) or base not in shipped:
            raise ScenarioError([Problem(source, "base", base, f"must name a shipped scenario: {', '.join(shipped)}")])
        merged = deep_merge(load_raw(shipped[base]), own)
    _own_identity(merged, own, str(own.get("name", base or "custom")))
    return validate(merged, source)
