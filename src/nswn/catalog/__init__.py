"""The catalog: technologies, provinces and macro starting values shipped with nswn.

The CSV files beside this module are built from ``shared/data`` (the 35 stranglehold
technologies, the future-industries plan, megaprojects, macro facts) plus judged values,
each labelled ``sourced`` or ``judged`` with a one-line rationale. Loaders return typed,
immutable records and fail with a message naming the file, row and column.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from typing import Any

GROUPS = ("stranglehold", "bottleneck", "competitive_advantage", "future", "traditional")
OWNER_TYPES = (
    "military_research",
    "think_tank",
    "soe",
    "private_champion",
    "new_rd_institute",
    "none",
)


class CatalogError(ValueError):
    """A catalog file is malformed (names the file, row and column)."""


@dataclass(frozen=True)
class Technology:
    """One technology area (model.md §5)."""

    id: str
    name_en: str
    name_zh: str
    group: str
    sector: str
    rel_capability0: float
    emulability: float
    entrepreneurship: float
    science_intensity: float
    frontier_growth: float
    demand0: float
    world_demand0: float
    demand_growth: float
    world_demand_growth: float
    foreign_share0: float
    world_share0: float
    strategic_weight: float
    issue_owner_type: str
    value_added_ratio: float
    margin: float
    identity_source: str
    basis: str
    rationale: str


@dataclass(frozen=True)
class Province:
    """One provincial-level division."""

    id: str
    name_en: str
    name_zh: str
    gdp_2023: float
    gdp_share: float
    pilot_zone_intensity: float
    gdp_source: str
    pilot_basis: str


@dataclass(frozen=True)
class MacroFact:
    """One macro starting value with its source."""

    key: str
    value: float
    unit: str
    basis: str
    source: str
    note: str


# Allowed ranges of numeric technology attributes: (low, high), inclusive.
TECHNOLOGY_RANGES: dict[str, tuple[float, float]] = {
    "rel_capability0": (0.01, 2.0),
    "emulability": (0.0, 1.0),
    "entrepreneurship": (0.0, 1.0),
    "science_intensity": (0.0, 1.0),
    "frontier_growth": (0.0, 0.2),
    "demand0": (0.0, 1e6),
    "world_demand0": (0.0, 1e7),
    "demand_growth": (-0.2, 0.5),
    "world_demand_growth": (-0.2, 0.5),
    "foreign_share0": (0.0, 1.0),
    "world_share0": (0.0, 1.0),
    "strategic_weight": (0.0, 1.0),
    "value_added_ratio": (0.0, 1.0),
    "margin": (0.0, 1.0),
}


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _convert(record_type: type, row: dict[str, str], file: str, line: int) -> Any:
    values: dict[str, Any] = {}
    for f in fields(record_type):
        if f.name not in row or row[f.name] is None:
            raise CatalogError(f"{file}: row {line}: missing column {f.name!r}")
        raw = row[f.name].strip()
        if f.type == "float":
            try:
                values[f.name] = float(raw)
            except ValueError:
                raise CatalogError(f"{file}: row {line}: column {f.name!r}: {raw!r} is not a number") from None
        else:
            values[f.name] = raw
    return record_type(**values)


@cache
def technologies() -> tuple[Technology, ...]:
    """All technologies of the catalog, in file order (validated)."""
    out = []
    seen: set[str] = set()
    for line, row in enumerate(_read("technologies.csv"), start=2):
        tech: Technology = _convert(Technology, row, "technologies.csv", line)
        where = f"technologies.csv: row {line} ({tech.id})"
        if tech.id in seen:
            raise CatalogError(f"{where}: duplicate id")
        seen.add(tech.id)
        if tech.group not in GROUPS:
            raise CatalogError(f"{where}: group {tech.group!r} not in {GROUPS}")
        if tech.issue_owner_type not in OWNER_TYPES:
            raise CatalogError(f"{where}: issue_owner_type {tech.issue_owner_type!r} not in {OWNER_TYPES}")
        if tech.basis not in ("sourced", "judged"):
            raise CatalogError(f"{where}: basis must be 'sourced' or 'judged'")
        for name, (lo, hi) in TECHNOLOGY_RANGES.items():
            value = getattr(tech, name)
            if not lo <= value <= hi:
                raise CatalogError(f"{where}: {name} = {value} outside [{lo}, {hi}]")
        out.append(tech)
    return tuple(out)


@cache
def provinces() -> tuple[Province, ...]:
    """The 31 provinces, with GDP shares summing to 1."""
    out = tuple(
        _convert(Province, row, "provinces.csv", line) for line, row in enumerate(_read("provinces.csv"), start=2)
    )
    total = sum(p.gdp_share for p in out)
    if abs(total - 1.0) > 1e-4:
        raise CatalogError(f"provinces.csv: gdp_share sums to {total:.6f}, not 1")
    return out


@cache
def macro() -> dict[str, MacroFact]:
    """Macro starting values keyed by name."""
    return {
        fact.key: fact
        for fact in (
            _convert(MacroFact, row, "macro.csv", line) for line, row in enumerate(_read("macro.csv"), start=2)
        )
    }


def technology_ids() -> tuple[str, ...]:
    """Ids of every catalog technology."""
    return tuple(t.id for t in technologies())
