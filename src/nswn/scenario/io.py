"""Loading scenario files: safe YAML, ``base:`` inheritance, clear errors.

Every problem becomes one line naming the file, the field path, the bad value and what is
allowed; :class:`ScenarioError` carries them all at once, so a user fixes a file in one go.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import reprlib
import typing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from nswn.scenario.schema import GROWTH_COLUMNS, scenario_model

MAX_BASE_DEPTH = 16
MAX_FILE_BYTES = 1_000_000  # a scenario or design file is a few KB; a MB is already a mistake
MAX_NESTING = 32  # mappings and lists nested deeper than this are refused before validation
MAX_NODES = 100_000  # YAML nodes after expanding aliases ("billion laughs" stops here)
MAX_NAME_CHARS = 255  # a scenario name or path longer than this is refused before touching the disk
SHOWN_CHARS = 60  # at most this much of a bad value is echoed in a message


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


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = SHOWN_CHARS
_REPR.maxother = SHOWN_CHARS
_REPR.maxlong = SHOWN_CHARS
for _attr in ("maxlist", "maxtuple", "maxset", "maxfrozenset", "maxdeque", "maxarray"):
    setattr(_REPR, _attr, 6)
_REPR.maxdict = 4


def _short(value: Any) -> str:
    """A bounded ``repr``: never longer than :data:`SHOWN_CHARS`, cheap for any size of value."""
    text = _REPR.repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def short_text(text: Any, limit: int = SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters (for names and keys echoed in messages)."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def close_match(word: Any, choices: list[str]) -> str | None:
    """The closest of ``choices`` to ``word`` (bounded: long inputs get no suggestion)."""
    text = str(word)
    if len(text) > 100:
        return None
    hint = difflib.get_close_matches(text, choices, n=1)
    return hint[0] if hint else None


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
    if len(text) > 4 * MAX_NAME_CHARS or len(os.path.basename(text)) > MAX_NAME_CHARS or "\0" in text:
        raise ScenarioError(
            [
                Problem(
                    short_text(text),
                    "",
                    _NO_VALUE,
                    f"not a scenario name or file: {len(text)} characters (a file name may have at most "
                    f"{MAX_NAME_CHARS}) or a NUL character",
                )
            ]
        )
    candidate = Path(text)
    if relative_to is not None and not candidate.is_absolute():
        near = relative_to.parent / candidate
        if is_file(near):
            return near
        if is_file(near.with_suffix(".yaml")):
            return near.with_suffix(".yaml")
    if is_file(candidate):
        return candidate
    shipped = shipped_scenarios()
    if text in shipped:
        return shipped[text]
    hint = close_match(text, list(shipped))
    suggestion = f" (did you mean {hint!r}?)" if hint else ""
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


def is_file(path: Path) -> bool:
    """``path.is_file()`` that answers False (not ``OSError``) for names the system refuses."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _read_yaml(path: Path) -> dict[str, Any]:
    data = read_yaml_file(path, "scenario")
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


