"""From a request to a scenario, a scenario file, and the documents the page loads.

A request names a shipped base scenario and dotted parameter paths under ``levers`` and
``assumptions``; :func:`build_scenario` validates them with the same code as a scenario
file, so every problem comes back as a 422 naming its field path.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import yaml

from nswn import __version__
from nswn.serve import controls, schemas
from nswn.serve.schemas import ServiceProblem, Settings, problem

PATH_PATTERN = re.compile(schemas.PATH_PATTERN)
OVERRIDE_SECTIONS = ("levers", "assumptions")
MAX_OVERRIDES = 500


def expand_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """Dotted paths → nested mappings; raise a 422 :class:`ServiceProblem` naming bad paths."""
    problems: list[dict[str, Any]] = []
    nested: dict[str, Any] = {}
    if len(overrides) > MAX_OVERRIDES:
        raise ServiceProblem(
            422,
            [problem(["body", "overrides"], f"at most {MAX_OVERRIDES} overrides (service limit)", "too_long")],
        )
    for key, value in overrides.items():
        loc: list[Any] = ["body", "overrides", key]
        if not PATH_PATTERN.match(key):
            problems.append(problem(loc, "a parameter path is lowercase words joined by dots", "path"))
            continue
        parts = key.split(".")
        if parts[0] not in OVERRIDE_SECTIONS:
            problems.append(
                problem(
                    loc,
                    "overrides may change only levers.* and assumptions.*; "
                    "set the run size with firms, seed, start_year and end_year",
                    "path",
                )
            )
            continue
        node = nested
        clash = False
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                clash = True
                break
            node = child
        if clash or (parts[-1] in node and isinstance(node[parts[-1]], dict) != isinstance(value, dict)):
            problems.append(problem(loc, "this path overlaps another override", "path"))
            continue
        if isinstance(value, dict) and isinstance(node.get(parts[-1]), dict):
            from nswn.scenario.io import deep_merge

            node[parts[-1]] = deep_merge(node[parts[-1]], value)
        else:
            node[parts[-1]] = value
    if problems:
        raise ServiceProblem(422, problems)
    return nested


def _scenario_problem_loc(path: str) -> list[Any]:
    if path.startswith(OVERRIDE_SECTIONS):
        return ["body", "overrides", path]
    if path == "firms":
        return ["body", "firms"]
    if path.startswith("years"):
        return ["body", "end_year" if path.endswith("end") else "start_year"]
    return ["body"] + ([path] if path else [])


def build_scenario(request: Any, settings: Settings) -> Any:
    """Validate a request into a scenario model (raises a 422 :class:`ServiceProblem`)."""
    from nswn import api
    from nswn.scenario import io

    nested = expand_overrides(request.overrides)
    try:
        scenario = io.from_dict({"base": request.base, **nested}, source="request")
        start = request.start_year if request.start_year is not None else scenario.years.start
        start = max(start, settings.min_start_year)
        end = request.end_year if request.end_year is not None else min(scenario.years.end, settings.max_end_year)
        if end <= start:
            raise ServiceProblem(
                422,
                [
                    problem(
                        ["body", "end_year"],
                        f"end_year ({end}) must be after start_year ({start}); "
                        f"the service simulates at most to {settings.max_end_year}",
                        "value_error",
                    )
                ],
            )
        return api.with_overrides(scenario, firms=request.firms, start_year=start, end_year=end)
    except io.ScenarioError as exc:
        raise ServiceProblem(
            422,
            [
                problem(
                    _scenario_problem_loc(p.path),
                    p.message,
                    "scenario",
                    None if p.value is io._NO_VALUE else _jsonable(p.value),
                )
                for p in exc.problems
            ],
        ) from None


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
        return value
    except (TypeError, ValueError):
        return repr(value)


def scenario_yaml(request: Any, scenario: Any, settings: Settings) -> str:
    """A scenario file holding the base and the changed parameters only."""
    nested = expand_overrides(request.overrides)
    body: dict[str, Any] = {
        "name": request.name,
        "description": f"Made on the nswn policy-simulator page from {request.base!r}.",
        "base": request.base,
    }
    for section in OVERRIDE_SECTIONS:
        if section in nested:
            body[section] = nested[section]
    header = [
        f"# nswn {__version__} scenario, made on the policy-simulator page (scenario hash {_hash(scenario)}).",
        "# Reproduce the page's interactive run:",
        f"#   nswn run this-file.yaml --seed {request.seed} --firms {scenario.firms} "
        f"--start-year {scenario.years.start} --end-year {scenario.years.end}",
        "# or run it at the base scenario's own size: nswn run this-file.yaml",
    ]
    return "\n".join(header) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def _hash(scenario: Any) -> str:
    from nswn.scenario.io import scenario_hash

    return scenario_hash(scenario)


@cache
def catalog_json(settings: Settings) -> bytes:
    """:func:`catalog_document` encoded once; bytes cannot be changed by a request."""
    return json.dumps(catalog_document(settings), ensure_ascii=False).encode()


@cache
def scenarios_json() -> bytes:
    """:func:`scenarios_document` encoded once."""
    return json.dumps(scenarios_document(), ensure_ascii=False).encode()


def catalog_document(settings: Settings) -> dict[str, Any]:
    from nswn import catalog
    from nswn.api import resolution_of

    page = resolution_of(settings.page_firms)
    technologies = [
        {"id": t.id, "name_en": t.name_en, "name_zh": t.name_zh, "group": t.group}
        for t in catalog.technologies()
        if t.group != "traditional"
    ]
    return {
        "version": __version__,
        "interactive": {
            "firms": settings.page_firms,
            "seeds": settings.page_seeds,
            **page,
            "resolution_text": f"{page['resolution']:.3f}",
            "max_end_year": settings.max_end_year,
            "cache_size": settings.cache_size,
        },
        "limits": {
            "firms": [100, settings.max_firms],
            "years": [settings.min_start_year, settings.max_end_year],
            "run_seconds": settings.run_seconds,
            "body_bytes": settings.max_body_bytes,
        },
        "groups": controls.group_labels(),
        "funding_lines": controls.funding_labels(),
        "technologies": technologies,
        "parameters": list(controls.parameters()),
        "controls": {k: list(v) for k, v in controls.curated_controls().items()},
        "export_controls_path": controls.EXPORT_CONTROLS_PATH,
    }


def scenarios_document() -> list[dict[str, Any]]:
    from nswn.scenario import io

    out = []
    for name in io.shipped_scenarios():
        try:
            scenario = io.load(name)
        except io.ScenarioError as exc:
            out.append({"name": name, "error": str(exc)})
            continue
        out.append(
            {
                "name": name,
                "description": scenario.description,
                "claim": scenario.claim,
                "hash": io.scenario_hash(scenario),
                "years": [scenario.years.start, scenario.years.end],
                "firms": scenario.firms,
                "values": controls.scenario_values(scenario),
            }
        )
    return out