def read_yaml_file(path: Path, kind: str = "scenario", error: type[ScenarioError] | None = None) -> Any:
    """Read a YAML file safely and within bounds; raise ``error`` (a :class:`ScenarioError`) plainly.

    Refuses files over :data:`MAX_FILE_BYTES`, text that is not UTF-8, duplicate keys (naming
    both lines), nesting deeper than :data:`MAX_NESTING` and aliases that expand beyond
    :data:`MAX_NODES` nodes. Uses libyaml's C parser when PyYAML has it.
    """
    error = error or ScenarioError
    where = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise error(
                [
                    Problem(
                        where,
                        "",
                        _NO_VALUE,
                        f"file of {size:,} bytes; a {kind} file may have at most {MAX_FILE_BYTES:,} bytes",
                    )
                ]
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise error([Problem(where, "", _NO_VALUE, f"cannot read {kind} file: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise error([Problem(where, "", _NO_VALUE, f"a {kind} file may have at most {MAX_FILE_BYTES:,} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error([Problem(where, "", _NO_VALUE, f"not UTF-8 text: a {kind} must be a YAML text file")]) from None
    try:
        return parse_yaml(text)
    except YamlInputError as exc:
        raise error([Problem(where, "", _NO_VALUE, str(exc))]) from None


class YamlInputError(ValueError):
    """YAML text that cannot be (or must not be) loaded; the message says where and why."""


def parse_yaml(text: str) -> Any:
    """Parse YAML text safely: one document, bounded nesting and alias expansion, unique keys.

    Raises
    ------
    YamlInputError
        With the line and column of the problem.
    """

    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node)
        return loader.construct_document(node)
    except YamlInputError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise YamlInputError(f"invalid YAML: {where}{short_text(reason, 200)}") from None
    except RecursionError:
        raise YamlInputError(f"invalid YAML: nested deeper than {MAX_NESTING} levels") from None
    finally:
        loader.dispose()


def _check_size(root: Any) -> None:
    """Refuse node graphs whose alias expansion exceeds :data:`MAX_NODES` (memoised, no expansion)."""

    sizes: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if depth > MAX_NESTING:
            _too_deep(node)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child, depth + 1)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                total += size(key, depth + 1) + size(value, depth + 1)
        if total > MAX_NODES:
            mark = node.start_mark
            raise YamlInputError(
                f"invalid YAML: line {mark.line + 1}: the document expands to more than {MAX_NODES:,} values "
                "(aliases that repeat aliases?)"
            )
        sizes[id(node)] = total
        return total

    size(root, 0)


def _too_deep(node: Any) -> None:
    mark = node.start_mark
    raise YamlInputError(
        f"invalid YAML: line {mark.line + 1}, column {mark.column + 1}: nested deeper than {MAX_NESTING} levels"
    )


def _loader_class() -> type:
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor
    from yaml.resolver import Resolver

    try:
        from yaml.cyaml import CParser as parser  # libyaml: about 10× faster than PyYAML's own parser
    except ImportError:  # PyYAML built without libyaml
        parser = yaml.parser.Parser
    # the Python composer first (it bounds the depth), fed by libyaml's events
    bases: tuple[type, ...] = (Composer, parser, SafeConstructor, Resolver)
    if parser is yaml.parser.Parser:
        bases = (Composer, yaml.reader.Reader, yaml.scanner.Scanner, parser, SafeConstructor, Resolver)

    class BoundedLoader(*bases):  # type: ignore[misc]
        """libyaml's parser, PyYAML's composer with a depth bound, a safe constructor without duplicates."""

        def __init__(self, stream: str) -> None:
            if parser is yaml.parser.Parser:
                yaml.reader.Reader.__init__(self, stream)
                yaml.scanner.Scanner.__init__(self)
                parser.__init__(self)
            else:
                parser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._depth = 0
            self._nodes = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self._depth += 1
            self._nodes += 1
            try:
                if self._depth > MAX_NESTING:
                    _too_deep(self.peek_event())
                if self._nodes > MAX_NODES:
                    mark = self.peek_event().start_mark
                    raise YamlInputError(f"invalid YAML: line {mark.line + 1}: more than {MAX_NODES:,} values")
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                seen: dict[Any, int] = {}
                for key_node, _ in node.value:
                    if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = (key_node.tag, key_node.value)
                    line = key_node.start_mark.line + 1
                    if key in seen:
                        raise YamlInputError(
                            f"invalid YAML: duplicate key {short_text(key_node.value)!r} on lines "
                            f"{seen[key]} and {line} (each key may appear once in a mapping)"
                        )
                    seen[key] = line
            return super().construct_mapping(node, deep=deep)

    return BoundedLoader


class _LazyLoader:
    cls: type | None = None

    def __call__(self, text: str) -> Any:
        if self.cls is None:
            self.cls = _loader_class()
        return self.cls(text)


_BoundedLoader = _LazyLoader()


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
    return _merge_base(path, _read_yaml(path), _seen)


def _merge_base(path: Path, data: dict[str, Any], _seen: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    base = data.get("base")
    if base is None:
        return data
    if not isinstance(base, str):
        raise ScenarioError([Problem(str(path), "base", base, "must be a scenario name or a file path")])
    base_path = resolve_path(base, relative_to=path)
    merged = deep_merge(load_raw(base_path, (*_seen, resolved)), data)
    return merged


def _check_depth(data: Any, file: str) -> None:
    """Refuse Python data nested deeper than :data:`MAX_NESTING` (iteratively: no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, dict | list | tuple):
            continue
        seen += len(value)
        if depth >= MAX_NESTING:
            raise ScenarioError([Problem(file, "", _NO_VALUE, f"values nested deeper than {MAX_NESTING} levels")])
        if seen > MAX_NODES:
            raise ScenarioError([Problem(file, "", _NO_VALUE, f"more than {MAX_NODES:,} values")])
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children)


def validate(data: dict[str, Any], file: str) -> BaseModel:
    """Validate merged scenario data; raise :class:`ScenarioError` with every problem.

    A ``schedule`` is checked year by year: each year's scenario (the base with every change up
    to that year) must itself be valid, and change years must come after the start year
    (years after the end are not used).
    """
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem(file, "", _NO_VALUE, f"a scenario must be a mapping of keys to values, not {type(data).__name__}")]
        )
    _check_depth(data, file)
    try:
        scenario = scenario_model().model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([_problem(file, error) for error in exc.errors()]) from None
    problems: list[Problem] = []
    for year, changes in (getattr(scenario, "schedule", None) or {}).items():
        for key in changes:
            if key not in ("levers", "assumptions", "catalog"):
                problems.append(
                    Problem(
                        file,
                        f"schedule.{year}.{key}",
                        _NO_VALUE,
                        "a schedule changes only levers, assumptions and catalog growth rates",
                    )
                )
        problems += _scheduled_catalog_problems(file, year, changes.get("catalog"))
        if isinstance(changes.get("levers"), dict) and "priorities" in changes["levers"]:
            problems.append(
                Problem(
                    file,
                    f"schedule.{year}.levers.priorities",
                    _NO_VALUE,
                    "priority modes cannot change by year (they are chosen on the start state)",
                )
            )
    seen: set[tuple[str, str, str]] = set()  # a bad value carried into later change years is reported once
    for year, data_then in scheduled_data(scenario):
        start = scenario.years.start  # type: ignore[attr-defined]
        if year <= start:
            problems.append(Problem(file, f"schedule.{year}", year, f"change year must be after the start ({start})"))
            continue
        try:  # every change year, also those after the end (a shorter run must not hide a bad value)
            scenario_model().model_validate(data_then)
        except ValidationError as exc:
            for error in exc.errors():
                problem = _problem(file, error)
                key = (problem.path, repr(problem.value), problem.message)
                if key not in seen:
                    seen.add(key)
                    problems.append(Problem(file, f"schedule.{year}.{problem.path}", problem.value, problem.message))
    if problems:
        raise ScenarioError(problems)
    return scenario


def _scheduled_catalog_problems(file: str, year: int, changes: Any) -> list[Problem]:
    """A schedule's ``catalog`` may change only growth rates (``schema.GROWTH_COLUMNS``); start
    values such as ``rel_capability0`` belong to the start state. Technology ids and ranges are
    checked with the whole scenario of that year."""
    if not isinstance(changes, dict):
        return []  # absent, or not a mapping: reported with the whole scenario of that year
    where = f"schedule.{year}.catalog"
    problems = []
    for tech, columns in changes.items():
        if not isinstance(columns, dict):
            continue  # reported with the whole scenario of that year
        for column in columns:
            if column not in GROWTH_COLUMNS:
                problems.append(
                    Problem(
                        file,
                        f"{where}.{tech}.{column}",
                        columns[column] if isinstance(columns[column], int | float | str) else _NO_VALUE,
                        f"only growth rates change by year; allowed: {', '.join(GROWTH_COLUMNS)} "
                        "(start values go in the top-level catalog)",
                    )
                )
    return problems


def scheduled_data(scenario: BaseModel) -> list[tuple[int, dict[str, Any]]]:
    """``(year, scenario data in force from that year)`` for every change year, in order.

    Each year's data is the scenario without its schedule, with the changes of that year and
    all earlier change years merged in (``levers``, ``assumptions`` and ``catalog`` growth rates).
    """
    data = scenario.model_dump(mode="json")
    schedule = data.pop("schedule", {}) or {}
    out = []
    current = data
    for year in sorted(schedule, key=int):
        changes = {key: value for key, value in schedule[year].items()}
        if isinstance(changes.get("catalog"), dict):  # start values are refused by validate(), once
            changes["catalog"] = {
                tech: {c: v for c, v in cols.items() if c in GROWTH_COLUMNS} if isinstance(cols, dict) else cols
                for tech, cols in changes["catalog"].items()
            }
        current = deep_merge(current, changes)
        out.append((int(year), current))
    return out


def _problem(file: str, error: Any) -> Problem:
    loc = tuple(error["loc"])
    path = ".".join(short_text(part, 40) for part in loc)
    kind = error["type"]
    value = error.get("input", _NO_VALUE)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = close_match(loc[-1], allowed)
        suggestion = f" (did you mean {hint!r}?)" if hint else ""
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


def _is_integer(annotation: Any) -> bool:
    """Whether a field's annotation is an integer (``int``, ``StrictInt``, optional or not)."""
    import typing

    if annotation is int:
        return True
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_integer(typing.get_args(annotation)[0])
    args = typing.get_args(annotation)
    return bool(args) and all(_is_integer(a) or a is type(None) for a in args) and any(_is_integer(a) for a in args)


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
    kind = "integer " if _is_integer(info.annotation) else ""
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
    # no catalog override, no change: scenarios without one keep their hashes
    if not content.get("catalog"):
        content.pop("catalog", None)
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def load(name_or_path: str | Path) -> BaseModel:
    """Load and validate a scenario by shipped name or path (raises :class:`ScenarioError`)."""
    path = resolve_path(name_or_path)
    own = _read_yaml(path)
    data = _merge_base(path, dict(own), ())
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
    if not isinstance(data, dict):
        raise ScenarioError(
            [
                Problem(
                    source, "", _NO_VALUE, f"a scenario must be a mapping of keys to values, not {type(data).__name__}"
                )
            ]
        )
    _check_depth(data, source)
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
